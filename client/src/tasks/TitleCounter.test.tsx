import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { NewTaskForm } from './NewTaskForm';

afterEach(cleanup);

function renderForm() {
  render(
    <QueryClientProvider client={new QueryClient()}>
      <NewTaskForm onAdded={() => {}} />
    </QueryClientProvider>,
  );
  const input = screen.getByRole('textbox', { name: 'New task' }) as HTMLInputElement;
  const live = document.querySelector('[aria-live="polite"]') as HTMLElement;
  const type = (length: number) => fireEvent.change(input, { target: { value: 'x'.repeat(length) } });
  return { input, live, type };
}

describe('the title counter', () => {
  it('appears as the limit nears and speaks only at thresholds', () => {
    const { live, type } = renderForm();
    type(199);
    expect(screen.queryByText(/\/255/)).toBeNull();
    expect(live.textContent).toBe('');
    type(200);
    expect(screen.getByText(/200\/255/)).toBeTruthy();
    expect(live.textContent).toBe('55 characters left in the title.');
    type(210);
    expect(screen.getByText(/210\/255/)).toBeTruthy();
    // No new announcement between thresholds.
    expect(live.textContent).toBe('55 characters left in the title.');
    type(250);
    expect(live.textContent).toBe('5 characters left in the title.');
    // Shortened again: the hidden message does not stay behind, stale.
    type(5);
    expect(live.textContent).toBe('');
  });

  it('keeps the title within 255 characters, counting an emoji as one', () => {
    const { input } = renderForm();
    fireEvent.change(input, { target: { value: '👍'.repeat(300) } });
    expect(Array.from(input.value)).toHaveLength(255);
    expect(screen.getByText(/255\/255/)).toBeTruthy();
  });
});
