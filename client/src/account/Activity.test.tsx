import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActivityEvent } from '../api/client';
import { Activity } from './Activity';
import { ACTIVITY } from './queries';

const WINDOWS_FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0';

function events(count: number): ActivityEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    id: count - index,
    kind: index === 0 ? 'login-failed' : 'login',
    at: new Date(Date.UTC(2026, 2, 14, 12, 0) - index * 3_600_000).toISOString(),
    ip: index === 1 ? null : '203.0.113.7',
    user_agent: WINDOWS_FIREFOX,
  }));
}

/** The list as the server gave it, already in the cache: no request is made. */
function renderActivity(list: ActivityEvent[]) {
  const queries = new QueryClient({ defaultOptions: { queries: { staleTime: Number.POSITIVE_INFINITY } } });
  queries.setQueryData(ACTIVITY, list);
  render(
    <QueryClientProvider client={queries}>
      <Activity />
    </QueryClientProvider>,
  );
}

afterEach(cleanup);

describe('recent activity', () => {
  it('says what happened in words, when, from which address and device; failed logins stand out', () => {
    renderActivity(events(2));
    const rows = screen.getAllByRole('listitem');
    expect(rows).toHaveLength(2);
    expect(rows[0]?.textContent).toContain('Failed login attempt');
    expect(rows[0]?.textContent).toContain('203.0.113.7');
    expect(rows[0]?.textContent).toContain('Firefox on Windows');
    expect(rows[0]?.className).toContain('warning');
    expect(rows[0]?.querySelector('time')?.getAttribute('dateTime')).toBe('2026-03-14T12:00:00.000Z');
    expect(rows[1]?.textContent).toContain('Unknown address');
    expect(screen.queryByRole('button', { name: /Show all/ })).toBeNull();
  });

  it('shows the latest ten, then all of them on request, continuing at the first new row', async () => {
    const user = userEvent.setup();
    renderActivity(events(25));
    expect(screen.getAllByRole('listitem')).toHaveLength(10);
    await user.click(screen.getByRole('button', { name: 'Show all 25 events' }));
    expect(screen.getAllByRole('listitem')).toHaveLength(25);
    expect(screen.queryByRole('button', { name: /Show all/ })).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(screen.getAllByRole('listitem')[10]));
  });

  it('says so when nothing is recorded yet', () => {
    renderActivity([]);
    expect(screen.getByText('Nothing recorded yet.')).toBeTruthy();
  });
});
