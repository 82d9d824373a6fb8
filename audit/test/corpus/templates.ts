/**
 * The sound applications the corpus starts from: a Django project and a Node (Express) service, each
 * with compose, a Dockerfile, nginx, ignore files and an `.env.example`, done the careful way; and a deployment of
 * Ironclad Tasks itself from its images. A fault repository is one of these with one thing changed, so that it tests
 * one detection; a clean-but-tricky repository is one of these with something a naive scanner would flag.
 */
import { renderEnvExample } from '@ironclad/config/docs';
import type { SecretGen } from './secrets.js';

/** path -> content; `null` in an override removes the file. */
export type Files = Record<string, string | Uint8Array>;
export type Overrides = Record<string, string | Uint8Array | null>;

export const lines = (...text: string[]): string => `${text.join('\n')}\n`;

export function apply(base: Files, overrides: Overrides): Files {
  const out: Files = { ...base };
  for (const [path, content] of Object.entries(overrides)) {
    if (content === null) delete out[path];
    else out[path] = content;
  }
  return out;
}

export const GITIGNORE_PY = lines(
  '# secrets',
  '.env',
  '.env.*',
  '!.env.example',
  '',
  '__pycache__/',
  '*.py[cod]',
  '.venv/',
  'staticfiles/',
  'media/',
  'db.sqlite3',
);

export const DOCKERIGNORE_PY = lines('.env', '.env.*', '.git', '.gitignore', '__pycache__/', '*.pyc', '.venv/', '*.md');

export const GITIGNORE_NODE = lines('.env', '.env.*', '!.env.example', 'node_modules/', 'dist/', 'coverage/', '*.log');

export const DOCKERIGNORE_NODE = lines('.env', '**/.env', '.git', 'node_modules', 'dist', 'coverage', '*.md');

/** nginx in front of a backend: TLS 1.2+, HSTS, no version, a catch-all default server, dotfiles denied. */
export function nginxConf(upstream: string, domain = 'shop.example.com'): string {
  return lines(
    'server_tokens off;',
    '',
    'server {',
    '    listen 80 default_server;',
    '    server_name _;',
    '    return 444;',
    '}',
    '',
    'server {',
    '    listen 443 ssl default_server;',
    '    server_name _;',
    '    ssl_reject_handshake on;',
    '}',
    '',
    'server {',
    '    listen 80;',
    `    server_name ${domain};`,
    '    return 301 https://$host$request_uri;',
    '}',
    '',
    'server {',
    '    listen 443 ssl;',
    '    http2 on;',
    `    server_name ${domain};`,
    '',
    `    ssl_certificate /etc/letsencrypt/live/${domain}/fullchain.pem;`,
    `    ssl_certificate_key /etc/letsencrypt/live/${domain}/privkey.pem;`,
    '    ssl_protocols TLSv1.2 TLSv1.3;',
    '    ssl_prefer_server_ciphers off;',
    '',
    '    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;',
    '    add_header X-Content-Type-Options nosniff always;',
    '    add_header X-Frame-Options DENY always;',
    '',
    '    location ~ /\\. {',
    '        return 404;',
    '    }',
    '',
    '    location /static/ {',
    '        alias /srv/static/;',
    '    }',
    '',
    '    location / {',
    `        proxy_pass http://${upstream};`,
    '        proxy_set_header Host $host;',
    '        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '        proxy_set_header X-Forwarded-Proto $scheme;',
    '    }',
    '}',
  );
}

// ---------- Django ----------

