/** The built CLI as an operator runs it: `npm run check -- --deploy`, i.e. `node audit/dist/cli.js check --deploy`. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEED_BEFORE_SETTINGS, STRONG_KEY } from '@ironclad/testkit/accounts';
import { builtEntry } from '@ironclad/testkit/build';
import { REPO } from '@ironclad/testkit/gate';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../src/findings.js';
import { CLEAN_PRODUCTION, randomKey, removeTempDirs, seedBeforeRepo } from './fixtures.js';

afterAll(removeTempDirs);

const CLI = builtEntry('audit');

function check(args: string[], env: Record<string, string> = {}, cwd = REPO) {
  const result = spawnSync(process.execPath, [CLI, 'check', '--deploy', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Each secret, and every 4-character window of it: not even a fragment may appear. */
function expectNoSecret(output: string, secrets: string[]): void {
  for (const secret of secrets) {
    expect(output).not.toContain(secret);
    for (let i = 0; i + 4 <= secret.length; i += 1) {
      const piece = secret.slice(i, i + 4);
      // Only fragments random enough not to be ordinary words of the report.
      if (/[0-9]/.test(piece) && /[A-Za-z]/.test(piece)) expect(output, piece).not.toContain(piece);
    }
  }
}

const PRODUCTION = { ...CLEAN_PRODUCTION };

describe('check --deploy', () => {
  const before = seedBeforeRepo();
  const configSecrets = [`Zq7${randomKey(60)}`, `Pw3${randomKey(24)}`];
  const beforeEnv = {
    ...SEED_BEFORE_SETTINGS,
    SECRET_KEY_FALLBACKS: `${configSecrets[0]},changeme`,
    POSTGRES_PASSWORD: configSecrets[1] as string,
    POSTGRES_USER: 'cp_user',
  };

  it('on the before fixture: exit 1, findings in all areas grouped, no secret or fragment of one in text or JSON', () => {
    const text = check(['--dir', before.dir], { ...beforeEnv, NO_COLOR: '' });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^CONFIG \(\d+ findings\)$/m);
    expect(text.stdout).toMatch(/^FILES \(\d+ findings\)$/m);
    expect(text.stdout).toMatch(/FAIL: findings at or above "warning"/);
    // Not a TTY: no ANSI colour.
    expect(text.stdout).not.toContain('\x1b[');
    const json = check(['--dir', before.dir, '--json'], beforeEnv);
    expect(json.code).toBe(1);
    const secrets = [...before.secrets, ...configSecrets, STRONG_KEY];
    expectNoSecret(text.stdout + text.stderr, secrets);
    expectNoSecret(json.stdout + json.stderr, secrets);
  });

  it('--json follows the documented schema', () => {
    const { stdout } = check(['--dir', before.dir, '--json', '--skip', 'history'], beforeEnv);
    const report = JSON.parse(stdout);
    expect(Object.keys(report)).toEqual([
      'schema',
      'ok',
      'failLevel',
      'target',
      'areas',
      'summary',
      'findings',
      'silenced',
      'observatory',
      'notes',
      'durationMs',
    ]);
    expect(report).toMatchObject({
      schema: 'ironclad-audit/1',
      ok: false,
      failLevel: 'warning',
      areas: ['config', 'files'],
    });
    for (const f of report.findings) {
      expect(Object.keys(CHECKS)).toContain(f.id);
      expect(['info', 'warning', 'error', 'critical']).toContain(f.severity);
      expect(f.area).toBe(f.id.split('.')[0]);
      expect(typeof f.message).toBe('string');
      expect(f.fix).toBe(CHECKS[f.id as keyof typeof CHECKS].fix);
    }
    expect(report.summary.critical).toBe(
      report.findings.filter((f: { severity: string }) => f.severity === 'critical').length,
    );
  });

  it('--fail-level and silencing (flag, ID@location, and .ironclad-audit.json) decide the exit code', () => {
    const env = { ...PRODUCTION, DATA_DIR: 'memory://' };
    // Only config: a production configuration passes.
    expect(check(['--dir', before.dir, '--skip', 'files'], env).code).toBe(0);
    const debug = { ...env, DEBUG: 'true' };
    expect(check(['--dir', before.dir, '--skip', 'files'], debug).code).toBe(1);
    expect(
      check(['--dir', before.dir, '--skip', 'files', '--fail-level', 'critical'], { ...env, TRUST_PROXY: 'true' }).code,
    ).toBe(0);
    const silenced = check(['--dir', before.dir, '--skip', 'files', '--silence', 'config.debug', '--json'], debug);
    expect(silenced.code).toBe(0);
    expect(JSON.parse(silenced.stdout).silenced.map((f: { id: string }) => f.id)).toEqual(['config.debug']);

    writeFileSync(
      join(before.dir, '.ironclad-audit.json'),
      JSON.stringify({
        silence: [{ id: 'config.debug', reason: 'staging box behind VPN' }, 'files.secret.entropy@server/task_proj/'],
      }),
    );
    const fromFile = check(['--dir', before.dir, '--json', '--skip', 'history'], debug);
    const report = JSON.parse(fromFile.stdout);
    expect(report.silenced.map((f: { id: string }) => f.id).sort()).toEqual(['config.debug', 'files.secret.entropy']);
    expect(report.findings.map((f: { id: string }) => f.id)).not.toContain('config.debug');
    writeFileSync(join(before.dir, '.ironclad-audit.json'), '{"silence": "nope"}');
    expect(check(['--dir', before.dir], env).code).toBe(2);
    writeFileSync(join(before.dir, '.ironclad-audit.json'), '{"silence": []}');
  });

  it('bad arguments exit 2 with the usage', () => {
    const bad = check(['--fail-level', 'loud']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--fail-level must be one of/);
    expect(check(['--url', 'ftp://x']).code).toBe(2);
    expect(check(['--bogus']).code).toBe(2);
    const missing = check(['--dir', '/nonexistent/ironclad']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--dir: \/nonexistent\/ironclad is not a directory/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('docs/audit.md documents every check ID with its severity, trigger and fix exactly as CHECKS has them', () => {
    const doc = readFileSync(join(REPO, 'docs/audit.md'), 'utf8');
    const cell = (text: string) => text.replace(/\|/g, '\\|');
    for (const [id, check] of Object.entries(CHECKS)) {
      expect(doc, `${id}: stale, run npm run gen:audit-docs`).toContain(
        `| \`${id}\` | ${check.severity} | ${cell(check.trigger)} | ${cell(check.fix)} |`,
      );
    }
  });

  it('this repository itself comes out clean (files and history; config as it would be deployed)', () => {
    const result = check(['--json'], PRODUCTION);
    const report = JSON.parse(result.stdout);
    expect(report.findings.map((f: { id: string; message: string }) => `${f.id}: ${f.message}`)).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('`npm run check -- --deploy`, the documented command, runs this CLI and passes its arguments and exit code on', () => {
    const result = spawnSync(
      'npm',
      ['run', '--silent', 'check', '--', '--deploy', '--skip', 'live,history', '--json'],
      {
        cwd: REPO,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...PRODUCTION },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.areas).toEqual(['config', 'files']);
    expect(report.findings).toEqual([]);
  }, 120_000);
});
