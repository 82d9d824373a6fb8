import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SEARCH_DEBOUNCE_MS, SearchBox } from './SearchBox';

/** The box inside a screen that keeps the search it is given, as TasksScreen does. */
function Screen({ initial, searches }: { initial: string; searches: string[] }) {
  const [q, setQ] = useState(initial);
  return (
    <SearchBox
      value={q}
      onSearch={(next) => {
        searches.push(next);
        setQ(next);
      }}
    />
  );
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('the search box', () => {
  it('is a labelled search field that searches once typing pauses, trimmed', () => {
    const searches: string[] = [];
    render(<Screen initial="" searches={searches} />);
    const box = screen.getByRole('searchbox', { name: 'Search tasks' });
    fireEvent.change(box, { target: { value: 'c' } });
    act(() => vi.advanceTimersByTime(100));
    fireEvent.change(box, { target: { value: ' cafe ' } });
    act(() => vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS - 1));
    expect(searches).toEqual([]);
    act(() => vi.advanceTimersByTime(1));
    expect(searches).toEqual(['cafe']);
    act(() => vi.advanceTimersByTime(1000));
    expect(searches).toEqual(['cafe']);
  });

  it('Escape clears it at once; an empty box leaves Escape alone', () => {
    const searches: string[] = [];
    render(<Screen initial="milk" searches={searches} />);
    const box = screen.getByRole('searchbox', { name: 'Search tasks' }) as HTMLInputElement;
    expect(box.value).toBe('milk');
    fireEvent.keyDown(box, { key: 'Escape' });
    expect(box.value).toBe('');
    expect(searches).toEqual(['']);
    act(() => vi.advanceTimersByTime(1000));
    expect(searches).toEqual(['']);
    fireEvent.keyDown(box, { key: 'Escape' });
    expect(searches).toEqual(['']);
  });
});