export const DJANGO_SETTINGS = lines(
  'import os',
  'from pathlib import Path',
  '',
  'BASE_DIR = Path(__file__).resolve().parent.parent',
  '',
  "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']",
  "DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'",
  "ALLOWED_HOSTS = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')",
  '',
  'INSTALLED_APPS = [',
  "    'django.contrib.admin',",
  "    'django.contrib.auth',",
  "    'django.contrib.contenttypes',",
  "    'django.contrib.sessions',",
  "    'django.contrib.messages',",
  "    'django.contrib.staticfiles',",
  "    'corsheaders',",
  "    'rest_framework',",
  "    'shop',",
  ']',
  '',
  'MIDDLEWARE = [',
  "    'django.middleware.security.SecurityMiddleware',",
  "    'corsheaders.middleware.CorsMiddleware',",
  "    'django.contrib.sessions.middleware.SessionMiddleware',",
  "    'django.middleware.common.CommonMiddleware',",
  "    'django.middleware.csrf.CsrfViewMiddleware',",
  "    'django.contrib.auth.middleware.AuthenticationMiddleware',",
  "    'django.contrib.messages.middleware.MessageMiddleware',",
  "    'django.middleware.clickjacking.XFrameOptionsMiddleware',",
  ']',
  '',
  "ROOT_URLCONF = 'shopsite.urls'",
  "WSGI_APPLICATION = 'shopsite.wsgi.application'",
  '',
  'DATABASES = {',
  "    'default': {",
  "        'ENGINE': 'django.db.backends.postgresql',",
  "        'NAME': os.environ.get('POSTGRES_DB', 'shop'),",
  "        'USER': os.environ.get('POSTGRES_USER', 'shop'),",
  "        'PASSWORD': os.environ['POSTGRES_PASSWORD'],",
  "        'HOST': os.environ.get('DB_HOST', 'db'),",
  "        'PORT': os.environ.get('DB_PORT', '5432'),",
  '    }',
  '}',
  '',
  "CORS_ALLOWED_ORIGINS = [o for o in os.environ.get('CORS_ALLOWED_ORIGINS', '').split(',') if o]",
  'CORS_ALLOW_CREDENTIALS = True',
  '',
  "SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')",
  'SESSION_COOKIE_SECURE = True',
  'CSRF_COOKIE_SECURE = True',
  'SECURE_SSL_REDIRECT = True',
  'SECURE_HSTS_SECONDS = 63072000',
  '',
  "STATIC_URL = '/static/'",
  "STATIC_ROOT = BASE_DIR / 'staticfiles'",
  "DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'",
);

/** A sound Django settings module with one line replaced: `from` must occur exactly once. */
export function djangoSettings(replacements: [from: string, to: string][]): string {
  let text = DJANGO_SETTINGS;
  for (const [from, to] of replacements) {
    if (text.split(from).length !== 2) throw new Error(`settings template: "${from}" is not there exactly once`);
    text = text.replace(from, () => to);
  }
  return text;
}

export const DJANGO_COMPOSE = lines(
  'services:',
  '  db:',
  '    image: postgres:16.3-alpine',
  '    env_file: .env',
  '    volumes:',
  '      - pgdata:/var/lib/postgresql/data',
  '    healthcheck:',
  '      test: ["CMD-SHELL", "pg_isready -U $${POSTGRES_USER}"]',
  '      interval: 5s',
  '  web:',
  '    build: .',
  '    command: gunicorn shopsite.wsgi:application --bind 0.0.0.0:8000 --workers 3',
  '    env_file: .env',
  '    expose:',
  '      - "8000"',
  '    depends_on:',
  '      db:',
  '        condition: service_healthy',
  '  nginx:',
  '    image: nginx:1.27.0-alpine',
  '    ports:',
  '      - "80:80"',
  '      - "443:443"',
  '    volumes:',
  '      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro',
  '      - static:/srv/static:ro',
  '      - /etc/letsencrypt:/etc/letsencrypt:ro',
  '    depends_on:',
  '      - web',
  'volumes:',
  '  pgdata:',
  '  static:',
);

export const DJANGO_DOCKERFILE = lines(
  'FROM python:3.12.4-slim-bookworm',
  'ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1',
  'WORKDIR /app',
  'COPY requirements.txt .',
  'RUN pip install --no-cache-dir -r requirements.txt',
  'COPY . .',
  'RUN useradd --system --uid 10001 app && python manage.py collectstatic --noinput',
  'USER app',
  'EXPOSE 8000',
  'CMD ["gunicorn", "shopsite.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]',
);

