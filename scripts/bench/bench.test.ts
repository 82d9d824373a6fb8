/** Smoke test of the bench's command line and report (the benchmark itself is never run by `npm test`). */
import { describe, expect, it } from 'vitest';
import { parseWrk } from '../lib.mjs';
import { benchOptions } from './options.mjs';
import { resultsTable, scaleTable, spreadLines } from './report.mjs';

describe('bench options', () => {
  it('defaults: 5 s, 3 rounds, 16 connections, no scale', () => {
    expect(benchOptions([])).toMatchObject({ duration: 5, rounds: 3, connections: 16, scale: false });
  });

  it('--scale takes the sizes, defaulting to the issue’s 100,000 users and 10,000,000 tasks', () => {
    expect(benchOptions(['--scale'])).toMatchObject({ users: 100_000, tasks: 10_000_000, heavyTasks: 50_000 });
    expect(benchOptions(['--scale', '--scale-users', '1000', '--scale-tasks', '100000', '--keep'])).toMatchObject({
      scale: true,
      users: 1000,
      tasks: 100_000,
      keep: true,
    });
  });

  it('refuses sizes that are not whole numbers', () => {
    expect(() => benchOptions(['--scale', '--scale-users', '0'])).toThrow(/--scale-users/);
    expect(() => benchOptions(['--rounds', 'x'])).toThrow(/--rounds/);
    expect(() => benchOptions(['--nope'])).toThrow();
  });
});

describe('bench report', () => {
  const run = (rps: number) => ({ rps, p50: 1, p99: 2, errors: 0, rssMb: 100 });
  const row = {
    scenario: 'GET /api/v1/tasks/ (10 tasks)',
    api: run(700),
    floor: { ...run(1000), errors: 3 },
    minimal: run(1400),
    rounds: [{ api: 700, floor: 1000, minimal: 1400 }],
  };

  it('shows both floors and both ratios on every row', () => {
    const table = resultsTable([row]);
    expect(table).toContain(
      'same-SQL floor req/s | minimal floor req/s | floor errors (same-SQL / minimal) | API / same-SQL | API / minimal',
    );
    // A floor's failed answers are shown: a floor that fails fast would otherwise look fast.
    expect(table).toContain('| 700 | 1.00 | 2.00 | 0 | 100 | 1000 | 1400 | 3 / 0 | 0.70 | 0.50 |');
    expect(spreadLines([row])).toEqual([
      '- GET /api/v1/tasks/ (10 tasks): per round API / same-SQL 0.70; API / minimal 0.50',
    ]);
  });

  it('the growth report compares big and empty and last page with first', () => {
    const timed = (name: string, p99: number) => ({ name, p50: p99 / 2, p99 });
    const markdown = scaleTable({
      stamp: 'now',
      perUser: 100,
      options: { users: 10, tasks: 1000, heavyTasks: 500, samples: 5 },
      measured: {
        heavy: {
          big: [timed('list sort=due, first page', 2), timed('list sort=due, last page (page 5)', 3)],
          empty: [timed('list sort=due, first page', 1), timed('list sort=due, last page (page 5)', 1.5)],
        },
      },
    });
    expect(markdown).toContain('| list sort=due, last page (page 5) | 1.50 | 3.00 | 0.75 | 1.50 | 2.00 |');
    expect(markdown).toContain('- due: x1.50 (p50), x1.50 (p99)');
  });
});

describe('wrk output', () => {
  it('reads rate, latency in ms whatever the unit, and counts non-2xx and socket errors as errors', () => {
    const output = [
      '  Latency Distribution',
      '     50%  850.00us',
      '     99%    1.25s',
      'Requests/sec:   1234.50',
      'Non-2xx or 3xx responses: 3',
      'Socket errors: connect 1, read 2, write 0, timeout 4',
    ].join('\n');
    expect(parseWrk(output)).toEqual({ rps: 1234.5, p50: 0.85, p99: 1250, errors: 10 });
    expect(parseWrk('Requests/sec: 10').errors).toBe(0);
  });
});
