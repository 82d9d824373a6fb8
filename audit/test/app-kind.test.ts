/**
 * The auditor audits Ironclad deployments and other applications (a Django or Node app) for the same classes of
 * fault; this project's own defaults and schema must not raise findings on the others (a clean Django repository got
 * two warnings from them before).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { detectAppKind } from '../src/app-kind.js';
import { parseAuditArgs, runAudit, UsageError } from '../src/run.js';
import { cleanRepo, makeRepo, randomKey, removeTempDirs, writeFiles } from './fixtures.js';

afterAll(removeTempDirs);

const DJANGO_SETTINGS = [
  'import os',
  "DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'",
  "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']",
  "ALLOWED_HOSTS = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')",
  '',
].join('\n');

function djangoRepo(dotEnv: string): string {
  const dir = makeRepo([
    {
      write: {
        'app/settings.py': DJANGO_SETTINGS,
        '.gitignore': '.env\n',
        '.dockerignore': '.env\n.git\n',
        Dockerfile: 'FROM python:3.12-slim\nUSER app\nCMD ["gunicorn", "app.wsgi"]\n',
        '.env.example': 'DEBUG=False\nSECRET_KEY=\nALLOWED_HOSTS=tasks.example.com\n',
      },
    },
  ]);
  writeFiles(dir, { '.env': dotEnv });
  return dir;
}

describe('what the audited directory deploys', () => {
  it('--app takes auto, ironclad or other, and refuses anything else with a usage error', () => {
    expect(parseAuditArgs([]).app).toBe('auto');
    expect(parseAuditArgs(['--app', 'other']).app).toBe('other');
    expect(() => parseAuditArgs(['--app', 'django'])).toThrow(UsageError);
    expect(() => parseAuditArgs(['--app', 'django'])).toThrow(/--app must be one of auto, ironclad, other/);
  });

  it('this checkout is Ironclad; a Django repository is another application', () => {
    expect(detectAppKind(process.cwd(), {}).kind).toBe('ironclad');
    expect(detectAppKind(djangoRepo('DEBUG=False\n'), {}).kind).toBe('other');
  });

  it('an Ironclad-only variable in .env, the environment or compose makes it Ironclad', () => {
    expect(detectAppKind(djangoRepo('TRUST_PROXY=127.0.0.1\n'), {}).kind).toBe('ironclad');
    expect(detectAppKind(djangoRepo(''), { DB_POOL_MODE: 'transaction' }).kind).toBe('ironclad');
    const dir = djangoRepo('');
    writeFiles(dir, { 'docker-compose.yml': 'services:\n  api:\n    image: ghcr.io/acme/ironclad-tasks:1.4\n' });
    expect(detectAppKind(dir, {}).kind).toBe('ironclad');
  });

  it("a clean Django repository gets no finding from Ironclad's defaults or schema", async () => {
    const dir = djangoRepo(`DEBUG=False\nSECRET_KEY=${randomKey(64)}\nALLOWED_HOSTS=tasks.example.com\n`);
    const { report } = await runAudit({ dir, env: {}, skip: ['live'] });
    expect(report.findings.map((f) => f.id)).toEqual([]);
    expect(report.notes.join('\n')).toMatch(/other than Ironclad Tasks/);
  });

  it('what another application does set is still judged by the same rules', async () => {
    const dir = djangoRepo('DEBUG=True\nSECRET_KEY=changeme\nALLOWED_HOSTS=*\n');
    const { report } = await runAudit({ dir, env: {}, skip: ['live'] });
    expect(report.findings.map((f) => f.id).sort()).toEqual(
      ['config.allowed-hosts.wildcard', 'config.debug', 'config.secret-key.weak'].sort(),
    );
  });

  it("another application's env templates are still judged for real secrets, in any folder", async () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)';
    const djangoKey = Array.from(randomBytes(50), (byte) => alphabet[byte % alphabet.length]).join('');
    const dir = djangoRepo(`DEBUG=False\nSECRET_KEY=${randomKey(64)}\nALLOWED_HOSTS=tasks.example.com\n`);
    writeFiles(dir, {
      '.env.example': `DEBUG=False\nDJANGO_SECRET_KEY=${djangoKey}\n`,
      'deploy/prod.env.sample': `POSTGRES_PASSWORD=changeme\nAPI_TOKEN=<your-token>\n`,
      'tests/fixtures/.env.example': `DJANGO_SECRET_KEY=${djangoKey}\n`,
    });
    const { report } = await runAudit({ dir, env: {}, skip: ['live', 'history'] });
    const found = report.findings.filter((f) => f.id === 'files.env-example.real-secret');
    expect(found.map((f) => `${f.severity} ${f.location}`)).toEqual(['critical .env.example:2']);
    expect(JSON.stringify(report)).not.toContain(djangoKey.slice(10, 18));
  });

  it('--app ironclad judges everything, defaults included', async () => {
    const dir = djangoRepo(`DEBUG=False\nSECRET_KEY=${randomKey(64)}\nALLOWED_HOSTS=tasks.example.com\n`);
    const { report } = await runAudit({ dir, env: {}, skip: ['live'], app: 'ironclad' });
    const ids = report.findings.map((f) => f.id);
    expect(ids).toContain('config.cookies.not-secure');
    expect(ids).toContain('files.env-example.incomplete');
  });

  it("this project's clean fixture stays judged as Ironclad", async () => {
    const { report } = await runAudit({ dir: cleanRepo(), env: {}, skip: ['live', 'history'] });
    expect(report.notes.join('\n')).not.toMatch(/other than Ironclad Tasks/);
  });
});