/** The placeholders an operator replaces; nothing here is a real value. */
export const DJANGO_ENV_EXAMPLE = lines(
  '# Copy to .env and fill in. Never commit .env.',
  'DJANGO_SECRET_KEY=change-me-to-a-long-random-string',
  'DJANGO_DEBUG=False',
  'DJANGO_ALLOWED_HOSTS=shop.example.com',
  'CORS_ALLOWED_ORIGINS=https://shop.example.com',
  'POSTGRES_DB=shop',
  'POSTGRES_USER=shop',
  'POSTGRES_PASSWORD=<your-db-password>',
  'DB_HOST=db',
);

export function djangoApp(overrides: Overrides = {}): Files {
  const base: Files = {
    'manage.py': lines(
      '#!/usr/bin/env python',
      'import os',
      'import sys',
      '',
      "if __name__ == '__main__':",
      "    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shopsite.settings')",
      '    from django.core.management import execute_from_command_line',
      '    execute_from_command_line(sys.argv)',
    ),
    'requirements.txt': lines(
      'Django==5.0.6',
      'djangorestframework==3.15.1',
      'django-cors-headers==4.4.0',
      'gunicorn==22.0.0',
      'psycopg[binary]==3.1.19',
    ),
    'shopsite/__init__.py': '',
    'shopsite/settings.py': DJANGO_SETTINGS,
    'shopsite/urls.py': lines(
      'from django.contrib import admin',
      'from django.urls import include, path',
      '',
      'urlpatterns = [',
      "    path('admin/', admin.site.urls),",
      "    path('api/', include('shop.urls')),",
      ']',
    ),
    'shopsite/wsgi.py': lines(
      'import os',
      'from django.core.wsgi import get_wsgi_application',
      '',
      "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shopsite.settings')",
      'application = get_wsgi_application()',
    ),
    'shop/__init__.py': '',
    'shop/models.py': lines(
      'from django.db import models',
      '',
      '',
      'class Product(models.Model):',
      '    name = models.CharField(max_length=200)',
      '    price_cents = models.PositiveIntegerField()',
    ),
    'shop/urls.py': lines('from django.urls import path', '', 'urlpatterns = []'),
    Dockerfile: DJANGO_DOCKERFILE,
    '.dockerignore': DOCKERIGNORE_PY,
    '.gitignore': GITIGNORE_PY,
    '.env.example': DJANGO_ENV_EXAMPLE,
    'docker-compose.yml': DJANGO_COMPOSE,
    'nginx/default.conf': nginxConf('web:8000'),
    'README.md': lines(
      '# Shop',
      '',
      'A small Django shop. `cp .env.example .env`, fill it in, then `docker compose up -d --build`.',
    ),
  };
  return apply(base, overrides);
}

/** The operator's `.env` on the server: real values, gitignored (written to the checkout, never committed). */
export function djangoEnv(g: SecretGen, overrides: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    DJANGO_SECRET_KEY: g.secret(50, 'django SECRET_KEY'),
    DJANGO_DEBUG: 'False',
    DJANGO_ALLOWED_HOSTS: 'shop.example.com',
    CORS_ALLOWED_ORIGINS: 'https://shop.example.com',
    POSTGRES_DB: 'shop',
    POSTGRES_USER: 'shop',
    POSTGRES_PASSWORD: g.password(),
    DB_HOST: 'db',
    ...overrides,
  };
  return lines(...Object.entries(values).map(([key, value]) => `${key}=${value}`));
}

// ---------- Node ----------

export const EXPRESS_SERVER = lines(
  "import cors from 'cors';",
  "import express from 'express';",
  "import session from 'express-session';",
  "import helmet from 'helmet';",
  "import { router } from './routes.js';",
  '',
  "const origins = (process.env.CORS_ORIGINS ?? '').split(',').filter(Boolean);",
  'const app = express();',
  "app.set('trust proxy', 1);",
  "app.disable('x-powered-by');",
  'app.use(helmet());',
  'app.use(cors({ origin: origins, credentials: true }));',
  'app.use(express.json());',
  'app.use(',
  '  session({',
  '    secret: process.env.SESSION_SECRET,',
  '    resave: false,',
  '    saveUninitialized: false,',
  "    cookie: { secure: true, httpOnly: true, sameSite: 'lax' },",
  '  }),',
  ');',
  "app.use('/api', router);",
  '',
  'const port = Number(process.env.PORT ?? 3000);',
  "app.listen(port, () => console.log('listening on', port));",
);

