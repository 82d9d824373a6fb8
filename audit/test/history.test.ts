/**
 * What the history scan covers (every ref, every stash entry, the index; not commits only other reflogs reach), and that whatever it cannot scan is named and raises
 * files.history.incomplete rather than being skipped silently.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { auditFiles } from '@ironclad/audit/file-checks';
import { scanHistory } from '@ironclad/audit/files/history';
import { createScanner } from '@ironclad/audit/secrets-scan';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeGithubToken, git, makeRepo, removeTempDirs, tempDir, writeFiles } from './fixtures.js';

afterAll(removeTempDirs);

const token = () => fakeGithubToken();
const leakIn = async (dir: string) => [
  ...new Set(
    (await auditFiles(dir)).findings
      .filter((f) => f.id.startsWith('files.history.'))
      .map((f) => `${f.id} ${f.location}`),
  ),
];

function base(): string {
  return makeRepo([{ write: { 'README.md': '# app\n', '.gitignore': '.env\n', 'src/app.py': 'print(1)\n' } }]);
}

describe('history scan: every place a blob can be reached from', () => {
  it('a test-mode key deleted since is a warning (files.secret.test-credential), not a critical history leak', async () => {
    const dir = base();
    const testKey = ['sk', 'test', randomBytes(18).toString('base64url').replace(/[-_]/g, 'a')].join('_');
    writeFiles(dir, { 'src/pay.js': `const stripe = require('stripe')('${testKey}');\n` });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'pay');
    writeFiles(dir, { 'src/pay.js': "const stripe = require('stripe')(process.env.STRIPE_KEY);\n" });
    git(dir, 'commit', '-qam', 'from env');
    const found = (await auditFiles(dir)).findings.filter((f) => f.location?.startsWith('src/pay.js@'));
    expect(found.map((f) => `${f.id} ${f.severity}`)).toEqual(['files.secret.test-credential warning']);
  });

  it('an orphan commit under a custom ref (refs/backup/*)', async () => {
    const dir = base();
    git(dir, 'checkout', '-q', '--orphan', 'scratch');
    git(dir, 'rm', '-rqf', '.');
    writeFiles(dir, { 'deploy/creds.txt': `token=${token()}\n` });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'scratch');
    git(dir, 'update-ref', 'refs/backup/old', 'HEAD');
    git(dir, 'checkout', '-qf', 'main');
    git(dir, 'branch', '-D', '-q', 'scratch');
    expect(await leakIn(dir)).toEqual([expect.stringMatching(/^files\.history\.secret deploy\/creds\.txt@/)]);
  });

  it('a commit only a tag reaches', async () => {
    const dir = base();
    writeFiles(dir, { 'release.txt': `token=${token()}\n` });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'release');
    git(dir, 'tag', 'v1');
    git(dir, 'reset', '-q', '--hard', 'HEAD~1');
    git(dir, 'reflog', 'expire', '--expire=now', '--all');
    expect(await leakIn(dir)).toEqual([expect.stringMatching(/^files\.history\.secret release\.txt@/)]);
  });

  it('an older stash entry (stash@{1} lives only in the reflog of refs/stash)', async () => {
    const dir = base();
    writeFiles(dir, { 'src/app.py': `GITHUB = "${token()}"\n` });
    git(dir, 'stash', '-q');
    writeFiles(dir, { 'src/app.py': 'print(2)\n' });
    git(dir, 'stash', '-q');
    expect(await leakIn(dir)).toEqual([expect.stringMatching(/^files\.history\.secret src\/app\.py@/)]);
  });

  it('not a commit amended away before it was shared (only the branch reflog reaches it; as git-secrets, gitleaks)', async () => {
    const dir = base();
    writeFiles(dir, { 'src/app.py': `GITHUB = "${token()}"\n` });
    git(dir, 'commit', '-qam', 'wip');
    writeFiles(dir, { 'src/app.py': 'import os\nGITHUB = os.environ["GITHUB"]\n' });
    git(dir, 'commit', '-q', '--amend', '-am', 'read the token from the environment');
    expect(await leakIn(dir)).toEqual([]);
  });

  it('staged content the work tree has changed since', async () => {
    const dir = base();
    writeFiles(dir, { 'src/app.py': `GITHUB = "${token()}"\n` });
    git(dir, 'add', 'src/app.py');
    writeFiles(dir, { 'src/app.py': 'import os\nGITHUB = os.environ["GITHUB"]\n' });
    expect(await leakIn(dir)).toEqual([expect.stringMatching(/^files\.history\.secret src\/app\.py@/)]);
  });

  it('a clean history with placeholders only: nothing at all', async () => {
    const dir = makeRepo([
      { write: { '.gitignore': '.env\n', 'settings.py': "SECRET_KEY = os.environ['SECRET_KEY']\n" } },
      { write: { 'settings.py': "SECRET_KEY = os.environ.get('SECRET_KEY', '<your-key>')\n", 'logo.png': 'x\0y' } },
    ]);
    expect(await leakIn(dir)).toEqual([]);
  });
});

describe('history scan: what is not scanned is said', () => {
  it('a blob over the size bound is named in a note and raises files.history.incomplete', async () => {
    const dir = makeRepo([
      { write: { 'data/dump.sql': `-- ${randomBytes(3000).toString('hex')}\n` } },
      { remove: ['data/dump.sql'], write: { 'README.md': 'x\n' } },
    ]);
    const scanner = await createScanner();
    const { findings, notes } = await scanHistory(dir, scanner, { fileScanBytes: 1 << 20, maxBlobBytes: 4096 });
    expect(findings.map((f) => `${f.id} ${f.severity}`)).toEqual(['files.history.incomplete warning']);
    expect(notes).toEqual([
      expect.stringMatching(
        /^history blob not scanned: data\/dump\.sql@[0-9a-f]{10} \(6004 bytes, over the 4096 byte bound\)$/,
      ),
    ]);
    const unbounded = await scanHistory(dir, scanner, { fileScanBytes: 1 << 20 });
    expect(unbounded.findings).toEqual([]);
    expect(unbounded.stats.scanned).toBe(1);
  });

  it('a shallow clone says its history is cut', async () => {
    const origin = base();
    writeFiles(origin, { 'src/app.py': 'print(2)\n' });
    git(origin, 'commit', '-qam', 'two');
    const clone = tempDir();
    execFileSync('git', ['clone', '-q', '--depth', '1', `file://${origin}`, clone]);
    const { findings, notes } = await auditFiles(clone);
    expect(findings.filter((f) => f.id === 'files.history.incomplete').map((f) => f.message)).toEqual([
      expect.stringContaining('shallow clone'),
    ]);
    expect(notes.join()).toMatch(/shallow clone/);
  });
});
