/**
 * The history scan on a big, realistic history: 3,000 commits and ~22 MB of distinct content, an AWS key committed at
 * commit 100 and removed at 101 (the case a newest-first cap missed). Every blob is scanned; the time bound is generous
 * (the audit takes a few seconds here) but catches a per-file cost that grows with the files before it (this history
 * took 1:52 to 3:06 when secretlint's profiler was on).
 */
import { auditFiles } from '@ironclad/audit/file-checks';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs } from './fixtures.js';
import { largeHistory } from './large-history.js';

afterAll(removeTempDirs);

describe('history scan of a 3,000-commit, ~22 MB history', () => {
  it('finds the key deleted 2,900 commits ago, scans everything, and takes seconds', async () => {
    const builtAt = performance.now();
    const history = largeHistory();
    const built = performance.now() - builtAt;
    expect(history.historyBytes).toBeGreaterThan(20_000_000);

    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const { findings, notes } = await auditFiles(history.dir);
    const took = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    console.log(
      `large history: ${history.commits} commits, ${(history.historyBytes / 1e6).toFixed(1)} MB of blobs; ` +
        `built in ${(built / 1000).toFixed(1)} s, audited in ${(took / 1000).toFixed(1)} s ` +
        `(this process's CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; git's runs beside it)`,
    );

    const leaks = findings.filter((f) => f.id === 'files.history.secret');
    expect(leaks.length).toBeGreaterThan(0);
    expect(leaks.every((f) => f.severity === 'critical')).toBe(true);
    expect(leaks.some((f) => f.location?.startsWith(`${history.keyPath}@`) && /aws/i.test(f.message))).toBe(true);
    expect(findings.map((f) => f.id)).not.toContain('files.history.incomplete');
    expect(notes).toEqual([]);
    // Never any part of the key in what is printed.
    const printed = JSON.stringify({ findings, notes });
    for (const secret of history.secrets) {
      expect(printed).not.toContain(secret);
      expect(printed).not.toContain(secret.slice(4, 14));
    }
    expect(took).toBeLessThan(30_000);
  }, 120_000);
});