export const NODE_COMPOSE = lines(
  'services:',
  '  db:',
  '    image: postgres:16.3-alpine',
  '    environment:',
  '      POSTGRES_DB: notes',
  '      POSTGRES_USER: notes',
  `      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD:?set it in .env}`,
  '    volumes:',
  '      - pgdata:/var/lib/postgresql/data',
  '  api:',
  '    build: .',
  '    env_file: .env',
  '    environment:',
  '      NODE_ENV: production',
  `      DATABASE_URL: postgres://notes:\${POSTGRES_PASSWORD}@db:5432/notes`,
  '    expose:',
  '      - "3000"',
  '    depends_on:',
  '      - db',
  '  proxy:',
  '    image: nginx:1.27.0-alpine',
  '    ports:',
  '      - "80:80"',
  '      - "443:443"',
  '    volumes:',
  '      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro',
  '      - /etc/letsencrypt:/etc/letsencrypt:ro',
  '    depends_on:',
  '      - api',
  'volumes:',
  '  pgdata:',
);

export const NODE_DOCKERFILE = lines(
  'FROM node:20.19-bookworm-slim AS build',
  'WORKDIR /app',
  'COPY package.json package-lock.json ./',
  'RUN npm ci',
  'COPY . .',
  'RUN npm run build',
  '',
  'FROM node:20.19-bookworm-slim',
  'ENV NODE_ENV=production',
  'WORKDIR /app',
  'COPY --from=build /app/package.json /app/package-lock.json ./',
  'RUN npm ci --omit=dev',
  'COPY --from=build /app/dist ./dist',
  'USER node',
  'EXPOSE 3000',
  'CMD ["node", "dist/server.js"]',
);

export const NODE_ENV_EXAMPLE = lines(
  '# Copy to .env and fill in.',
  'PORT=3000',
  'CORS_ORIGINS=https://notes.example.com',
  'SESSION_SECRET=',
  'POSTGRES_PASSWORD=changeme',
  'STRIPE_SECRET_KEY=<your-stripe-key>',
);

export function packageJson(framework: 'express' | 'fastify' | 'nest'): string {
  const deps: Record<string, Record<string, string>> = {
    express: { cors: '2.8.5', express: '4.19.2', 'express-session': '1.18.0', helmet: '7.1.0', pg: '8.12.0' },
    fastify: { fastify: '4.28.1', '@fastify/cors': '9.0.1', '@fastify/helmet': '11.1.1', pg: '8.12.0' },
    nest: {
      '@nestjs/common': '10.3.10',
      '@nestjs/core': '10.3.10',
      '@nestjs/platform-express': '10.3.10',
      'reflect-metadata': '0.2.2',
      rxjs: '7.8.1',
    },
  };
  return `${JSON.stringify(
    {
      name: `notes-${framework}`,
      version: '1.4.2',
      private: true,
      type: framework === 'nest' ? 'commonjs' : 'module',
      scripts: { build: 'tsc -p tsconfig.json', start: 'node dist/server.js', dev: 'tsx watch src/server.ts' },
      dependencies: deps[framework],
      devDependencies: { typescript: '5.5.3', tsx: '4.16.2' },
    },
    null,
    2,
  )}\n`;
}

export function nodeApp(overrides: Overrides = {}, framework: 'express' | 'fastify' | 'nest' = 'express'): Files {
  const base: Files = {
    'package.json': packageJson(framework),
    'package-lock.json': `${JSON.stringify({ name: `notes-${framework}`, lockfileVersion: 3, requires: true, packages: {} }, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', outDir: 'dist', strict: true } }, null, 2)}\n`,
    'src/server.ts': EXPRESS_SERVER,
    'src/routes.ts': lines(
      "import { Router } from 'express';",
      '',
      'export const router = Router();',
      "router.get('/health', (_req, res) => res.json({ ok: true }));",
    ),
    Dockerfile: NODE_DOCKERFILE,
    '.dockerignore': DOCKERIGNORE_NODE,
    '.gitignore': GITIGNORE_NODE,
    '.env.example': NODE_ENV_EXAMPLE,
    'docker-compose.yml': NODE_COMPOSE,
    'nginx/default.conf': nginxConf('api:3000', 'notes.example.com'),
    'README.md': lines('# Notes API', '', 'Express + PostgreSQL. Configure `.env` from `.env.example`.'),
  };
  return apply(base, overrides);
}

