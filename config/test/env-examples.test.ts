/**
 * The newcomer's path as the README writes it: which example is for what, and the `secret` recipe. Each example is
 * generated from the schema, and each does what its header says when copied to .env as it is.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '@ironclad/testkit/gate';
import { describe, expect, it } from 'vitest';
import { renderEnvExample, renderLocalEnvExample } from '../src/docs.js';
import { inspectConfig } from '../src/load.js';

const read = (name: string) => readFileSync(join(REPO, name), 'utf8');

/** A fresh directory whose .env is a copy of one of the repository's examples, perhaps edited. */
function checkoutWith(example: string, edit: (text: string) => string = (text) => text): string {
  const dir = mkdtempSync(join(tmpdir(), 'ironclad-env-'));
  copyFileSync(join(REPO, example), join(dir, '.env'));
  writeFileSync(join(dir, '.env'), edit(readFileSync(join(dir, '.env'), 'utf8')));
  return dir;
}

describe('.env.local.example (your own machine)', () => {
  it('is exactly what the schema generates', () => {
    expect(read('.env.local.example')).toBe(renderLocalEnvExample());
  });

  it('copied as it is, changes nothing: embedded database, no problem, localhost allowed', () => {
    const { config, problems } = inspectConfig({ cwd: checkoutWith('.env.local.example'), env: {} });
    expect(problems).toEqual([]);
    expect(config.database.kind).toBe('embedded');
    expect(config.values.ALLOWED_HOSTS).toEqual(expect.arrayContaining(['localhost', '127.0.0.1']));
    expect(config.debug).toBe(false);
  });

  it('its PostgreSQL block, uncommented with a key, points at this machine and passes the checks', () => {
    const key = `${'Zq'.repeat(20)}abcdefghij1234567890`;
    const dir = checkoutWith('.env.local.example', (text) =>
      text
        .replace(/^# (POSTGRES_DB|POSTGRES_USER|DB_HOST|DB_PORT)=/gm, '$1=')
        .replace(/^# POSTGRES_PASSWORD=$/m, 'POSTGRES_PASSWORD=a-local-only-password-9f3k')
        .replace(/^# SECRET_KEY=$/m, `SECRET_KEY=${key}`),
    );
    const { config, problems } = inspectConfig({ cwd: dir, env: {} });
    expect(problems).toEqual([]);
    expect(config.database).toMatchObject({ kind: 'postgres', host: '127.0.0.1', database: 'tasks' });
  });
});

describe('.env.example (production)', () => {
  it('is exactly what the schema generates and says it is the production template', () => {
    expect(read('.env.example')).toBe(renderEnvExample());
    expect(read('.env.example').split('\n')[0]).toMatch(/PRODUCTION/);
    expect(read('.env.example')).toContain('.env.local.example');
  });

  it('copied as it is, is refused until the secrets are filled in, and each refusal names its setting', () => {
    const { problems } = inspectConfig({ cwd: checkoutWith('.env.example'), env: {} });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toContain('SECRET_KEY');
    for (const problem of problems) expect(problem).toMatch(/^[A-Z][A-Z0-9_]+[: ]/);
  });
});

describe('`npm run --silent secret` (the README recipe)', () => {
  it('prints one fresh key and nothing else, without building the server or the client', () => {
    const run = () =>
      spawnSync('npm', ['run', '--silent', 'secret'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    const first = run();
    const second = run();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^[A-Za-z0-9_-]{64}\n$/);
    expect(second.stdout).toMatch(/^[A-Za-z0-9_-]{64}\n$/);
    expect(second.stdout).not.toBe(first.stdout);
  }, 120_000);
});
