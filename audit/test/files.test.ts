import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEnvExample } from '@ironclad/config/docs';
import { afterAll, describe, expect, it } from 'vitest';
import { auditFiles, dockerIgnores } from '../src/file-checks.js';
import { CHECKS, type CheckId } from '../src/findings.js';
import { looksLikeRandomSecret } from '../src/secrets-scan.js';
import { REPOS } from './corpus/repos.js';
import {
  cleanRepo,
  git,
  makeRepo,
  randomKey,
  removeTempDirs,
  seedBeforeRepo,
  tempDir,
  writeFiles,
} from './fixtures.js';

afterAll(removeTempDirs);

const ids = async (dir: string) => (await auditFiles(dir)).findings.map((f) => f.id);
const FILE_IDS = Object.keys(CHECKS).filter((id) => id.startsWith('files.')) as CheckId[];

describe('file audit', () => {
  const fired = new Set<string>();

  it("reports every matching finding on the seed's before state", async () => {
    const { dir } = seedBeforeRepo();
    const { findings } = await auditFiles(dir);
    const found = new Set(findings.map((f) => f.id));
    for (const id of found) fired.add(id);
    for (const id of [
      'files.compose.db-port',
      'files.compose.backend-port',
      'files.compose.literal-secret',
      'files.reload-mode',
      'files.git.env-tracked',
      'files.git.env-in-history',
      'files.gitignore.env',
      'files.dockerignore.missing',
      'files.env-example.missing',
      'files.dockerfile.root',
      'files.dockerfile.secret-build-arg',
      'files.dockerfile.latest',
      'files.secret.pattern',
      'files.django.secret-key',
      'files.django.database-password',
      'files.django.debug',
      'files.django.allowed-hosts',
      'files.django.cors-all',
      'files.secret.entropy',
      'files.history.secret',
    ]) {
      expect(found, id).toContain(id);
    }
    const where = (id: string) => findings.filter((f) => f.id === id).map((f) => f.location);
    expect(where('files.compose.db-port')).toEqual(['docker-compose.yml:10']);
    expect(where('files.compose.backend-port')).toEqual(['docker-compose.yml:16']);
    expect(where('files.git.env-in-history')).toContain('.env');
    expect(where('files.git.env-tracked')).toEqual(['server/.env']);
    // The settings' key and password are reported once, by the Django check (not again as files.secret.hardcoded).
    expect(where('files.django.secret-key')).toEqual(['server/task_proj/settings.py:2']);
    expect(where('files.django.database-password')).toEqual(['server/task_proj/settings.py:11']);
    expect(where('files.secret.hardcoded')).toEqual([]);
    expect(where('files.secret.pattern')).toEqual(['deploy/server.pem:1']);
    expect(where('files.secret.entropy')).toEqual(['server/task_proj/signing.py:1']);
    // The deleted .env's key and token are found in history, by blob, not in the working tree.
    const history = findings.filter((f) => f.id === 'files.history.secret').map((f) => f.message);
    expect(history.some((m) => m.includes('.env') && m.includes('github'))).toBe(true);
  });

  it('finds a lone AWS access key id (secretlint looks for it only beside its secret), but not AWS’s own example', async () => {
    const key = ['AKIA', '2E0A8F3B244C9986'].join('');
    const dir = makeRepo([
      {
        write: {
          'src/aws.ts': `export const AWS_ACCESS_KEY_ID = "${key}";\n`,
          'docs/aws.md': 'Example: AKIAIOSFODNN7EXAMPLE\n',
        },
      },
    ]);
    const { findings } = await auditFiles(dir, { history: false });
    const secrets = findings.filter((f) => f.id.startsWith('files.secret')).map((f) => `${f.id} ${f.message}`);
    expect(secrets).toEqual(['files.secret.pattern src/aws.ts line 1: aws-access-key-id']);
    expect(JSON.stringify(findings)).not.toContain(key.slice(4, 12));
    for (const f of findings) fired.add(f.id);
  });

  it('a secret-named literal outside framework settings is files.secret.hardcoded', async () => {
    const dir = makeRepo([{ write: { 'src/mailer.py': `SMTP_PASSWORD = "${'pw'}${randomKey(12)}"\n` } }]);
    const { findings } = await auditFiles(dir, { history: false });
    expect(findings.filter((f) => f.id === 'files.secret.hardcoded').map((f) => f.location)).toEqual([
      'src/mailer.py:1',
    ]);
    for (const f of findings) fired.add(f.id);
  });

  it('comes out clean on a repository in the right state', async () => {
    expect(await ids(cleanRepo())).toEqual([]);
  });

  it('reads compose ports in every spelling: loopback-only is info, long syntax and bare ports count', async () => {
    const dir = makeRepo([
      {
        write: {
          'docker-compose.yml': [
            'services:',
            '  postgres:',
            '    image: docker.io/library/postgres:16',
            '    ports: ["127.0.0.1:5432:5432"]',
            '  api:',
            '    image: example/api:1.0',
            '    ports:',
            '      - target: 8000',
            '        published: 8000',
            '  cache:',
            '    image: redis:7',
            '    ports: ["6379"]',
            '  db:',
            '    image: postgres:17',
            '    network_mode: host',
            '  backend:',
            '    image: example/api:1.0',
            '    network_mode: host',
            '',
          ].join('\n'),
        },
      },
    ]);
    const { findings } = await auditFiles(dir, { history: false });
    const ports = findings.filter((f) => f.id.startsWith('files.compose')).map((f) => `${f.id} ${f.message}`);
    expect(ports).toEqual([
      'files.compose.loopback-port service "postgres" publishes "127.0.0.1:5432:5432" on loopback',
      'files.compose.backend-port backend service "api" publishes port "8000:8000"',
      'files.compose.db-port database service "cache" publishes port "6379"',
      'files.compose.db-port database service "db" uses network_mode: host',
      'files.compose.backend-port backend service "backend" uses network_mode: host',
    ]);
    for (const f of findings) fired.add(f.id);
  });

  it('judges .dockerignore by Docker rules: a negation re-includes, `**` reaches subdirectories', async () => {
    expect(dockerIgnores('.env\n.git\n', '.env')).toBe(true);
    expect(dockerIgnores('*\n!.env\n', '.env')).toBe(false);
    expect(dockerIgnores('**/.env\n', '.env')).toBe(true);
    expect(dockerIgnores('.git/\n', '.git')).toBe(true);
    expect(dockerIgnores('.gitignore\n', '.git')).toBe(false);
    const dir = makeRepo([
      {
        write: {
          '.gitignore': '.env\n',
          '.dockerignore': 'node_modules\n.gitignore\n',
          Dockerfile: 'FROM node:20.19-slim\nUSER node\n',
        },
      },
    ]);
    const found = await ids(dir);
    expect(found).toContain('files.dockerignore.env');
    expect(found).toContain('files.dockerignore.git');
    for (const id of found) fired.add(id);
  });

  it('checks .env.example against the schema and for real-looking secrets', async () => {
    const complete = renderEnvExample();
    const dir = makeRepo([
      {
        write: {
          '.gitignore': '.env\n',
          '.env.example': `SECRET_KEY=${randomKey(64)}\nDEBUG=false\nPOSTGRES_PASSWORD=change-me\n`,
        },
      },
    ]);
    const { findings } = await auditFiles(dir, { history: false });
    const example = findings.filter((f) => f.id.startsWith('files.env-example'));
    expect(example.map((f) => f.id)).toEqual(['files.env-example.incomplete', 'files.env-example.real-secret']);
    expect(example[0]?.message).toMatch(/SECRET_KEY_FALLBACKS, ALLOWED_HOSTS/);
    expect(example[1]?.location).toBe('.env.example:1');
    for (const f of findings) fired.add(f.id);

    // The generated file with placeholders, and a commented DATABASE_URL with a placeholder password, pass.
    writeFileSync(join(dir, '.env.example'), complete);
    expect((await ids(dir)).filter((id) => id.startsWith('files.env-example'))).toEqual([]);
  });

  it('uses git check-ignore: a .gitignore that ignores .env through a glob passes', async () => {
    const dir = makeRepo([{ write: { '.gitignore': '.env*\n!.env.example\n' } }]);
    expect(await ids(dir)).not.toContain('files.gitignore.env');
  });

  it('a directory that is not a repository is still audited file by file', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      '.gitignore': 'node_modules\n',
      Dockerfile: 'FROM node\n',
      '.env': `SECRET_KEY=${randomKey()}\n`,
    });
    const { findings, notes } = await auditFiles(dir);
    expect(findings.map((f) => f.id)).toEqual(
      expect.arrayContaining(['files.dockerfile.latest', 'files.dockerfile.root', 'files.gitignore.env']),
    );
    // An untracked .env beside the code is where secrets belong: its content is not a finding.
    expect(findings.map((f) => f.id)).not.toContain('files.secret.entropy');
    expect(notes.join()).toMatch(/not the top of a git repository/);
  });

  it('follows Dockerfile stages: USER set in a named stage carries over, a later USER root does not pass', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'a/Dockerfile': 'FROM node:20.19-slim AS base\nUSER node\nFROM base\nCMD ["node", "x.js"]\n',
      'b/Dockerfile': 'FROM node:20.19-slim\nUSER node\nRUN true\nUSER root\n',
      'c/Dockerfile': 'FROM node@sha256:abc\nENV API_TOKEN_FILE=/run/secrets/t NODE_ENV=production\nUSER 1000\n',
    });
    const { findings } = await auditFiles(dir);
    const docker = findings.filter((f) => f.id.startsWith('files.dockerfile')).map((f) => `${f.id} ${f.location}`);
    expect(docker).toEqual(['files.dockerfile.root b/Dockerfile']);
  });

  it('the entropy heuristic leaves integrity hashes, hex digests and identifiers alone', () => {
    expect(looksLikeRandomSecret(randomKey(40), '= ')).toBe(true);
    expect(looksLikeRandomSecret(randomKey(40), 'sha512-')).toBe(false);
    expect(looksLikeRandomSecret('0123456789abcdef0123456789abcdef01234567', '')).toBe(false);
    expect(looksLikeRandomSecret('thisIsAVeryLongCamelCaseIdentifierName1', '')).toBe(false);
  });

  it('compose container escapes and development files (audit/test/compose.test.ts has the variants)', async () => {
    const dir = makeRepo([
      {
        write: {
          'deploy/compose.yaml': [
            'services:',
            '  agent:',
            '    image: example/agent:1.2',
            '    privileged: true',
            '    pid: host',
            '    cap_add: [SYS_ADMIN]',
            '    volumes: ["/var/run/docker.sock:/var/run/docker.sock"]',
            '',
          ].join('\n'),
          'docker-compose.dev.yml': 'services:\n  db:\n    image: postgres:16\n    ports: ["5432:5432"]\n',
        },
      },
    ]);
    const { findings } = await auditFiles(dir, { history: false });
    const found = findings.map((f) => `${f.id} ${f.location}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'files.container.privileged deploy/compose.yaml:4',
        'files.container.host-namespace deploy/compose.yaml:5',
        'files.container.capabilities deploy/compose.yaml:6',
        'files.container.docker-socket deploy/compose.yaml:7',
        'files.compose.development docker-compose.dev.yml',
      ]),
    );
    for (const f of findings) fired.add(f.id);
  });

  // The topic suites (compose, frameworks, nginx, secrets, history) and the corpus fire the rest: an ID must fire
  // here, be a corpus fault's expected check, or be asserted by name in another suite of this folder.
  it('every file check ID fires on some fixture: here, in the corpus, or asserted in a topic suite', () => {
    const corpus = new Set(REPOS.flatMap((repo) => (repo.expect ?? []).flatMap((e) => [e.id].flat())));
    const suites = readdirSync(import.meta.dirname)
      .filter((name) => name.endsWith('.test.ts') && name !== 'files.test.ts')
      .map((name) => readFileSync(join(import.meta.dirname, name), 'utf8'))
      .join('\n');
    const unfired = FILE_IDS.filter((id) => !fired.has(id) && !corpus.has(id) && !suites.includes(id));
    expect(unfired).toEqual([]);
  });
});

describe('git history scan', () => {
  it('finds a token that only ever existed in an old commit of another branch', async () => {
    const dir = makeRepo([{ write: { 'README.txt': 'hello\n', '.gitignore': '.env\n' } }]);
    git(dir, 'checkout', '-q', '-b', 'experiment');
    writeFiles(dir, { 'notes.txt': `token: ${['gh', 'p_'].join('')}${randomKey(36).replace(/[-_]/g, 'x')}\n` });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'oops');
    git(dir, 'rm', '-q', 'notes.txt');
    git(dir, 'commit', '-qm', 'remove');
    git(dir, 'checkout', '-q', 'main');
    const { findings } = await auditFiles(dir);
    expect(findings.map((f) => f.id)).toContain('files.history.secret');
    expect((await auditFiles(dir, { history: false })).findings.map((f) => f.id)).not.toContain('files.history.secret');
  });
});