export function nodeEnv(g: SecretGen, overrides: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    PORT: '3000',
    CORS_ORIGINS: 'https://notes.example.com',
    SESSION_SECRET: g.secret(48, 'session secret'),
    POSTGRES_PASSWORD: g.password(),
    ...overrides,
  };
  return lines(...Object.entries(values).map(([key, value]) => `${key}=${value}`));
}

// ---------- Ironclad Tasks (this project), deployed from its published images ----------

/**
 * A deployment checkout of this server: its compose file (the API and nginx from images, PostgreSQL), the generated
 * `.env.example`, ignore files. The auditor knows it for Ironclad's (app-kind.ts: the images' names, TRUST_PROXY),
 * so the configuration audit judges the operator's `.env` by every rule, unset settings included.
 */
export const IRONCLAD_COMPOSE = lines(
  'services:',
  '  db:',
  '    image: postgres:17.2-alpine',
  '    env_file: .env',
  '    volumes:',
  '      - db-data:/var/lib/postgresql/data',
  '  backend:',
  '    image: ghcr.io/acme/ironclad-tasks-api:1.4.0',
  '    env_file: .env',
  '    environment:',
  '      DEBUG: "false"',
  '      HOST: 0.0.0.0',
  '      DB_HOST: db',
  '      TRUST_PROXY: 10.89.0.2',
  '    read_only: true',
  '    depends_on:',
  '      - db',
  '  frontend:',
  '    image: ghcr.io/acme/ironclad-tasks-web:1.4.0',
  '    environment:',
  `      DOMAIN: \${DOMAIN:?set DOMAIN in .env}`,
  '      API_UPSTREAM: backend:8000',
  '    networks:',
  '      default:',
  '        ipv4_address: 10.89.0.2',
  '    ports:',
  '      - "80:8080"',
  '      - "443:8443"',
  '    volumes:',
  '      - /etc/letsencrypt:/etc/letsencrypt:ro',
  '    depends_on:',
  '      - backend',
  'networks:',
  '  default:',
  '    ipam:',
  '      config:',
  '        - subnet: 10.89.0.0/24',
  '          ip_range: 10.89.0.128/25',
  'volumes:',
  '  db-data:',
);

export function ironcladApp(overrides: Overrides = {}): Files {
  const base: Files = {
    'docker-compose.yml': IRONCLAD_COMPOSE,
    '.env.example': renderEnvExample(),
    '.gitignore': lines('.env', '.env.*', '!.env.example', 'secrets/'),
    'README.md': lines(
      '# Tasks for the team',
      '',
      'Ironclad Tasks from its images: `cp .env.example .env`, fill it in, `docker compose up -d`.',
    ),
  };
  return apply(base, overrides);
}

/** The operator's `.env` for it: production with email; `null` leaves a setting out. */
export function ironcladEnv(g: SecretGen, overrides: Record<string, string | null> = {}): string {
  const values: Record<string, string | null> = {
    SECRET_KEY: g.secret(64, 'SECRET_KEY'),
    ALLOWED_HOSTS: 'tasks.example.com',
    CORS_ALLOWED_ORIGINS: 'https://tasks.example.com',
    POSTGRES_DB: 'tasks',
    POSTGRES_USER: 'tasks',
    POSTGRES_PASSWORD: g.password(),
    DB_HOST: 'db',
    TRUST_PROXY: '10.89.0.2',
    DOMAIN: 'tasks.example.com',
    PUBLIC_URL: 'https://tasks.example.com',
    SMTP_URL: `smtps://tasks:${g.secret(32, 'SMTP password')}@smtp.example.com:465`,
    EMAIL_FROM: 'Tasks <no-reply@tasks.example.com>',
    ...overrides,
  };
  const set = Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== null);
  return lines(...set.map(([key, value]) => `${key}=${value}`));
}
