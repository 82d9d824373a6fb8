/**
 * Fixture repositories for the auditor, built with real git in temp directories. Every credential is
 * made at run time (random, or split literals), so that this repository's own audit never finds one in
 * its test files.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { renderEnvExample } from '@ironclad/config/docs';
import { STRONG_KEY } from '@ironclad/testkit/accounts';

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Fixture',
      GIT_AUTHOR_EMAIL: 'fixture@example.com',
      GIT_COMMITTER_NAME: 'Fixture',
      GIT_COMMITTER_EMAIL: 'fixture@example.com',
    },
  });
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

const made: string[] = [];
export function tempDir(prefix = 'ironclad-audit-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A repository from a list of commits (each a set of files to write and paths to delete). */
export function makeRepo(commits: { write?: Record<string, string>; remove?: string[] }[]): string {
  const dir = tempDir();
  git(dir, 'init', '-q', '-b', 'main');
  commits.forEach((commit, index) => {
    writeFiles(dir, commit.write ?? {});
    for (const path of commit.remove ?? []) git(dir, 'rm', '-q', path);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '--allow-empty', '-m', `commit ${index + 1}`);
  });
  return dir;
}

/** Base64url with upper, lower and digits guaranteed: high entropy, as a real key is. */
export function randomKey(length = 48): string {
  return `Aa9${randomBytes(length).toString('base64url')}`.slice(0, length);
}

/** A production configuration on PostgreSQL with nothing for any rule to find (the auditor's suites start here). */
export const CLEAN_PRODUCTION: Readonly<Record<string, string>> = {
  SECRET_KEY: STRONG_KEY,
  ALLOWED_HOSTS: 'tasks.example.com',
  CORS_ALLOWED_ORIGINS: 'https://tasks.example.com',
  POSTGRES_DB: 'tasks',
  POSTGRES_USER: 'tasks',
  POSTGRES_PASSWORD: randomKey(32),
  DB_HOST: 'db',
  // nginx's fixed address in docker-compose.yml (a range would be config.trust-proxy.range).
  TRUST_PROXY: '10.89.0.2',
  // Password-reset emails reach people (without SMTP_URL: config.email.disabled), linking to an allowed host.
  PUBLIC_URL: 'https://tasks.example.com',
  SMTP_URL: `smtps://tasks:${randomKey(32)}@smtp.example.com:465`,
};

/** A GitHub classic token's shape (ghp_ + 36 alphanumerics), assembled so no literal one exists here. */
export function fakeGithubToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const body = [...randomBytes(36)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${'gh'}p_${body}`;
}

/** A real (throwaway) RSA key in PEM, made now: secretlint checks that a key block is well formed. */
export function fakePrivateKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  return privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}

export interface BeforeFixture {
  dir: string;
  /** Every secret value the fixture holds, for the "never printed" scans. */
  secrets: string[];
}

/**
 * The seed's "before" state: settings.py with a hard-coded key and database password, compose publishing
 * 5433:5432 and 8000:8000 with a literal POSTGRES_PASSWORD and gunicorn --reload, .gitignore without
 * .env, no .dockerignore, a Dockerfile on python:latest running as root with a secret ARG, a .env
 * committed and then deleted, a tracked server/.env, a private key and a random token in tracked files.
 */
export function seedBeforeRepo(): BeforeFixture {
  const historyKey = randomKey(50);
  const historyToken = fakeGithubToken();
  const dbPassword = `pw${randomKey(20)}`;
  const signing = randomKey(44);
  const settingsKey = `django-insecure-${randomKey(40)}`;
  const trackedEnvKey = randomKey(52);
  const dir = makeRepo([
    {
      write: {
        '.env': `SECRET_KEY=${historyKey}\nGITHUB_TOKEN=${historyToken}\nPOSTGRES_PASSWORD=password\n`,
        '.gitignore': '__pycache__/\n*.pyc\n',
        'server/task_proj/settings.py': [
          'from pathlib import Path',
          `SECRET_KEY = '${settingsKey}'`,
          'DEBUG = True',
          "ALLOWED_HOSTS = ['0.0.0.0', 'localhost', '*']",
          'CORS_ALLOW_ALL_ORIGINS = True',
          'DATABASES = {',
          "    'default': {",
          "        'ENGINE': 'django.db.backends.postgresql',",
          "        'NAME': 'task_db',",
          "        'USER': 'cp_user',",
          `        "PASSWORD": "${dbPassword}",`,
          "        'HOST': 'postgres-container',",
          "        'PORT': '5432'",
          '    }',
          '}',
          '',
        ].join('\n'),
      },
    },
    {
      remove: ['.env'],
      write: {
        'docker-compose.yml': [
          'services:',
          '  db:',
          '    image: postgres:15',
          '    container_name: postgres-container',
          '    environment:',
          '      - POSTGRES_USER=cp_user',
          '      - POSTGRES_PASSWORD=password',
          '      - POSTGRES_DB=task_db',
          '    ports:',
          '      - "5433:5432"',
          '  backend:',
          '    build: ./server',
          '    container_name: django-container',
          '    command: sh -c "gunicorn task_proj.wsgi --bind 0.0.0.0:8000 --reload"',
          '    ports:',
          '      - "8000:8000"',
          '    volumes:',
          '      - ./server:/app',
          '    depends_on:',
          '      - db',
          '',
        ].join('\n'),
        'server/Dockerfile': [
          'FROM python:latest',
          'ARG DB_PASSWORD',
          'WORKDIR /app',
          'COPY . .',
          'RUN pip install -r requirements.txt',
          'CMD ["gunicorn", "task_proj.wsgi", "--bind", "0.0.0.0:8000"]',
          '',
        ].join('\n'),
        'server/.env': `SECRET_KEY=${trackedEnvKey}\n`,
        'deploy/server.pem': fakePrivateKey(),
        'server/task_proj/signing.py': `SIGNING_MATERIAL = "${signing}"\n`,
      },
    },
  ]);
  return { dir, secrets: [historyKey, historyToken, dbPassword, signing, settingsKey, trackedEnvKey] };
}

/** The seed's "after" state done right for this app: nothing for the file audit to report. */
export function cleanRepo(): string {
  return makeRepo([
    {
      write: {
        '.gitignore': '.env\n.env.*\n!.env.example\nnode_modules/\ndist/\n',
        '.dockerignore': '.env\n**/.env\n.git\nnode_modules\n',
        '.env.example': renderEnvExample(),
        'docker-compose.yml': [
          'services:',
          '  db:',
          '    image: postgres:17-alpine',
          '    env_file: .env',
          '  backend:',
          '    build: .',
          '    command: ["node", "dist/main.js"]',
          '    env_file: .env',
          '    environment:',
          `      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}`,
          '      SECRET_KEY_FILE: /run/secrets/secret_key',
          '  frontend:',
          '    image: nginx:1.27-alpine',
          '    ports:',
          '      - "80:8080"',
          '      - "443:8443"',
          '',
        ].join('\n'),
        Dockerfile: [
          'FROM node:20.19-bookworm-slim AS build',
          'WORKDIR /app',
          'COPY . .',
          'RUN npm ci && npm run build',
          'FROM node:20.19-bookworm-slim',
          'ENV NODE_ENV=production',
          'COPY --from=build /app/dist /app/dist',
          'USER node',
          'CMD ["node", "/app/dist/main.js"]',
          '',
        ].join('\n'),
        'src/main.js': "const key = process.env.SECRET_KEY;\nconsole.log(key ? 'configured' : 'missing');\n",
      },
    },
  ]);
}
