import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskDescription } from './TaskDescription';

afterEach(cleanup);

describe('long details', () => {
  it('are clamped with a Show more / Show less button that says whether they are expanded', async () => {
    const user = userEvent.setup();
    const text = 'Lorem ipsum dolor sit amet. '.repeat(80);
    render(<TaskDescription title="Read" text={text} />);
    const paragraph = screen.getByText(text.trim(), { normalizer: (s) => s.trim() });
    expect(paragraph.className).toContain('clamped');
    expect(paragraph.getAttribute('dir')).toBe('auto');
    const more = screen.getByRole('button', { name: /^Show more of the details of “\s*Read\s*”$/ });
    expect(more.getAttribute('aria-expanded')).toBe('false');
    expect(more.getAttribute('aria-controls')).toBe(paragraph.id);
    await user.click(more);
    expect(paragraph.className).not.toContain('clamped');
    const less = screen.getByRole('button', { name: /^Show less of the details of “\s*Read\s*”$/ });
    expect(less.getAttribute('aria-expanded')).toBe('true');
    await user.click(less);
    expect(paragraph.className).toContain('clamped');
  });

  it('short details have no button', () => {
    render(<TaskDescription title="Read" text="Chapter two" />);
    expect(screen.queryByRole('button')).toBeNull();
  });
});
