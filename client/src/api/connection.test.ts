import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionMonitor } from './connection';

describe('the connection monitor', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('goes offline on a failed call, probes until the server answers, then comes back online', async () => {
    let up = false;
    let probes = 0;
    const monitor = new ConnectionMonitor(async () => {
      probes += 1;
      return up;
    }, 2000);
    const seen: string[] = [];
    monitor.subscribe(() => seen.push(monitor.getStatus()));

    monitor.lost();
    monitor.lost();
    expect(monitor.getStatus()).toBe('offline');
    await vi.advanceTimersByTimeAsync(6000);
    expect(probes).toBe(3);
    expect(monitor.getStatus()).toBe('offline');
    up = true;
    await vi.advanceTimersByTimeAsync(2000);
    expect(monitor.getStatus()).toBe('online');
    expect(seen).toEqual(['offline', 'online']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(probes).toBe(4);
  });

  it('comes back at once when any call gets an answer', () => {
    const monitor = new ConnectionMonitor(async () => false, 2000);
    monitor.lost();
    monitor.reached();
    expect(monitor.getStatus()).toBe('online');
  });
});
