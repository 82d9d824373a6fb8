/**
 * The corpus: realistic Django and Node repositories, each a fault repository with one planted fault
 * (plus the seed lesson's project with all of its own) or a clean one that a naive scanner would flag.
 * Data only; generate.ts writes them, score.ts audits them. Every credential comes from the seeded
 * generator `g` at generation time (secrets.ts): none is written here.
 */
import type { Expectation, HistoryStep, RepoSpec } from './generate.js';
import { PUBLIC_EXAMPLES, type SecretGen } from './secrets.js';
import {
  DJANGO_COMPOSE,
  DJANGO_DOCKERFILE,
  DJANGO_SETTINGS,
  djangoApp,
  djangoEnv,
  djangoSettings,
  EXPRESS_SERVER,
  type Files,
  IRONCLAD_COMPOSE,
  ironcladApp,
  ironcladEnv,
  lines,
  NODE_COMPOSE,
  nginxConf,
  nodeApp,
  nodeEnv,
  type Overrides,
} from './templates.js';

// ---------- builders ----------

const SETTINGS = 'shopsite/settings.py';
const COMPOSE = 'docker-compose.yml';
const WEB_COMMAND = '    command: gunicorn shopsite.wsgi:application --bind 0.0.0.0:8000 --workers 3\n';
const API_ENV = '      NODE_ENV: production\n';

/** `text` with `insertion` after the one occurrence of `marker` (a template must change where it is meant to). */
function after(text: string, marker: string, insertion: string): string {
  if (text.split(marker).length !== 2) throw new Error(`corpus template: "${marker.trim()}" is not there exactly once`);
  return text.replace(marker, marker + insertion);
}
function replaced(text: string, from: string, to: string): string {
  if (text.split(from).length !== 2) throw new Error(`corpus template: "${from.trim()}" is not there exactly once`);
  return text.replace(from, () => to);
}
/** The Django compose with more services before the top-level volumes. */
const djangoComposeWith = (services: string): string => after(DJANGO_COMPOSE, '      - web\n', services);
const nodeComposeWith = (services: string): string => after(NODE_COMPOSE, '      - api\n', services);

interface Extra {
  untracked?: (g: SecretGen) => Files;
  history?: (g: SecretGen) => HistoryStep[];
}

function django(
  name: string,
  about: string,
  overrides: (g: SecretGen) => Overrides,
  expect?: Expectation[],
  extra: Extra = {},
): RepoSpec {
  return {
    name,
    kind: expect ? 'fault' : 'clean',
    about,
    files: (g) => djangoApp(overrides(g)),
    untracked: extra.untracked ?? ((g) => ({ '.env': djangoEnv(g) })),
    ...(extra.history ? { history: extra.history } : {}),
    ...(expect ? { expect } : {}),
  };
}

function node(
  name: string,
  about: string,
  overrides: (g: SecretGen) => Overrides,
  expect?: Expectation[],
  extra: Extra & { framework?: 'express' | 'fastify' | 'nest' } = {},
): RepoSpec {
  return {
    name,
    kind: expect ? 'fault' : 'clean',
    about,
    files: (g) => nodeApp(overrides(g), extra.framework ?? 'express'),
    untracked: extra.untracked ?? ((g) => ({ '.env': nodeEnv(g) })),
    ...(extra.history ? { history: extra.history } : {}),
    ...(expect ? { expect } : {}),
  };
}

const webEnv = (...entries: string[]): string =>
  after(DJANGO_COMPOSE, WEB_COMMAND, `    environment:\n${entries.map((e) => `      ${e}\n`).join('')}`);

// ---------- faults: settings given in compose `environment:` (judged by the settings rules) ----------

const COMPOSE_SETTINGS: RepoSpec[] = [
  django(
    'dj-compose-debug-true',
    'compose sets DEBUG: "true" for the Django service',
    () => ({
      [COMPOSE]: webEnv('DEBUG: "true"'),
    }),
    [{ id: 'config.debug', at: COMPOSE }],
  ),
  django(
    'dj-compose-django-debug',
    'compose sets DJANGO_DEBUG: "True" (list syntax)',
    () => ({
      [COMPOSE]: after(DJANGO_COMPOSE, WEB_COMMAND, '    environment:\n      - DJANGO_DEBUG=True\n'),
    }),
    [{ id: 'config.debug', at: COMPOSE }],
  ),
  django(
    'dj-compose-allowed-hosts-star',
    'compose sets DJANGO_ALLOWED_HOSTS: "*"',
    () => ({
      [COMPOSE]: webEnv('DJANGO_ALLOWED_HOSTS: "*"'),
    }),
    [{ id: 'config.allowed-hosts.wildcard', at: COMPOSE }],
  ),
  node(
    'node-compose-allowed-hosts-star',
    'compose sets ALLOWED_HOSTS: "*" for the API',
    () => ({
      [COMPOSE]: after(NODE_COMPOSE, API_ENV, '      ALLOWED_HOSTS: "*"\n'),
    }),
    [{ id: 'config.allowed-hosts.wildcard', at: COMPOSE }],
  ),
  node(
    'node-compose-cors-star',
    'compose sets CORS_ALLOWED_ORIGINS: "*"',
    () => ({
      [COMPOSE]: after(NODE_COMPOSE, API_ENV, '      CORS_ALLOWED_ORIGINS: "*"\n'),
    }),
    [{ id: 'config.cors.wildcard', at: COMPOSE }],
  ),
  django(
    'dj-compose-cors-allow-all',
    'compose sets CORS_ALLOW_ALL_ORIGINS: "True"',
    () => ({
      [COMPOSE]: webEnv('CORS_ALLOW_ALL_ORIGINS: "True"'),
    }),
    [{ id: 'config.cors.wildcard', at: COMPOSE }],
  ),
  node(
    'node-compose-node-env-development',
    'compose runs the API with NODE_ENV: development',
    () => ({
      [COMPOSE]: replaced(NODE_COMPOSE, API_ENV, '      NODE_ENV: development\n'),
    }),
    [{ id: 'config.debug', at: COMPOSE }],
  ),
  django(
    'dj-deploy-compose-debug',
    'deploy/docker-compose.yml (the production file) sets DEBUG=1',
    () => ({
      [COMPOSE]: null,
      'deploy/docker-compose.yml': replaced(
        replaced(webEnv('DEBUG: "1"'), '    build: .\n', '    build:\n      context: ..\n'),
        './nginx/default.conf',
        '../nginx/default.conf',
      ).replaceAll('env_file: .env', 'env_file: ../.env'),
    }),
    [{ id: 'config.debug', at: 'deploy/docker-compose.yml' }],
  ),
  node(
    'node-compose-prod-yaml',
    'compose.prod.yaml overrides the API with CORS_ALLOWED_ORIGINS "*"',
    () => ({
      [COMPOSE]: null,
      'compose.yaml': NODE_COMPOSE,
      'compose.prod.yaml': lines(
        'services:',
        '  api:',
        '    restart: always',
        '    environment:',
        '      CORS_ALLOWED_ORIGINS: "*"',
        '      LOG_LEVEL: info',
      ),
    }),
    [{ id: 'config.cors.wildcard', at: 'compose.prod.yaml' }],
  ),
  django(
    'dj-env-file-prod-debug',
    'compose reads env_file: deploy/prod.env (on the server, gitignored) which turns DJANGO_DEBUG on',
    () => ({
      [COMPOSE]: replaced(
        DJANGO_COMPOSE,
        `${WEB_COMMAND}    env_file: .env\n`,
        `${WEB_COMMAND}    env_file: deploy/prod.env\n`,
      ),
      '.gitignore': lines('.env', '.env.*', '!.env.example', 'deploy/*.env', '__pycache__/', '*.py[cod]', '.venv/'),
      '.dockerignore': lines('.env', '.env.*', 'deploy/', '.git', '__pycache__/', '*.pyc'),
    }),
    [{ id: 'config.debug' }],
    {
      untracked: (g) => ({
        '.env': djangoEnv(g),
        'deploy/prod.env': djangoEnv(g, { DJANGO_DEBUG: 'True' }),
      }),
    },
  ),
];

// ---------- faults: datastores publishing ports ----------

const dbPort = (name: string, about: string, compose: string, at = COMPOSE): RepoSpec =>
  django(name, about, () => ({ [COMPOSE]: compose }), [{ id: 'files.compose.db-port', at }]);

const DB_PORTS: RepoSpec[] = [
  dbPort(
    'dj-bitnami-postgresql-port',
    'bitnami/postgresql service "store" publishes 5432',
    djangoComposeWith(
      lines(
        '  store:',
        '    image: bitnami/postgresql:16.3.0',
        '    environment:',
        `      POSTGRESQL_PASSWORD: \${POSTGRESQL_PASSWORD}`,
        '    ports:',
        '      - "5432:5432"',
      ),
    ),
  ),
  dbPort(
    'dj-mysql-port',
    'mysql service "mysqldb" publishes 3306',
    djangoComposeWith(
      lines(
        '  mysqldb:',
        '    image: mysql:8.4.0',
        '    environment:',
        `      MYSQL_ROOT_PASSWORD: \${MYSQL_ROOT_PASSWORD}`,
        '    ports:',
        '      - 3306:3306',
      ),
    ),
  ),
  dbPort(
    'dj-mariadb-port',
    'mariadb service "sql" publishes 3307',
    djangoComposeWith(
      lines('  sql:', '    image: mariadb:11.4.2', '    env_file: .env', '    ports:', '      - "3307:3306"'),
    ),
  ),
  node(
    'node-redis-port',
    'redis service "cache" publishes 6379',
    () => ({
      [COMPOSE]: nodeComposeWith(
        lines('  cache:', '    image: redis:7.2.5-alpine', '    ports:', '      - "6379:6379"'),
      ),
    }),
    [{ id: 'files.compose.db-port', at: COMPOSE }],
  ),
  node(
    'node-mongo-port',
    'mongo service "documents" publishes 27017',
    () => ({
      [COMPOSE]: nodeComposeWith(
        lines(
          '  documents:',
          '    image: mongo:7.0.12',
          '    environment:',
          '      MONGO_INITDB_ROOT_USERNAME: notes',
          `      MONGO_INITDB_ROOT_PASSWORD: \${MONGO_PASSWORD}`,
          '    ports:',
          '      - "27017:27017"',
        ),
      ),
    }),
    [{ id: 'files.compose.db-port', at: COMPOSE }],
  ),
  node(
    'node-elasticsearch-open',
    'elasticsearch with xpack.security.enabled=false publishes 9200',
    () => ({
      [COMPOSE]: nodeComposeWith(
        lines(
          '  search:',
          '    image: docker.elastic.co/elasticsearch/elasticsearch:8.14.1',
          '    environment:',
          '      - discovery.type=single-node',
          '      - xpack.security.enabled=false',
          '      - ES_JAVA_OPTS=-Xms512m -Xmx512m',
          '    ports:',
          '      - "9200:9200"',
        ),
      ),
    }),
    [{ id: 'files.compose.db-port', at: COMPOSE }],
  ),
  node(
    'node-rabbitmq-port',
    'rabbitmq service "queue" publishes AMQP and its management UI',
    () => ({
      [COMPOSE]: nodeComposeWith(
        lines(
          '  queue:',
          '    image: rabbitmq:3.13.3-management-alpine',
          '    ports:',
          '      - "5672:5672"',
          '      - "15672:15672"',
        ),
      ),
    }),
    [{ id: 'files.compose.db-port', at: COMPOSE }],
  ),
  dbPort(
    'dj-dockerio-postgres-port',
    'docker.io/library/postgres service "pg-primary" publishes 5432',
    djangoComposeWith(
      lines(
        '  pg-primary:',
        '    image: docker.io/library/postgres:16.3',
        '    env_file: .env',
        '    ports:',
        '      - "5432:5432"',
      ),
    ),
  ),
  dbPort(
    'dj-ghcr-postgres-port',
    'ghcr.io/acme/postgres service "primary" publishes 5432',
    djangoComposeWith(
      lines(
        '  primary:',
        '    image: ghcr.io/acme/postgres:16-postgis',
        '    env_file: .env',
        '    ports:',
        '      - "15432:5432"',
      ),
    ),
  ),
  node(
    'node-redis-all-interfaces',
    'redis "sessions" publishes 0.0.0.0:6379:6379',
    () => ({
      [COMPOSE]: nodeComposeWith(
        lines(
          '  sessions:',
          '    image: redis:7.2.5-alpine',
          '    command: ["redis-server", "--appendonly", "yes"]',
          '    ports:',
          '      - "0.0.0.0:6379:6379"',
        ),
      ),
    }),
    [{ id: 'files.compose.db-port', at: COMPOSE }],
  ),
  dbPort(
    'dj-long-syntax-port',
    'postgres service "pgsql" publishes 5432 in long syntax',
    djangoComposeWith(
      lines(
        '  pgsql:',
        '    image: postgres:16.3-alpine',
        '    env_file: .env',
        '    ports:',
        '      - target: 5432',
        '        published: 5432',
        '        protocol: tcp',
        '        mode: host',
      ),
    ),
  ),
  django(
    'dj-subfolder-compose-db-port',
    'deploy/docker-compose.yml publishes the database on 5433',
    () => ({
      [COMPOSE]: null,
      'deploy/docker-compose.yml': replaced(
        replaced(
          replaced(
            DJANGO_COMPOSE,
            '    env_file: .env\n    volumes:\n',
            '    env_file: ../.env\n    ports:\n      - "5433:5432"\n    volumes:\n',
          ),
          '    build: .\n',
          '    build:\n      context: ..\n',
        ),
        './nginx/default.conf',
        '../nginx/default.conf',
      ).replaceAll('env_file: .env', 'env_file: ../.env'),
    }),
    [{ id: 'files.compose.db-port', at: 'deploy/docker-compose.yml' }],
  ),
];

// ---------- faults: Django settings ----------

const djSettings = (
  name: string,
  about: string,
  text: (g: SecretGen) => string,
  id: Expectation['id'],
  path = SETTINGS,
) => django(name, about, (g) => ({ [path]: text(g) }), [{ id, at: path }]);

const DJANGO_SETTINGS_FAULTS: RepoSpec[] = [
  djSettings(
    'dj-settings-debug-true',
    'settings.py: DEBUG = True',
    () => djangoSettings([["DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'", 'DEBUG = True']]),
    'files.django.debug',
  ),
  djSettings(
    'dj-settings-allowed-hosts-star',
    "settings.py: ALLOWED_HOSTS = ['*']",
    () => djangoSettings([["ALLOWED_HOSTS = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')", "ALLOWED_HOSTS = ['*']"]]),
    'files.django.allowed-hosts',
  ),
  djSettings(
    'dj-settings-allowed-hosts-env-default',
    "settings.py: ALLOWED_HOSTS defaults to '*' when the environment says nothing",
    () =>
      djangoSettings([
        [
          "ALLOWED_HOSTS = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')",
          "ALLOWED_HOSTS = os.environ.get('DJANGO_ALLOWED_HOSTS', '*').split(',')",
        ],
      ]),
    'files.django.allowed-hosts',
  ),
  djSettings(
    'dj-settings-cors-allow-all',
    'settings.py: CORS_ALLOW_ALL_ORIGINS = True (with credentials)',
    () =>
      djangoSettings([
        [
          "CORS_ALLOWED_ORIGINS = [o for o in os.environ.get('CORS_ALLOWED_ORIGINS', '').split(',') if o]",
          'CORS_ALLOW_ALL_ORIGINS = True',
        ],
      ]),
    'files.django.cors-all',
  ),
  djSettings(
    'dj-settings-cors-origin-allow-all',
    'settings.py: the old CORS_ORIGIN_ALLOW_ALL = True',
    () =>
      djangoSettings([
        [
          "CORS_ALLOWED_ORIGINS = [o for o in os.environ.get('CORS_ALLOWED_ORIGINS', '').split(',') if o]",
          'CORS_ORIGIN_ALLOW_ALL = True',
        ],
      ]),
    'files.django.cors-all',
  ),
  djSettings(
    'dj-settings-cors-regex-all',
    'settings.py: CORS_ALLOWED_ORIGIN_REGEXES matches every origin',
    () =>
      djangoSettings([
        [
          "CORS_ALLOWED_ORIGINS = [o for o in os.environ.get('CORS_ALLOWED_ORIGINS', '').split(',') if o]",
          "CORS_ALLOWED_ORIGIN_REGEXES = [r'^.*$']",
        ],
      ]),
    'files.django.cors-all',
  ),
  djSettings(
    'dj-settings-secret-key-literal',
    "settings.py: SECRET_KEY = 'django-insecure-…' (startproject's key, never replaced)",
    (g) => djangoSettings([["SECRET_KEY = os.environ['DJANGO_SECRET_KEY']", `SECRET_KEY = '${g.djangoKey()}'`]]),
    'files.django.secret-key',
  ),
  djSettings(
    'dj-settings-secret-key-env-default',
    'settings.py: the environment read falls back to a literal key',
    (g) =>
      djangoSettings([
        [
          "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']",
          `SECRET_KEY = os.environ.get('DJANGO_SECRET_KEY', '${g.djangoKey()}')`,
        ],
      ]),
    'files.django.secret-key',
  ),
  djSettings(
    'dj-settings-db-password-literal',
    'settings.py: DATABASES holds a literal password',
    (g) => djangoSettings([["'PASSWORD': os.environ['POSTGRES_PASSWORD'],", `'PASSWORD': '${g.password()}',`]]),
    'files.django.database-password',
  ),
  djSettings(
    'dj-settings-db-password-env-default',
    'settings.py: the database password falls back to a literal',
    (g) =>
      djangoSettings([
        [
          "'PASSWORD': os.environ['POSTGRES_PASSWORD'],",
          `'PASSWORD': os.environ.get('POSTGRES_PASSWORD', '${g.password()}'),`,
        ],
      ]),
    'files.django.database-password',
  ),
  djSettings(
    'dj-settings-debug-default-true',
    "settings.py: DEBUG defaults to 'True' when DJANGO_DEBUG is unset",
    () =>
      djangoSettings([
        [
          "DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'",
          "DEBUG = os.environ.get('DJANGO_DEBUG', 'True') == 'True'",
        ],
      ]),
    'files.django.debug',
  ),
  djSettings(
    'dj-settings-session-cookie-insecure',
    'settings.py: SESSION_COOKIE_SECURE = False',
    () => djangoSettings([['SESSION_COOKIE_SECURE = True', 'SESSION_COOKIE_SECURE = False']]),
    'files.django.insecure-cookie',
  ),
  django(
    'dj-split-settings-prod-debug',
    'split settings: settings/production.py turns DEBUG on',
    () => ({
      [SETTINGS]: null,
      'shopsite/settings/__init__.py': '',
      'shopsite/settings/base.py': djangoSettings([
        ["DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'", 'DEBUG = False'],
      ]),
      'shopsite/settings/production.py': lines(
        'from .base import *  # noqa: F401,F403',
        '',
        'DEBUG = True',
        "ADMINS = [('Ops', 'ops@shop.example.com')]",
      ),
    }),
    [{ id: 'files.django.debug', at: 'shopsite/settings/production.py' }],
  ),
];

// ---------- faults: Node servers ----------

const nodeServer = (
  name: string,
  about: string,
  server: (g: SecretGen) => string,
  id: Expectation['id'],
  framework: 'express' | 'fastify' | 'nest' = 'express',
  path = 'src/server.ts',
) => node(name, about, (g) => ({ 'src/server.ts': null, [path]: server(g) }), [{ id, at: path }], { framework });

const NODE_FAULTS: RepoSpec[] = [
  nodeServer(
    'node-express-cors-origin-true',
    'Express: cors({ origin: true, credentials: true })',
    () =>
      lines(
        "import cors from 'cors';",
        "import express from 'express';",
        "import { router } from './routes.js';",
        '',
        'const app = express();',
        'app.use(',
        '  cors({',
        '    origin: true,',
        '    credentials: true,',
        '  }),',
        ');',
        "app.use('/api', router);",
        'app.listen(Number(process.env.PORT ?? 3000));',
      ),
    'files.node.cors-credentials',
  ),
  nodeServer(
    'node-fastify-cors-origin-true',
    'Fastify: register(cors, { origin: true, credentials: true })',
    () =>
      lines(
        "import cors from '@fastify/cors';",
        "import Fastify from 'fastify';",
        '',
        'const app = Fastify({ logger: true });',
        'await app.register(cors, { origin: true, credentials: true });',
        "app.get('/health', async () => ({ ok: true }));",
        "await app.listen({ port: Number(process.env.PORT ?? 3000), host: '0.0.0.0' });",
      ),
    'files.node.cors-credentials',
    'fastify',
  ),
  nodeServer(
    'node-nest-enable-cors',
    'Nest: app.enableCors({ origin: true, credentials: true })',
    () =>
      lines(
        "import { NestFactory } from '@nestjs/core';",
        "import { AppModule } from './app.module';",
        '',
        'async function bootstrap() {',
        '  const app = await NestFactory.create(AppModule);',
        '  app.enableCors({ origin: true, credentials: true });',
        "  app.setGlobalPrefix('api');",
        '  await app.listen(process.env.PORT ?? 3000);',
        '}',
        'bootstrap();',
      ),
    'files.node.cors-credentials',
    'nest',
    'src/main.ts',
  ),
  nodeServer(
    'node-express-reflect-origin',
    'Express: a hand-written middleware echoes req.headers.origin with credentials',
    () =>
      lines(
        "import express from 'express';",
        '',
        'const app = express();',
        'app.use((req, res, next) => {',
        "  res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*');",
        "  res.setHeader('Access-Control-Allow-Credentials', 'true');",
        "  res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');",
        '  next();',
        '});',
        'app.listen(3000);',
      ),
    'files.node.cors-credentials',
  ),
  nodeServer(
    'node-express-cors-callback-all',
    'Express: an origin callback that accepts every origin, with credentials',
    () =>
      lines(
        "import cors from 'cors';",
        "import express from 'express';",
        '',
        'const app = express();',
        'const corsOptions = {',
        '  origin: (origin, callback) => callback(null, true),',
        '  credentials: true,',
        '};',
        'app.use(cors(corsOptions));',
        'app.listen(3000);',
      ),
    'files.node.cors-credentials',
  ),
  nodeServer(
    'node-express-session-literal',
    "Express: session({ secret: '…' }) with a literal",
    (g) =>
      replaced(
        EXPRESS_SERVER,
        '    secret: process.env.SESSION_SECRET,',
        `    secret: '${g.secret(32, 'session secret')}',`,
      ),
    'files.node.secret-literal',
  ),
  nodeServer(
    'node-jwt-sign-literal',
    'Node: jwt.sign(payload, literal) in the auth route',
    () =>
      lines(
        "import express from 'express';",
        "import jwt from 'jsonwebtoken';",
        '',
        'const app = express();',
        'app.use(express.json());',
        "app.post('/login', (req, res) => {",
        "  const token = jwt.sign({ sub: req.body.email }, 'supersecret', { expiresIn: '1h' });",
        '  res.json({ token });',
        '});',
        'app.listen(3000);',
      ),
    'files.node.secret-literal',
  ),
];

// ---------- faults: credentials in files ----------

/** A minified bundle line: what a bundler emits (the key inlined by a build-time `process.env` replacement). */
function minifiedBundle(g: SecretGen, key: string): string {
  const chunk = () => g.chars(8, 'abcdef0123456789');
  return `!function(){"use strict";var e={${chunk()}:function(e,t,n){n.d(t,{Z:function(){return r}})}};const r={apiBase:"/api/v1",stripeKey:"${key}",release:"${chunk()}"};window.__APP__=r;document.querySelectorAll("[data-buy]").forEach(function(e){e.addEventListener("click",function(){fetch(r.apiBase+"/checkout",{method:"POST"})})})}();\n//# sourceMappingURL=app.${chunk()}.min.js.map\n`;
}

const SECRET_FAULTS: RepoSpec[] = [
  node(
    'node-stripe-live-in-bundle',
    'a committed minified bundle (public/js/app.min.js) inlines a Stripe live key',
    (g) => ({
      'public/js/app.min.js': minifiedBundle(g, g.stripeLive()),
    }),
    [{ id: ['files.secret.pattern', 'files.secret.hardcoded'], severity: 'critical', at: 'public/js/app.min.js' }],
  ),
  node(
    'node-aws-key-in-sourcemap',
    "a source map's sourcesContent holds an AWS key pair",
    (g) => ({
      'public/js/main.7c1e2f.js.map': `${JSON.stringify({
        version: 3,
        file: 'main.7c1e2f.js',
        sources: ['webpack://notes/./src/upload.ts'],
        sourcesContent: [
          `import { S3Client } from '@aws-sdk/client-s3';\nexport const s3 = new S3Client({\n  region: 'eu-west-1',\n  credentials: { accessKeyId: '${g.awsKeyId()}', secretAccessKey: '${g.awsSecretKey()}' },\n});\n`,
        ],
        names: ['s3', 'S3Client'],
        mappings: 'AAAA,SAASA,QAAQ,QAAQ;AACjB,OAAO,MAAMC',
      })}\n`,
    }),
    [{ id: 'files.secret.pattern', at: 'public/js/main.7c1e2f.js.map' }],
  ),
  django(
    'dj-env-example-real-key',
    '.env.example ships a real Django key (generated, not a placeholder)',
    (g) => ({
      '.env.example': replaced(
        djangoApp()['.env.example'] as string,
        'DJANGO_SECRET_KEY=change-me-to-a-long-random-string',
        `DJANGO_SECRET_KEY=${g.djangoKey(false)}`,
      ),
    }),
    [
      {
        id: ['files.env-example.real-secret', 'files.secret.pattern', 'files.secret.hardcoded'],
        severity: 'critical',
        at: '.env.example',
      },
    ],
  ),
  django(
    'dj-committed-prod-env',
    'deploy/prod.env, the compose env_file, is committed with the real password',
    (g) => ({
      [COMPOSE]: DJANGO_COMPOSE.replaceAll('env_file: .env', 'env_file: deploy/prod.env'),
      'deploy/prod.env': djangoEnv(g),
    }),
    [
      {
        id: ['files.git.env-tracked', 'files.secret.pattern', 'files.secret.hardcoded', 'files.compose.literal-secret'],
        severity: 'critical',
      },
    ],
  ),
  node(
    'node-redis-requirepass-literal',
    'compose runs redis-server --requirepass with a literal password',
    (g) => ({
      [COMPOSE]: nodeComposeWith(
        lines(
          '  cache:',
          '    image: redis:7.2.5-alpine',
          `    command: redis-server --appendonly yes --requirepass ${g.password()}`,
        ),
      ),
    }),
    [{ id: 'files.compose.literal-secret', at: COMPOSE }],
  ),
  node(
    'node-dockerfile-env-token',
    'the Dockerfile bakes a GitHub token into ENV (unquoted, legacy syntax) for a private npm registry',
    (g) => ({
      Dockerfile: replaced(
        nodeApp().Dockerfile as string,
        'COPY package.json package-lock.json ./\n',
        `COPY package.json package-lock.json ./\nENV NPM_GH_AUTH ${g.github()}\n`,
      ),
    }),
    [{ id: ['files.secret.pattern', 'files.dockerfile.secret-build-arg'], severity: 'critical', at: 'Dockerfile' }],
  ),
  django(
    'dj-k8s-secret-data',
    'k8s/secret.yaml: a Secret with base64 data',
    (g) => ({
      'k8s/secret.yaml': lines(
        'apiVersion: v1',
        'kind: Secret',
        'metadata:',
        '  name: shop-env',
        '  namespace: shop',
        'type: Opaque',
        'data:',
        `  DJANGO_SECRET_KEY: ${Buffer.from(g.secret(50, 'django SECRET_KEY')).toString('base64')}`,
        `  POSTGRES_PASSWORD: ${Buffer.from(g.password()).toString('base64')}`,
      ),
    }),
    [{ id: 'files.k8s.secret', at: 'k8s/secret.yaml' }],
  ),
  node(
    'node-k8s-secret-stringdata',
    'deploy/k8s/api-secrets.yml: a Secret with stringData (one of several documents)',
    (g) => ({
      'deploy/k8s/api-secrets.yml': lines(
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: notes-config',
        'data:',
        '  CORS_ORIGINS: https://notes.example.com',
        '---',
        'apiVersion: v1',
        'kind: Secret',
        'metadata:',
        '  name: notes-secrets',
        'stringData:',
        `  SESSION_SECRET: "${g.secret(48, 'session secret')}"`,
        `  POSTGRES_PASSWORD: "${g.password()}"`,
      ),
    }),
    [{ id: 'files.k8s.secret', at: 'deploy/k8s/api-secrets.yml' }],
  ),
  django(
    'dj-aws-key-in-sqlite',
    'a development db.sqlite3 (binary) was committed; a row holds an AWS key',
    (g) => ({
      '.gitignore': lines('.env', '.env.*', '!.env.example', '__pycache__/', '*.py[cod]', '.venv/'),
      'db.sqlite3': sqliteWith(`${g.awsKeyId()}:${g.awsSecretKey()}`),
    }),
    [{ id: ['files.secret.pattern', 'files.history.secret'], severity: 'critical', at: 'db.sqlite3' }],
  ),
  django(
    'dj-pypi-token',
    '.pypirc with a PyPI upload token is committed',
    (g) => ({
      '.pypirc': lines(
        '[distutils]',
        'index-servers = pypi',
        '',
        '[pypi]',
        'username = __token__',
        `password = ${g.pypi()}`,
      ),
    }),
    [{ id: 'files.secret.pattern', at: '.pypirc' }],
  ),
  node(
    'node-github-token-script',
    'scripts/release.sh calls the GitHub API with a personal token',
    (g) => ({
      'scripts/release.sh': lines(
        '#!/bin/sh',
        'set -eu',
        'VERSION=$(node -p "require(\'./package.json\').version")',
        `curl -sf -H "Authorization: token ${g.github()}" \\`,
        '  -d "{\\"tag_name\\": \\"v$VERSION\\"}" https://api.github.com/repos/acme/notes/releases',
      ),
    }),
    [{ id: 'files.secret.pattern', at: 'scripts/release.sh' }],
  ),
  django(
    'dj-private-key-file',
    'deploy/deploy_key.pem: the deploy key is committed',
    (g) => ({
      'deploy/deploy_key.pem': g.privateKey(),
    }),
    [{ id: 'files.secret.pattern', at: 'deploy/deploy_key.pem' }],
  ),
  django(
    'dj-slack-token-settings',
    'settings.py hard-codes a Slack bot token for error alerts',
    (g) => ({ [SETTINGS]: `${DJANGO_SETTINGS}\nSLACK_ALERTS = {'channel': '#ops', 'bot': '${g.slackBot()}'}\n` }),
    [{ id: 'files.secret.pattern', at: SETTINGS }],
  ),
  node(
    'node-stripe-test-key',
    'src/billing.ts: a Stripe test-mode key in source',
    (g) => ({
      'src/billing.ts': lines(
        "import Stripe from 'stripe';",
        '',
        `export const stripe = new Stripe('${g.stripeTest()}', { apiVersion: '2024-06-20' });`,
      ),
    }),
    [{ id: 'files.secret.test-credential', at: 'src/billing.ts' }],
  ),
];

/**
 * A SQLite file as bytes: the 100-byte header of a one-page database and a table page whose cell holds
 * `row`. Enough for what matters here (a binary file, NUL bytes in its first bytes, the key inside); the
 * same bytes on every run, with no sqlite module.
 */
function sqliteWith(row: string): Uint8Array {
  const page = Buffer.alloc(4096);
  page.write('SQLite format 3\0', 0, 'latin1');
  page.writeUInt16BE(4096, 16); // page size
  page[18] = 1;
  page[19] = 1;
  page[21] = 64;
  page[22] = 32;
  page[23] = 32;
  page.writeUInt32BE(1, 28); // pages in the file
  page.writeUInt32BE(4, 44); // schema format
  page.writeUInt32BE(1, 56); // UTF-8
  const cell = Buffer.from(
    `CREATE TABLE integrations(id INTEGER PRIMARY KEY, name TEXT, credentials TEXT)\0s3-backups\0${row}\0`,
  );
  cell.copy(page, 4096 - cell.length - 16);
  return page;
}

// ---------- faults: container escapes ----------

const CONTAINER_FAULTS: RepoSpec[] = [
  node(
    'node-privileged',
    'a worker service runs privileged: true',
    () => ({
      [COMPOSE]: nodeComposeWith(
        lines(
          '  worker:',
          '    build: .',
          '    command: ["node", "dist/worker.js"]',
          '    privileged: true',
          '    env_file: .env',
        ),
      ),
    }),
    [{ id: 'files.container.privileged', at: COMPOSE }],
  ),
  node(
    'node-docker-socket',
    'a watchtower service mounts /var/run/docker.sock',
    () => ({
      [COMPOSE]: nodeComposeWith(
        lines(
          '  watchtower:',
          '    image: containrrr/watchtower:1.7.1',
          '    volumes:',
          '      - /var/run/docker.sock:/var/run/docker.sock',
          '    command: --interval 300',
        ),
      ),
    }),
    [{ id: 'files.container.docker-socket', at: COMPOSE }],
  ),
  django(
    'dj-pid-host',
    'a monitoring sidecar shares the host PID namespace',
    () => ({
      [COMPOSE]: djangoComposeWith(
        lines(
          '  node-exporter:',
          '    image: prom/node-exporter:v1.8.1',
          '    pid: host',
          '    volumes:',
          '      - /proc:/host/proc:ro',
        ),
      ),
    }),
    [{ id: 'files.container.host-namespace', at: COMPOSE }],
  ),
  node(
    'node-cap-add-all',
    'the API service adds every capability',
    () => ({
      [COMPOSE]: after(NODE_COMPOSE, '    env_file: .env\n', '    cap_add:\n      - ALL\n'),
    }),
    [{ id: 'files.container.capabilities', at: COMPOSE }],
  ),
  django(
    'dj-seccomp-unconfined',
    'a PDF renderer runs with seccomp and AppArmor turned off',
    () => ({
      [COMPOSE]: djangoComposeWith(
        lines(
          '  renderer:',
          '    image: gotenberg/gotenberg:8.7.0',
          '    security_opt:',
          '      - seccomp:unconfined',
          '      - apparmor:unconfined',
        ),
      ),
    }),
    [{ id: 'files.container.capabilities', at: COMPOSE }],
  ),
  node(
    'node-k8s-privileged',
    'k8s/deployment.yaml: the API container is privileged',
    () => ({
      'k8s/deployment.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: notes-api',
        'spec:',
        '  replicas: 2',
        '  selector:',
        '    matchLabels: { app: notes-api }',
        '  template:',
        '    metadata:',
        '      labels: { app: notes-api }',
        '    spec:',
        '      containers:',
        '        - name: api',
        '          image: ghcr.io/acme/notes-api:1.4.2',
        '          ports:',
        '            - containerPort: 3000',
        '          envFrom:',
        '            - secretRef: { name: notes-secrets }',
        '          securityContext:',
        '            privileged: true',
      ),
    }),
    [{ id: 'files.container.privileged', at: 'k8s/deployment.yaml' }],
  ),
];

// ---------- faults: nginx ----------

const NGINX = 'nginx/default.conf';
const djNginx = (name: string, about: string, conf: string, id: Expectation['id']) =>
  django(name, about, () => ({ [NGINX]: conf }), [{ id, at: NGINX }]);

const NGINX_FAULTS: RepoSpec[] = [
  djNginx(
    'dj-nginx-server-tokens-on',
    'nginx: server_tokens on',
    replaced(nginxConf('web:8000'), 'server_tokens off;', 'server_tokens on;'),
    'files.nginx.server-tokens',
  ),
  djNginx(
    'dj-nginx-autoindex',
    'nginx: autoindex on for /media/',
    after(
      nginxConf('web:8000'),
      '        alias /srv/static/;\n    }\n',
      '\n    location /media/ {\n        alias /srv/media/;\n        autoindex on;\n    }\n',
    ),
    'files.nginx.autoindex',
  ),
  djNginx(
    'dj-nginx-legacy-tls',
    'nginx: ssl_protocols TLSv1 TLSv1.1 TLSv1.2',
    replaced(nginxConf('web:8000'), 'ssl_protocols TLSv1.2 TLSv1.3;', 'ssl_protocols TLSv1 TLSv1.1 TLSv1.2;'),
    'files.nginx.tls-legacy',
  ),
  // Django's SECURE_HSTS_SECONDS is gone too: with it, the app's own answers carry HSTS for the host (not a fault).
  django(
    'dj-nginx-no-hsts',
    'nginx: the TLS server sends no Strict-Transport-Security, and neither does the app',
    () => ({
      [NGINX]: replaced(
        nginxConf('web:8000'),
        '    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;\n',
        '',
      ),
      [SETTINGS]: replaced(DJANGO_SETTINGS, 'SECURE_HSTS_SECONDS = 63072000\n', ''),
    }),
    [{ id: 'files.nginx.hsts-missing', at: NGINX }],
  ),
  node(
    'node-nginx-root-is-checkout',
    'compose mounts the whole checkout as the nginx web root (.git and .env served)',
    () => ({
      [COMPOSE]: replaced(
        NODE_COMPOSE,
        '      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro\n',
        '      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro\n      - .:/usr/share/nginx/html:ro\n',
      ),
      [NGINX]: replaced(
        replaced(
          nginxConf('api:3000', 'notes.example.com'),
          '    location ~ /\\. {\n        return 404;\n    }\n\n',
          '',
        ),
        '    location /static/ {\n        alias /srv/static/;\n    }\n\n    location / {\n',
        '    root /usr/share/nginx/html;\n\n    location / {\n        try_files $uri $uri/ /index.html;\n    }\n\n    location /api/ {\n',
      ),
    }),
    [{ id: 'files.nginx.root-exposes-repo' }],
  ),
  django(
    'dj-nginx-static-alias-checkout',
    'compose mounts the project root where nginx serves /static/ from (alias): /static/.env is served',
    () => ({
      [COMPOSE]: replaced(DJANGO_COMPOSE, '      - static:/srv/static:ro\n', '      - ./:/srv/static:ro\n'),
      [NGINX]: replaced(nginxConf('web:8000'), '    location ~ /\\. {\n        return 404;\n    }\n\n', ''),
    }),
    [{ id: 'files.nginx.root-exposes-repo' }],
  ),
];

// ---------- faults: history ----------

function awsModule(g: SecretGen): string {
  return lines(
    "import { S3Client } from '@aws-sdk/client-s3';",
    '',
    'export const s3 = new S3Client({',
    "  region: 'eu-west-1',",
    `  credentials: { accessKeyId: '${g.awsKeyId()}', secretAccessKey: '${g.awsSecretKey()}' },`,
    '});',
  );
}

const historySecret = (at = 'src/storage.ts'): Expectation[] => [{ id: 'files.history.secret', at }];

const HISTORY_FAULTS: RepoSpec[] = [
  django(
    'dj-env-committed-then-deleted',
    '.env was committed in the second commit and deleted in the third',
    () => ({}),
    [{ id: 'files.git.env-in-history', at: '.env' }],
    {
      history: (g) => [
        { op: 'commit', write: { '.env': djangoEnv(g) }, message: 'Add env for the server' },
        { op: 'commit', remove: ['.env'], message: 'Remove .env (oops)' },
      ],
    },
  ),
  node(
    'node-aws-key-on-branch',
    'an AWS key pair was committed on an unmerged branch feature/s3-upload',
    () => ({}),
    historySecret(),
    {
      history: (g) => [
        { op: 'filler', count: 3 },
        {
          op: 'commit',
          ref: 'feature/s3-upload',
          write: { 'src/storage.ts': awsModule(g) },
          message: 'S3 upload (WIP)',
        },
      ],
    },
  ),
  node('node-aws-key-on-tag', 'an AWS key pair is only in a release-candidate tag', () => ({}), historySecret(), {
    history: (g) => [
      { op: 'filler', count: 2 },
      { op: 'commit', ref: 'refs/tags/v1.3.0-rc1', write: { 'src/storage.ts': awsModule(g) }, message: 'rc1 hotfix' },
    ],
  }),
  node(
    'node-aws-key-in-stash',
    'an AWS key pair sits in a stash (a file never committed to a branch)',
    () => ({}),
    historySecret(),
    {
      history: (g) => [{ op: 'stash', write: { 'src/storage.ts': awsModule(g) }, message: 'WIP s3' }],
    },
  ),
  node(
    'node-aws-key-backup-ref',
    'an AWS key pair in an orphan commit under refs/backup/pre-rewrite',
    () => ({}),
    historySecret(),
    {
      history: (g) => [
        {
          op: 'commit',
          ref: 'refs/backup/pre-rewrite',
          orphan: true,
          write: { 'src/storage.ts': awsModule(g) },
          message: 'backup',
        },
      ],
    },
  ),
  django(
    'dj-aws-key-commit-100-of-300',
    'an AWS key pair added at commit 100 of 300 and removed at 101',
    () => ({}),
    [{ id: 'files.history.secret', at: 'shop/storage.py' }],
    {
      history: (g) => [
        { op: 'filler', count: 98 },
        {
          op: 'commit',
          write: {
            'shop/storage.py': lines(
              'import boto3',
              '',
              `s3 = boto3.client('s3', aws_access_key_id='${g.awsKeyId()}', aws_secret_access_key='${g.awsSecretKey()}')`,
            ),
          },
          message: 'Store invoices on S3',
        },
        {
          op: 'commit',
          write: {
            'shop/storage.py': lines(
              'import boto3',
              '',
              "s3 = boto3.client('s3')  # credentials from the instance role",
            ),
          },
          message: 'Use the instance role',
        },
        { op: 'filler', count: 199 },
      ],
    },
  ),
];

// ---------- the seed lesson's project, before ----------

const SEED_BEFORE: RepoSpec = {
  name: 'seed-django-before',
  kind: 'fault',
  about:
    "the seed lesson's Django project before the lesson (settings.py, compose, Dockerfile, nginx as the lesson shows them)",
  files: (g) => ({
    '.gitignore': lines('__pycache__/', '*.pyc', 'node_modules/'),
    'docker-compose.yml': lines(
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
    ),
    'server/Dockerfile': lines(
      'FROM python:3.11',
      'WORKDIR /app',
      'COPY requirements.txt .',
      'RUN pip install -r requirements.txt',
      'COPY . .',
      'CMD ["gunicorn", "task_proj.wsgi", "--bind", "0.0.0.0:8000"]',
    ),
    'server/requirements.txt': lines(
      'Django==4.2.7',
      'djangorestframework==3.14.0',
      'django-cors-headers==4.3.1',
      'psycopg2-binary==2.9.9',
      'gunicorn==21.2.0',
    ),
    'server/manage.py': djangoApp()['manage.py'] as string,
    'server/task_proj/settings.py': lines(
      'from pathlib import Path',
      '',
      'BASE_DIR = Path(__file__).resolve().parent.parent',
      '',
      `SECRET_KEY = '${g.djangoKey()}'`,
      '',
      'DEBUG = True',
      '',
      "ALLOWED_HOSTS = ['0.0.0.0', 'localhost', '*']",
      '',
      'INSTALLED_APPS = [',
      "    'django.contrib.admin',",
      "    'django.contrib.auth',",
      "    'rest_framework',",
      "    'rest_framework.authtoken',",
      "    'corsheaders',",
      "    'user_app',",
      "    'task_app',",
      ']',
      '',
      'CORS_ALLOW_ALL_ORIGINS = True',
      '',
      'DATABASES = {',
      "    'default': {",
      "        'ENGINE': 'django.db.backends.postgresql',",
      "        'NAME': 'task_db',",
      "        'USER': 'cp_user',",
      '        "PASSWORD": "password",',
      "        'HOST': 'postgres-container',",
      "        'PORT': '5432'",
      '    }',
      '}',
    ),
    'server/task_proj/urls.py': lines(
      'from django.contrib import admin',
      'from django.urls import path, include',
      'from django.http import JsonResponse',
      '',
      'def connection(request):',
      '    return JsonResponse({"connected": True})',
      '',
      'urlpatterns = [',
      "    path('admin/', admin.site.urls),",
      "    path('api/v1/test/', connection),",
      "    path('api/v1/tasks/', include('task_app.urls')),",
      "    path('api/v1/users/', include('user_app.urls')),",
      ']',
    ),
    'client/nginx/default.conf': lines(
      'server {',
      '    listen 80;',
      '    server_name tasks.example.com;',
      '    return 301 https://$host$request_uri;',
      '}',
      'server {',
      '    listen 443 ssl;',
      '    server_name tasks.example.com;',
      '    ssl_certificate /etc/letsencrypt/live/tasks.example.com/fullchain.pem;',
      '    ssl_certificate_key /etc/letsencrypt/live/tasks.example.com/privkey.pem;',
      '    include /etc/letsencrypt/options-ssl-nginx.conf;',
      '    root /usr/share/nginx/html;',
      '    location / {',
      '        try_files $uri /index.html;',
      '    }',
      '    location /api/ {',
      '        proxy_pass http://django-container:8000;',
      '    }',
      '}',
    ),
  }),
  expect: [
    { id: 'files.django.debug', at: 'server/task_proj/settings.py' },
    { id: 'files.django.allowed-hosts', at: 'server/task_proj/settings.py' },
    { id: 'files.django.cors-all', at: 'server/task_proj/settings.py' },
    { id: 'files.django.secret-key', at: 'server/task_proj/settings.py' },
    { id: 'files.django.database-password', at: 'server/task_proj/settings.py' },
    { id: 'files.compose.db-port', at: COMPOSE },
    { id: 'files.compose.backend-port', at: COMPOSE },
    { id: 'files.compose.literal-secret', at: COMPOSE },
    { id: 'files.reload-mode', at: COMPOSE },
    { id: 'files.gitignore.env' },
    { id: 'files.dockerignore.missing' },
    { id: 'files.dockerfile.root', at: 'server/Dockerfile' },
    { id: 'files.nginx.hsts-missing', at: 'client/nginx/default.conf' },
    { id: 'files.nginx.server-tokens', at: 'client/nginx/default.conf' },
  ],
};

// ---------- clean but tricky ----------

const CLEAN: RepoSpec[] = [
  django(
    'clean-dj-interpolation',
    `compose interpolates every secret (\${VAR}, \${VAR:?}, a DATABASE_URL with \${POSTGRES_PASSWORD}); docker secrets for the key`,
    () => ({
      [COMPOSE]: after(
        after(
          DJANGO_COMPOSE,
          WEB_COMMAND,
          lines(
            '    environment:',
            `      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}`,
            `      DATABASE_URL: postgres://shop:\${POSTGRES_PASSWORD}@db:5432/shop`,
            '      DJANGO_SECRET_KEY_FILE: /run/secrets/django_secret_key',
            '      DJANGO_DEBUG: "False"',
            '    secrets:',
            '      - django_secret_key',
          ),
        ),
        '  static:\n',
        lines('secrets:', '  django_secret_key:', '    file: ./secrets/django_secret_key.txt'),
      ),
      '.gitignore': lines('.env', '.env.*', '!.env.example', 'secrets/', '__pycache__/', '*.py[cod]'),
      '.dockerignore': lines('.env', '.env.*', 'secrets/', '.git', '__pycache__/'),
    }),
  ),
  node(
    'clean-node-loopback-db',
    'the database is published on 127.0.0.1 only (for a local psql through an SSH tunnel): info at most',
    () => ({
      [COMPOSE]: replaced(
        NODE_COMPOSE,
        '    volumes:\n      - pgdata:/var/lib/postgresql/data\n',
        '    ports:\n      - "127.0.0.1:5432:5432"\n    volumes:\n      - pgdata:/var/lib/postgresql/data\n',
      ),
    }),
  ),
  django(
    'clean-dj-dev-compose',
    'docker-compose.dev.yml: DEBUG=1, runserver, published ports, a literal dev password (a development file: info only)',
    () => ({
      'docker-compose.dev.yml': lines(
        '# Local development only: docker compose -f docker-compose.dev.yml up',
        'services:',
        '  db:',
        '    image: postgres:16.3-alpine',
        '    environment:',
        '      POSTGRES_PASSWORD: devpassword',
        '    ports:',
        '      - "5432:5432"',
        '  web:',
        '    build: .',
        '    command: python manage.py runserver 0.0.0.0:8000',
        '    environment:',
        '      DJANGO_DEBUG: "1"',
        '      DJANGO_ALLOWED_HOSTS: "*"',
        '      DJANGO_SECRET_KEY: dev-only-not-secret',
        '    ports:',
        '      - "8000:8000"',
        '    volumes:',
        '      - .:/app',
      ),
    }),
  ),
  django(
    'clean-dj-split-settings',
    'split settings: dev.py has DEBUG = True and a dev key, production.py reads everything from the environment',
    () => ({
      [SETTINGS]: null,
      'shopsite/settings/__init__.py': '',
      'shopsite/settings/base.py': djangoSettings([
        ["DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'", 'DEBUG = False'],
      ]),
      'shopsite/settings/dev.py': lines(
        'from .base import *  # noqa: F401,F403',
        '',
        'DEBUG = True',
        "ALLOWED_HOSTS = ['localhost', '127.0.0.1']",
        "SECRET_KEY = 'dev-only-insecure-key'",
        'SESSION_COOKIE_SECURE = False',
        'CSRF_COOKIE_SECURE = False',
        'SECURE_SSL_REDIRECT = False',
        "CORS_ALLOWED_ORIGINS = ['http://localhost:5173']",
      ),
      'shopsite/settings/production.py': lines(
        'import os',
        '',
        'from .base import *  # noqa: F401,F403',
        '',
        'DEBUG = False',
        "ALLOWED_HOSTS = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')",
      ),
      'manage.py': replaced(djangoApp()['manage.py'] as string, "'shopsite.settings'", "'shopsite.settings.dev'"),
      'shopsite/wsgi.py': replaced(
        djangoApp()['shopsite/wsgi.py'] as string,
        "'shopsite.settings'",
        "'shopsite.settings.production'",
      ),
    }),
  ),
  node(
    'clean-node-cors-variants',
    'a public read-only router with cors() (no credentials) and the app with an exact origin list and credentials',
    () => ({
      'src/server.ts': lines(
        "import cors from 'cors';",
        "import express from 'express';",
        "import { router } from './routes.js';",
        '',
        'const app = express();',
        '// Public, read-only, no cookies: any site may read it.',
        "app.use('/public', cors(), express.static('public'));",
        "app.use('/api', cors({ origin: ['https://notes.example.com', 'https://admin.notes.example.com'], credentials: true }), router);",
        'app.listen(Number(process.env.PORT ?? 3000));',
      ),
    }),
  ),
  node(
    'clean-node-fastify-exact-origins',
    'Fastify with @fastify/cors given an exact origin list and credentials; secrets from the environment',
    () => ({
      'src/server.ts': lines(
        "import cors from '@fastify/cors';",
        "import Fastify from 'fastify';",
        '',
        "const origins = (process.env.CORS_ORIGINS ?? '').split(',').filter(Boolean);",
        'const app = Fastify({ logger: true });',
        'await app.register(cors, { origin: origins, credentials: true });',
        "await app.listen({ port: Number(process.env.PORT ?? 3000), host: '0.0.0.0' });",
      ),
    }),
    undefined,
    { framework: 'fastify' },
  ),
  node(
    'clean-node-nest-origin-list',
    'Nest: enableCors with the allowed origins from configuration',
    () => ({
      'src/server.ts': null,
      'src/main.ts': lines(
        "import { NestFactory } from '@nestjs/core';",
        "import { AppModule } from './app.module';",
        '',
        'async function bootstrap() {',
        '  const app = await NestFactory.create(AppModule);',
        "  const origin = process.env.CORS_ORIGINS?.split(',') ?? [];",
        '  app.enableCors({ origin, credentials: true });',
        '  await app.listen(process.env.PORT ?? 3000);',
        '}',
        'bootstrap();',
      ),
    }),
    undefined,
    { framework: 'nest' },
  ),
  node(
    'clean-node-placeholders',
    `placeholders everywhere: changeme, <your-key>, \${VAR}, your-secret-here in the README, compose and .env.example`,
    () => ({
      '.env.example': lines(
        'PORT=3000',
        'CORS_ORIGINS=https://notes.example.com',
        'SESSION_SECRET=your-secret-here',
        'POSTGRES_PASSWORD=changeme',
        'STRIPE_SECRET_KEY=<your-stripe-secret-key>',
        'GITHUB_TOKEN=',
        // Built, not written: secretlint's AWS rule takes 40 x's for a key, here as in the corpus.
        `AWS_SECRET_ACCESS_KEY=${'x'.repeat(40)}`,
        `DATABASE_URL=postgres://notes:\${POSTGRES_PASSWORD}@db:5432/notes`,
      ),
      'README.md': lines(
        '# Notes API',
        '',
        '## Configuration',
        '',
        '```sh',
        'SESSION_SECRET=<generate with: openssl rand -base64 48>',
        'STRIPE_SECRET_KEY=sk_live_...',
        'POSTGRES_PASSWORD=changeme  # change me!',
        '```',
      ),
      'src/config.ts': lines(
        'export const config = {',
        "  sessionSecret: process.env.SESSION_SECRET ?? '',",
        "  stripeKey: process.env.STRIPE_SECRET_KEY ?? '',",
        '};',
        "if (!config.sessionSecret) throw new Error('SESSION_SECRET is required');",
      ),
    }),
  ),
  django(
    'clean-dj-test-fixtures',
    'tests and fixtures hold fake credentials (a throwaway password, a test SECRET_KEY, a fake token)',
    () => ({
      'shop/tests/__init__.py': '',
      'shop/tests/settings.py': lines(
        'from shopsite.settings import *  # noqa',
        '',
        "SECRET_KEY = 'test-secret-key-not-used-anywhere'",
        "PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher']",
      ),
      'shop/tests/test_login.py': lines(
        'from django.test import TestCase',
        '',
        '',
        'class LoginTest(TestCase):',
        '    def test_login(self):',
        "        self.client.post('/api/users/', {'email': 'a@example.com', 'password': 'correct horse battery staple'})",
        "        token = 'faketoken_abcdefghijklmnopqrstuvwxyz012345'",
        "        self.assertTrue(self.client.login(username='a@example.com', password='correct horse battery staple'))",
      ),
      'shop/fixtures/users.json': `${JSON.stringify([{ model: 'auth.user', pk: 1, fields: { username: 'demo', password: 'pbkdf2_sha256$720000$demo$notarealhash=' } }], null, 2)}\n`,
    }),
  ),
  node('clean-node-aws-example-keys', "AWS's documented example keys in docs and tests (end in EXAMPLE)", () => ({
    'docs/deploy.md': lines(
      '# Deploying',
      '',
      'Set the credentials of the upload user, for example:',
      '',
      '```sh',
      `export AWS_ACCESS_KEY_ID=${PUBLIC_EXAMPLES.awsKeyId}`,
      `export AWS_SECRET_ACCESS_KEY=${PUBLIC_EXAMPLES.awsSecretKey}`,
      '```',
    ),
    'test/storage.test.ts': lines(
      "import { describe, expect, it } from 'vitest';",
      "import { signedUrl } from '../src/storage.js';",
      '',
      `const credentials = { accessKeyId: '${PUBLIC_EXAMPLES.awsKeyId}', secretAccessKey: '${PUBLIC_EXAMPLES.awsSecretKey}' };`,
      "it('signs', () => expect(signedUrl(credentials, 'a.txt')).toContain('X-Amz-Signature'));",
    ),
  })),
  node(
    'clean-node-lockfile-and-bundle',
    'a real-looking package-lock.json full of sha512 integrity hashes and a committed minified bundle full of content hashes',
    (g) => ({
      'package-lock.json': lockfile(g),
      'public/assets/index.min.js': hashyBundle(g),
    }),
  ),
  django(
    'clean-dj-helm-and-sealed',
    'a Helm Secret template ({{ .Values | b64enc }}), a SealedSecret, and a Secret with empty values; restricted pods behind a default-deny NetworkPolicy',
    (g) => ({
      'charts/shop/Chart.yaml': lines('apiVersion: v2', 'name: shop', 'version: 0.3.1', 'appVersion: "1.4.2"'),
      'charts/shop/values.yaml': lines(
        'image:',
        '  repository: ghcr.io/acme/shop',
        '  tag: "1.4.2"',
        'secretKey: ""',
        'postgresPassword: ""',
      ),
      'charts/shop/templates/secret.yaml': lines(
        'apiVersion: v1',
        'kind: Secret',
        'metadata:',
        '  name: {{ include "shop.fullname" . }}',
        'type: Opaque',
        'data:',
        '  DJANGO_SECRET_KEY: {{ required "secretKey is required" .Values.secretKey | b64enc | quote }}',
        '  POSTGRES_PASSWORD: {{ .Values.postgresPassword | b64enc | quote }}',
      ),
      'k8s/sealed-secret.yaml': lines(
        'apiVersion: bitnami.com/v1alpha1',
        'kind: SealedSecret',
        'metadata:',
        '  name: shop-env',
        '  namespace: shop',
        'spec:',
        '  encryptedData:',
        `    DJANGO_SECRET_KEY: AgB${g.chars(340, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}==`,
        `    POSTGRES_PASSWORD: AgC${g.chars(340, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}==`,
      ),
      'k8s/secret-skeleton.yaml': lines(
        '# Filled in by the deploy pipeline from the vault; committed empty on purpose.',
        'apiVersion: v1',
        'kind: Secret',
        'metadata:',
        '  name: shop-env',
        'type: Opaque',
        'stringData:',
        '  DJANGO_SECRET_KEY: ""',
        '  POSTGRES_PASSWORD: ""',
      ),
      'k8s/deployment.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: shop',
        'spec:',
        '  selector:',
        '    matchLabels: { app: shop }',
        '  template:',
        '    metadata:',
        '      labels: { app: shop }',
        '    spec:',
        '      securityContext:',
        '        runAsNonRoot: true',
        '        seccompProfile: { type: RuntimeDefault }',
        '      containers:',
        '        - name: web',
        '          image: ghcr.io/acme/shop:1.4.2',
        '          envFrom:',
        '            - secretRef: { name: shop-env }',
        '          securityContext:',
        '            allowPrivilegeEscalation: false',
        '            privileged: false',
        '            readOnlyRootFilesystem: true',
        '            capabilities:',
        '              drop: ["ALL"]',
      ),
      'k8s/network-policies.yaml': lines(
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata:',
        '  name: default-deny',
        'spec:',
        '  podSelector: {}',
        '  policyTypes: [Ingress, Egress]',
        '---',
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata:',
        '  name: shop-from-ingress',
        'spec:',
        '  podSelector:',
        '    matchLabels: { app: shop }',
        '  ingress:',
        '    - from:',
        '        - namespaceSelector:',
        '            matchLabels: { kubernetes.io/metadata.name: ingress-nginx }',
        '      ports:',
        '        - port: 8000',
      ),
    }),
  ),
  {
    name: 'clean-static-nginx-hardened',
    kind: 'clean',
    about:
      'a static site behind a hardened nginx: includes, a map, default_server, HSTS, TLS 1.2+, dotfiles denied, autoindex off',
    files: () => ({
      '.gitignore': lines('.env', 'node_modules/', 'dist/'),
      '.dockerignore': lines('.env', '.git', 'node_modules'),
      'compose.yaml': lines(
        'services:',
        '  web:',
        '    image: nginxinc/nginx-unprivileged:1.27.0-alpine',
        '    ports:',
        '      - "80:8080"',
        '      - "443:8443"',
        '    volumes:',
        '      - ./dist:/usr/share/nginx/html:ro',
        '      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro',
        '      - ./nginx/snippets:/etc/nginx/snippets:ro',
      ),
      'nginx/nginx.conf': lines(
        'worker_processes auto;',
        'pid /tmp/nginx.pid;',
        'events { worker_connections 1024; }',
        'http {',
        '    include /etc/nginx/mime.types;',
        '    server_tokens off;',
        '    autoindex off;',
        '    map $http_upgrade $connection_upgrade { default upgrade; "" close; }',
        '    server {',
        '        listen 8080 default_server;',
        '        server_name _;',
        '        return 301 https://$host$request_uri;',
        '    }',
        '    server {',
        '        listen 8443 ssl default_server;',
        '        server_name www.example.org;',
        '        include /etc/nginx/snippets/tls.conf;',
        '        root /usr/share/nginx/html;',
        '        location ~ /\\. { deny all; }',
        '        location / { try_files $uri $uri/ /index.html; }',
        '    }',
        '}',
      ),
      'nginx/snippets/tls.conf': lines(
        'ssl_certificate /etc/letsencrypt/live/www.example.org/fullchain.pem;',
        'ssl_certificate_key /etc/letsencrypt/live/www.example.org/privkey.pem;',
        'ssl_protocols TLSv1.2 TLSv1.3;',
        'ssl_session_tickets off;',
        'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains; preload" always;',
      ),
      'dist/index.html': lines('<!doctype html>', '<title>Example</title>', '<h1>Hello</h1>'),
      'package.json': `${JSON.stringify({ name: 'www', private: true, scripts: { build: 'vite build' }, devDependencies: { vite: '5.3.3' } }, null, 2)}\n`,
    }),
  },
  node(
    'clean-node-env-example-placeholders',
    `.env.example in every placeholder style (empty, <...>, \${...}, change-me, quoted, commented)`,
    () => ({
      '.env.example': lines(
        '# --- required ---',
        'SESSION_SECRET=',
        'POSTGRES_PASSWORD="<choose a password>"',
        "JWT_SECRET='change-me'",
        // A live key's shape filled with x's: a placeholder (built, so this file holds no key-shaped text).
        `STRIPE_SECRET_KEY=${'sk_' + 'live_'}${'x'.repeat(24)}`,
        '# --- optional ---',
        '# SENTRY_AUTH_TOKEN=your-token-here',
        `REDIS_URL=redis://:\${REDIS_PASSWORD}@cache:6379/0`,
        'CORS_ORIGINS=https://notes.example.com',
      ),
    }),
  ),
  django(
    'clean-dj-ignores-and-dockerfile',
    'ignore files in other correct spellings, a multi-stage Dockerfile on a pinned digest, distroless nonroot final stage',
    () => ({
      '.gitignore': lines('/.env', '*.env', '.env.*', '!.env.example', '__pycache__/'),
      '.dockerignore': lines('**/.env*', '!.env.example', '.git/', '**/__pycache__'),
      Dockerfile: lines(
        '# syntax=docker/dockerfile:1.7',
        `FROM python:3.12.4-slim-bookworm@sha256:${'2fba8e70a87bcc9f6edd20dda0a1d4adb32046d2acbca7361bc61da5a106a914'} AS build`,
        'WORKDIR /app',
        'COPY requirements.txt .',
        'RUN --mount=type=secret,id=pip_token pip install --no-cache-dir --target /deps -r requirements.txt',
        'COPY . .',
        '',
        'FROM gcr.io/distroless/python3-debian12:nonroot',
        'COPY --from=build /deps /deps',
        'COPY --from=build /app /app',
        'ENV PYTHONPATH=/deps',
        'WORKDIR /app',
        'CMD ["/deps/bin/gunicorn", "shopsite.wsgi:application", "--bind", "0.0.0.0:8000"]',
      ),
    }),
  ),
  django(
    'clean-dj-docs-show-bad-examples',
    'docs explain the faults with the bad lines quoted (Markdown), and settings have them commented out',
    () => ({
      'docs/security.md': lines(
        '# Security checklist',
        '',
        'Never ship these:',
        '',
        '```python',
        'DEBUG = True',
        "ALLOWED_HOSTS = ['*']",
        'CORS_ALLOW_ALL_ORIGINS = True',
        "SECRET_KEY = 'django-insecure-change-me'",
        '```',
        '',
        '```js',
        'app.use(cors({ origin: true, credentials: true }));',
        "app.use(session({ secret: 'keyboard cat' }));",
        '```',
        '',
        '```yaml',
        'ports:',
        '  - "5432:5432"',
        'privileged: true',
        '```',
      ),
      [SETTINGS]: djangoSettings([
        [
          "DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'",
          "DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'\n# DEBUG = True  # never in production\n# ALLOWED_HOSTS = ['*']",
        ],
        ['CORS_ALLOW_CREDENTIALS = True', 'CORS_ALLOW_CREDENTIALS = True\n# CORS_ALLOW_ALL_ORIGINS = True'],
      ]),
      [NGINX]: replaced(
        nginxConf('web:8000'),
        '    location /static/ {\n',
        '    # autoindex on;\n    location /static/ {\n',
      ),
      [COMPOSE]: replaced(
        DJANGO_COMPOSE,
        '    env_file: .env\n    volumes:\n',
        '    env_file: .env\n    # ports:\n    #   - "5432:5432"\n    volumes:\n',
      ),
    }),
  ),
  node(
    'clean-node-docker-secrets-redis',
    'redis with --requirepass from an interpolated variable; the DB password from a Docker secret file',
    () => ({
      [COMPOSE]: lines(
        'services:',
        '  db:',
        '    image: postgres:16.3-alpine',
        '    environment:',
        '      POSTGRES_PASSWORD_FILE: /run/secrets/db_password',
        '    secrets: [db_password]',
        '  cache:',
        '    image: redis:7.2.5-alpine',
        '    command: redis-server --appendonly yes --requirepass "$${REDIS_PASSWORD}"',
        '    environment:',
        `      REDIS_PASSWORD: \${REDIS_PASSWORD}`,
        '  api:',
        '    build: .',
        '    env_file: .env',
        '    environment:',
        '      NODE_ENV: production',
        '      POSTGRES_PASSWORD_FILE: /run/secrets/db_password',
        '    secrets: [db_password]',
        '    cap_drop: [ALL]',
        '    security_opt:',
        '      - no-new-privileges:true',
        '    read_only: true',
        '  proxy:',
        '    image: nginx:1.27.0-alpine',
        '    ports: ["80:80", "443:443"]',
        '    volumes:',
        '      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro',
        'secrets:',
        '  db_password:',
        '    file: ./secrets/db_password.txt',
      ),
      '.gitignore': lines('.env', '.env.*', '!.env.example', 'secrets/', 'node_modules/', 'dist/'),
    }),
  ),
  django(
    'clean-dj-env-safe-defaults',
    'settings read the environment with safe defaults (DEBUG off, cookies secure, hosts localhost)',
    () => ({
      [SETTINGS]: djangoSettings([
        [
          "DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'",
          "DEBUG = os.getenv('DJANGO_DEBUG', 'False').lower() in ('1', 'true', 'yes')",
        ],
        [
          "ALLOWED_HOSTS = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')",
          "ALLOWED_HOSTS = os.getenv('DJANGO_ALLOWED_HOSTS', 'localhost').split(',')",
        ],
        [
          'SESSION_COOKIE_SECURE = True',
          "SESSION_COOKIE_SECURE = os.getenv('SESSION_COOKIE_SECURE', 'True') == 'True'",
        ],
      ]),
    }),
  ),
  django(
    'clean-dj-long-history',
    'a long, clean history: .env.example rewritten many times, a branch and a tag with harmless changes',
    () => ({}),
    undefined,
    {
      history: (): HistoryStep[] => [
        { op: 'filler', count: 60 },
        {
          op: 'commit',
          write: { '.env.example': `${djangoApp()['.env.example']}SENTRY_DSN=\n` },
          message: 'Document SENTRY_DSN',
        },
        {
          op: 'commit',
          ref: 'feature/invoices',
          write: { 'shop/invoices.py': lines('def total(lines):', '    return sum(line.amount for line in lines)') },
          message: 'Invoices',
        },
        {
          op: 'commit',
          ref: 'refs/tags/v1.0.0',
          write: { 'CHANGELOG.md': '# Changelog\n\n1.0.0\n' },
          message: 'Release 1.0.0',
        },
        {
          op: 'stash',
          write: { 'shop/models.py': `${djangoApp()['shop/models.py']}    # TODO: currency\n` },
          message: 'currency idea',
        },
      ],
    },
  ),
];

/** A package-lock.json as npm writes it: every package with a sha512 integrity hash (random, not secret). */
function lockfile(g: SecretGen): string {
  const names = ['express', 'cors', 'helmet', 'pg', 'pg-pool', 'body-parser', 'debug', 'ms', 'qs', 'send'];
  const packages: Record<string, unknown> = { '': { name: 'notes-express', version: '1.4.2' } };
  for (const name of names) {
    packages[`node_modules/${name}`] = {
      version: `${1 + (name.length % 4)}.${name.length}.0`,
      resolved: `https://registry.npmjs.org/${name}/-/${name}-1.0.0.tgz`,
      integrity: `sha512-${g.chars(86, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}==`,
    };
  }
  return `${JSON.stringify({ name: 'notes-express', version: '1.4.2', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`;
}

/** A minified bundle as Vite emits it: content-hashed chunk names, an SRI table, inline base64 assets. */
function hashyBundle(g: SecretGen): string {
  const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const chunks = Array.from(
    { length: 12 },
    () => `"assets/chunk-${g.chars(8, 'abcdefghijklmnopqrstuvwxyz0123456789_-')}.js":"sha384-${g.chars(64, b64)}"`,
  );
  return `const e=${`{${chunks.join(',')}}`};const t="data:image/png;base64,${g.chars(240, b64)}";export{e as integrity,t as logo};\n`;
}

// ---------- more variants: the same faults written the other ways real projects write them ----------

const VARIANT_FAULTS: RepoSpec[] = [
  node(
    'node-compose-anchor-node-env',
    'compose.yaml shares its environment through a YAML anchor that sets NODE_ENV: development',
    () => ({
      [COMPOSE]: null,
      'compose.yaml': lines(
        'x-app-env: &app-env',
        '  NODE_ENV: development',
        '  LOG_LEVEL: debug',
        '',
        replaced(
          replaced(NODE_COMPOSE, 'services:\n', ''),
          '    environment:\n      NODE_ENV: production\n',
          '    environment:\n      <<: *app-env\n',
        ),
      ).replace('debug\n\n', 'debug\n\nservices:\n'),
    }),
    [{ id: 'config.debug', at: 'compose.yaml' }],
  ),
  djSettings(
    'dj-settings-debug-getenv-truthy',
    'settings.py: DEBUG = os.getenv("DEBUG", True) (a truthy default that is not even a string)',
    () =>
      djangoSettings([["DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'", 'DEBUG = os.getenv("DEBUG", True)']]),
    'files.django.debug',
  ),
  django(
    'dj-cookiecutter-production-hosts',
    'config/settings/production.py (cookiecutter layout): ALLOWED_HOSTS = ["*"] in double quotes',
    () => ({
      [SETTINGS]: null,
      'config/__init__.py': '',
      'config/settings/__init__.py': '',
      'config/settings/base.py': djangoSettings([
        ["ALLOWED_HOSTS = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')", 'ALLOWED_HOSTS = []'],
      ]),
      'config/settings/production.py': lines(
        'from .base import *  # noqa',
        'from .base import env  # noqa',
        '',
        'DEBUG = False',
        'ALLOWED_HOSTS = ["*"]',
        'SECURE_SSL_REDIRECT = True',
      ),
    }),
    [{ id: 'files.django.allowed-hosts', at: 'config/settings/production.py' }],
  ),
  django(
    'dj-mysql-password-prod-settings',
    'settings/prod.py: a MySQL DATABASES block with a literal password',
    (g) => ({
      'shopsite/settings_prod.py': lines(
        'from .settings import *  # noqa',
        '',
        'DATABASES = {',
        '    "default": {',
        '        "ENGINE": "django.db.backends.mysql",',
        '        "NAME": "shop",',
        '        "USER": "shop",',
        `        "PASSWORD": "${g.password()}",`,
        '        "HOST": "mysql.internal",',
        '    }',
        '}',
      ),
    }),
    [{ id: 'files.django.database-password', at: 'shopsite/settings_prod.py' }],
  ),
  nodeServer(
    'node-express-cors-star-credentials',
    "Express: cors({ origin: '*', credentials: true })",
    () =>
      lines(
        "const cors = require('cors');",
        "const express = require('express');",
        '',
        'const app = express();',
        "app.use(cors({ credentials: true, origin: '*' }));",
        'app.listen(process.env.PORT || 3000);',
      ),
    'files.node.cors-credentials',
    'express',
    'src/server.js',
  ),
  nodeServer(
    'node-fastify-cors-callback',
    'Fastify: an origin callback that allows every origin, with credentials',
    () =>
      lines(
        "import cors from '@fastify/cors';",
        "import Fastify from 'fastify';",
        '',
        'const app = Fastify();',
        'await app.register(cors, {',
        '  credentials: true,',
        '  origin: (origin, cb) => {',
        '    cb(null, true);',
        '  },',
        '});',
        'await app.listen({ port: 3000 });',
      ),
    'files.node.cors-credentials',
    'fastify',
  ),
  nodeServer(
    'node-session-keyboard-cat-js',
    "app.js (CommonJS): express-session's README secret, 'keyboard cat'",
    () =>
      lines(
        "const express = require('express');",
        "const session = require('express-session');",
        '',
        'const app = express();',
        "app.use(session({ secret: 'keyboard cat', resave: false, saveUninitialized: true }));",
        'module.exports = app;',
      ),
    'files.node.secret-literal',
    'express',
    'app.js',
  ),
  nodeServer(
    'node-cookie-parser-literal',
    'cookie-parser signed with a literal secret',
    (g) =>
      lines(
        "import cookieParser from 'cookie-parser';",
        "import express from 'express';",
        '',
        'const app = express();',
        `app.use(cookieParser('${g.secret(24, 'cookie secret')}'));`,
        'app.listen(3000);',
      ),
    'files.node.secret-literal',
  ),
  node(
    'node-npmrc-token',
    '.npmrc with an npm automation token is committed',
    (g) => ({
      '.npmrc': lines('@acme:registry=https://registry.npmjs.org/', `//registry.npmjs.org/:_authToken=${g.npmToken()}`),
    }),
    [{ id: 'files.secret.pattern', at: '.npmrc' }],
  ),
  node(
    'node-compose-database-url-literal',
    'compose gives the API a DATABASE_URL with a literal password',
    (g) => ({
      [COMPOSE]: replaced(
        NODE_COMPOSE,
        `      DATABASE_URL: postgres://notes:\${POSTGRES_PASSWORD}@db:5432/notes\n`,
        `      DATABASE_URL: postgres://notes:${g.password()}@db:5432/notes\n`,
      ),
    }),
    [{ id: ['files.compose.literal-secret', 'files.secret.pattern'], severity: 'critical', at: COMPOSE }],
  ),
  django(
    'dj-workflow-aws-key',
    'a GitHub Actions workflow sets AWS credentials inline',
    (g) => ({
      '.github/workflows/deploy.yml': lines(
        'name: deploy',
        'on:',
        '  push:',
        '    branches: [main]',
        'jobs:',
        '  deploy:',
        '    runs-on: ubuntu-24.04',
        '    env:',
        `      AWS_ACCESS_KEY_ID: ${g.awsKeyId()}`,
        `      AWS_SECRET_ACCESS_KEY: ${g.awsSecretKey()}`,
        '      AWS_DEFAULT_REGION: eu-west-1',
        '    steps:',
        '      - uses: actions/checkout@v4',
        '      - run: aws s3 sync staticfiles/ s3://shop-static/',
      ),
    }),
    [{ id: 'files.secret.pattern', at: '.github/workflows/deploy.yml' }],
  ),
  django(
    'dj-token-committed-then-removed',
    'a GitHub token was committed in shop/github.py and replaced by an environment read a commit later',
    () => ({}),
    [{ id: 'files.history.secret', at: 'shop/github.py' }],
    {
      history: (g) => [
        { op: 'filler', count: 4 },
        { op: 'commit', write: { 'shop/github.py': lines(`GITHUB_TOKEN = "${g.github()}"`) }, message: 'Sync issues' },
        {
          op: 'commit',
          write: { 'shop/github.py': lines('import os', '', "GITHUB_TOKEN = os.environ['GITHUB_TOKEN']") },
          message: 'Token from env',
        },
        { op: 'filler', count: 3 },
      ],
    },
  ),
  node(
    'node-env-production-in-history',
    '.env.production was committed and later deleted',
    () => ({}),
    [{ id: 'files.git.env-in-history', at: '.env.production' }],
    {
      history: (g) => [
        { op: 'commit', write: { '.env.production': nodeEnv(g) }, message: 'prod env' },
        { op: 'filler', count: 2 },
        { op: 'commit', remove: ['.env.production'], message: 'remove env file' },
      ],
    },
  ),
  django(
    'dj-ipc-userns-host',
    'a worker shares the host IPC namespace',
    () => ({
      [COMPOSE]: djangoComposeWith(
        lines(
          '  worker:',
          '    build: .',
          '    command: celery -A shopsite worker',
          '    env_file: .env',
          '    ipc: host',
        ),
      ),
    }),
    [{ id: 'files.container.host-namespace', at: COMPOSE }],
  ),
  node(
    'node-cap-sys-admin',
    'a backup sidecar adds SYS_ADMIN (to mount a FUSE bucket)',
    () => ({
      [COMPOSE]: nodeComposeWith(
        lines(
          '  backup:',
          '    image: ghcr.io/acme/pg-backup:2.1.0',
          '    cap_add:',
          '      - SYS_ADMIN',
          '    devices:',
          '      - /dev/fuse',
        ),
      ),
    }),
    [{ id: 'files.container.capabilities', at: COMPOSE }],
  ),
  node(
    'node-k8s-docker-socket-hostpath',
    "k8s: a CI runner Deployment mounts the node's Docker socket through hostPath",
    () => ({
      'k8s/runner.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: ci-runner',
        'spec:',
        '  selector:',
        '    matchLabels: { app: ci-runner }',
        '  template:',
        '    metadata:',
        '      labels: { app: ci-runner }',
        '    spec:',
        '      containers:',
        '        - name: runner',
        '          image: ghcr.io/acme/runner:3.2.0',
        '          volumeMounts:',
        '            - name: docker',
        '              mountPath: /var/run/docker.sock',
        '      volumes:',
        '        - name: docker',
        '          hostPath:',
        '            path: /var/run/docker.sock',
        '            type: Socket',
      ),
    }),
    [{ id: 'files.container.docker-socket', at: 'k8s/runner.yaml' }],
  ),
  node(
    'node-k8s-host-network',
    'k8s: a Deployment runs with hostNetwork and hostPID',
    () => ({
      'k8s/agent.yaml': lines(
        'apiVersion: apps/v1',
        'kind: DaemonSet',
        'metadata:',
        '  name: log-agent',
        'spec:',
        '  selector:',
        '    matchLabels: { app: log-agent }',
        '  template:',
        '    metadata:',
        '      labels: { app: log-agent }',
        '    spec:',
        '      hostNetwork: true',
        '      hostPID: true',
        '      containers:',
        '        - name: agent',
        '          image: fluent/fluent-bit:3.0.7',
      ),
    }),
    [{ id: 'files.container.host-namespace', at: 'k8s/agent.yaml' }],
  ),
  node(
    'node-k8s-hostpath-logs',
    "k8s: the API writes its logs to the node's /var/log through a hostPath volume",
    () => ({
      'k8s/deployment.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: api',
        'spec:',
        '  selector:',
        '    matchLabels: { app: api }',
        '  template:',
        '    metadata:',
        '      labels: { app: api }',
        '    spec:',
        '      securityContext:',
        '        runAsNonRoot: true',
        '        seccompProfile: { type: RuntimeDefault }',
        '      containers:',
        '        - name: api',
        '          image: ghcr.io/acme/notes:2.1.0',
        '          securityContext:',
        '            allowPrivilegeEscalation: false',
        '            readOnlyRootFilesystem: true',
        '            capabilities: { drop: [ALL] }',
        '          volumeMounts:',
        '            - { name: logs, mountPath: /app/logs }',
        '      volumes:',
        '        - name: logs',
        '          hostPath: { path: /var/log/notes, type: DirectoryOrCreate }',
      ),
      'k8s/network-policy.yaml': lines(
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata: { name: default-deny }',
        'spec: { podSelector: {}, policyTypes: [Ingress, Egress] }',
      ),
    }),
    [{ id: 'files.k8s.host-path', at: 'k8s/deployment.yaml' }],
  ),
  node(
    'node-k8s-no-network-policy',
    'k8s: restricted Deployments for the API and its database, but no NetworkPolicy: every pod reaches the database',
    () => ({
      'deploy/api.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: api',
        'spec:',
        '  selector:',
        '    matchLabels: { app: api }',
        '  template:',
        '    metadata:',
        '      labels: { app: api }',
        '    spec:',
        '      securityContext:',
        '        runAsNonRoot: true',
        '        seccompProfile: { type: RuntimeDefault }',
        '      containers:',
        '        - name: api',
        '          image: ghcr.io/acme/notes:2.1.0',
        '          securityContext:',
        '            allowPrivilegeEscalation: false',
        '            readOnlyRootFilesystem: true',
        '            capabilities: { drop: [ALL] }',
      ),
      'deploy/kustomization.yaml': lines('resources:', '  - api.yaml'),
    }),
    [{ id: 'files.k8s.no-network-policy', at: 'deploy/api.yaml' }],
  ),
  node(
    'node-k8s-allow-only-policy',
    'k8s: a NetworkPolicy admits the ingress controller to the API, but nothing denies by default',
    () => ({
      'k8s/api.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: api',
        'spec:',
        '  selector:',
        '    matchLabels: { app: api }',
        '  template:',
        '    metadata:',
        '      labels: { app: api }',
        '    spec:',
        '      securityContext:',
        '        runAsNonRoot: true',
        '        seccompProfile: { type: RuntimeDefault }',
        '      containers:',
        '        - name: api',
        '          image: ghcr.io/acme/notes:2.1.0',
        '          securityContext:',
        '            allowPrivilegeEscalation: false',
        '            readOnlyRootFilesystem: true',
        '            capabilities: { drop: [ALL] }',
        '---',
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata: { name: api-from-ingress }',
        'spec:',
        '  podSelector: { matchLabels: { app: api } }',
        '  ingress:',
        '    - from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ingress-nginx } } }]',
      ),
    }),
    [{ id: 'files.k8s.no-default-deny', at: 'k8s/api.yaml' }],
  ),
  node(
    'node-k8s-root-writable',
    'k8s: the API container runs with the image defaults (root, writable root filesystem, all default capabilities)',
    () => ({
      'k8s/api.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: api',
        'spec:',
        '  selector:',
        '    matchLabels: { app: api }',
        '  template:',
        '    metadata:',
        '      labels: { app: api }',
        '    spec:',
        '      containers:',
        '        - name: api',
        '          image: ghcr.io/acme/notes:2.1.0',
        '---',
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata: { name: default-deny }',
        'spec: { podSelector: {}, policyTypes: [Ingress] }',
      ),
    }),
    [{ id: 'files.k8s.not-restricted', at: 'k8s/api.yaml' }],
  ),
  node(
    'node-nginx-conf-http-block',
    'nginx/nginx.conf (the main file): server_tokens on and SSLv3 in the http block',
    () => ({
      [COMPOSE]: replaced(
        NODE_COMPOSE,
        '      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro\n',
        '      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro\n      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro\n',
      ),
      'nginx/nginx.conf': lines(
        'user nginx;',
        'worker_processes auto;',
        'events { worker_connections 1024; }',
        'http {',
        '    include /etc/nginx/mime.types;',
        '    sendfile on;',
        '    ssl_protocols SSLv3 TLSv1 TLSv1.2;',
        '    include /etc/nginx/conf.d/*.conf;',
        '}',
      ),
    }),
    [{ id: 'files.nginx.tls-legacy', at: 'nginx/nginx.conf' }],
  ),
  django(
    'dj-nginx-site-in-deploy',
    'deploy/nginx/shop.conf: autoindex on for the whole site root',
    () => ({
      'deploy/nginx/shop.conf': replaced(
        nginxConf('web:8000'),
        '    location /static/ {\n        alias /srv/static/;\n',
        '    location /static/ {\n        alias /srv/static/;\n        autoindex on;\n',
      ),
    }),
    [{ id: 'files.nginx.autoindex', at: 'deploy/nginx/shop.conf' }],
  ),
];

const CLEAN_VARIANTS: RepoSpec[] = [
  django(
    'clean-dj-ci-compose',
    'docker-compose.ci.yml for the test job: postgres with a throwaway password and a published port',
    () => ({
      'docker-compose.ci.yml': lines(
        'services:',
        '  db:',
        '    image: postgres:16.3-alpine',
        '    environment:',
        '      POSTGRES_PASSWORD: postgres',
        '    ports:',
        '      - "5432:5432"',
        '  tests:',
        '    build: .',
        '    command: python manage.py test',
        '    environment:',
        '      DJANGO_SECRET_KEY: ci-only',
        '      DJANGO_DEBUG: "True"',
        '      DJANGO_ALLOWED_HOSTS: "*"',
      ),
    }),
  ),
  django(
    'clean-dj-literal-safe-settings',
    'settings with literal but safe values: DEBUG = False, exact hosts, an anchored origin regex',
    () => ({
      [SETTINGS]: djangoSettings([
        ["DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'", 'DEBUG = False'],
        [
          "ALLOWED_HOSTS = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')",
          "ALLOWED_HOSTS = ['shop.example.com', 'www.shop.example.com']",
        ],
        [
          "CORS_ALLOWED_ORIGINS = [o for o in os.environ.get('CORS_ALLOWED_ORIGINS', '').split(',') if o]",
          'CORS_ALLOWED_ORIGIN_REGEXES = [r"^https://[a-z0-9-]+\\.shop\\.example\\.com$"]',
        ],
      ]),
    }),
  ),
  node(
    'clean-node-secrets-from-env',
    'jwt.sign and session with secrets from the environment; cookie-parser with a list from the environment',
    () => ({
      'src/server.ts': lines(
        "import cookieParser from 'cookie-parser';",
        "import express from 'express';",
        "import session from 'express-session';",
        "import jwt from 'jsonwebtoken';",
        '',
        'const { SESSION_SECRET, JWT_SECRET } = process.env;',
        "if (!SESSION_SECRET || !JWT_SECRET) throw new Error('SESSION_SECRET and JWT_SECRET are required');",
        'const app = express();',
        "app.use(cookieParser(SESSION_SECRET.split(',')));",
        'app.use(session({ secret: [SESSION_SECRET], resave: false, saveUninitialized: false, cookie: { secure: true } }));',
        "app.post('/login', (req, res) => res.json({ token: jwt.sign({ sub: req.body.email }, JWT_SECRET, { expiresIn: '1h' }) }));",
        'app.listen(3000);',
      ),
    }),
  ),
  django(
    'clean-dj-env-example-django-placeholder',
    ".env.example with Django-flavoured placeholders ('django-insecure-CHANGE-ME', 'replace-me')",
    () => ({
      '.env.example': lines(
        'DJANGO_SECRET_KEY=django-insecure-CHANGE-ME',
        'DJANGO_DEBUG=False',
        'DJANGO_ALLOWED_HOSTS=shop.example.com',
        'POSTGRES_PASSWORD=replace-me',
        'EMAIL_HOST_PASSWORD=',
        'SENTRY_DSN=https://<key>@o0.ingest.sentry.io/<project>',
      ),
    }),
  ),
  node(
    'clean-node-history-placeholder-env',
    'a .env.sample with placeholders moved around in history; a branch that only touched docs',
    () => ({}),
    undefined,
    {
      history: (): HistoryStep[] => [
        {
          op: 'commit',
          write: { 'config/.env.sample': lines('SESSION_SECRET=', 'POSTGRES_PASSWORD=changeme') },
          message: 'sample env',
        },
        { op: 'commit', remove: ['config/.env.sample'], message: 'move sample to .env.example' },
        {
          op: 'commit',
          ref: 'docs/readme',
          write: { 'README.md': lines('# Notes API', '', 'See docs/.') },
          message: 'docs',
        },
      ],
    },
  ),
];

// ---------- found by red teams on repositories the auditor had never seen (issue 14's review) ----------

const RED_TEAM_FAULTS: RepoSpec[] = [
  node(
    'node-config-json-password',
    'node-config: config/production.json holds the database password under a lower-case key',
    (g) => ({
      'config/production.json': `{\n  "db": {\n    "host": "db",\n    "user": "orders_app",\n    "password": "${g.password()}"\n  }\n}\n`,
    }),
    [{ id: 'files.secret.hardcoded', at: 'config/production.json' }],
  ),
  node(
    'node-pg-pool-literal',
    'a pg Pool built with a literal password',
    (g) => ({
      'src/db.js': lines(
        "const { Pool } = require('pg');",
        `const pool = new Pool({ user: 'orders', password: '${g.password()}', host: 'db', database: 'orders' });`,
        'module.exports = pool;',
      ),
    }),
    [{ id: 'files.secret.hardcoded', at: 'src/db.js' }],
  ),
  django(
    'dj-helm-values-password',
    'Helm values for production hold the chart database password',
    (g) => ({
      'deploy/helm/values-production.yaml': lines(
        'image:',
        '  repository: ghcr.io/acme/shop',
        '  tag: "1.4.2"',
        'postgresql:',
        '  auth:',
        '    username: shop',
        `    password: "${g.password()}"`,
      ),
    }),
    [{ id: 'files.secret.hardcoded', at: 'deploy/helm/values-production.yaml' }],
  ),
  django(
    'dj-tfvars-password',
    'Terraform variables for production hold the RDS password',
    (g) => ({
      'infra/production.tfvars': lines(
        'region      = "eu-west-1"',
        'db_username = "shop"',
        `db_password = "${g.password()}"`,
      ),
    }),
    [{ id: 'files.secret.hardcoded', at: 'infra/production.tfvars' }],
  ),
  node(
    'node-k8s-env-literal',
    'a Kubernetes Deployment gives DB_PASSWORD a literal value in the container env',
    (g) => ({
      'k8s/deployment.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: api',
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '        - name: api',
        '          image: ghcr.io/acme/notes:2.1.0',
        '          env:',
        '            - name: DB_PASSWORD',
        `              value: "${g.password()}"`,
      ),
    }),
    [{ id: 'files.secret.hardcoded', at: 'k8s/deployment.yaml' }],
  ),
  django(
    'dj-celery-amqp-url',
    'the Celery broker URL carries the RabbitMQ password in settings.py',
    (g) => ({
      [SETTINGS]: `${DJANGO_SETTINGS}\nCELERY_BROKER_URL = "amqp://shop:${g.password()}@rabbitmq:5672/shop"\n`,
    }),
    [{ id: ['files.secret.hardcoded', 'files.secret.pattern'], at: SETTINGS }],
  ),
  django(
    'dj-gunicorn-raw-env',
    'gunicorn.conf.py passes the Django key in raw_env',
    (g) => ({
      'gunicorn.conf.py': lines(
        'bind = "0.0.0.0:8000"',
        'workers = 3',
        `raw_env = ["DJANGO_SECRET_KEY=${g.djangoKey(false)}"]`,
      ),
    }),
    [{ id: ['files.secret.hardcoded', 'files.secret.pattern'], at: 'gunicorn.conf.py' }],
  ),
  node(
    'node-env-production-database-url',
    '.env.production is committed with a DATABASE_URL whose host is under example.com',
    (g) => ({
      '.env.production': lines(
        'NODE_ENV=production',
        `DATABASE_URL=postgres://notes:${g.password()}@db.internal.example.com:5432/notes`,
      ),
    }),
    [{ id: 'files.git.env-tracked', at: '.env.production' }],
  ),
  django(
    'dj-k8s-configmap-debug',
    'a Kubernetes ConfigMap turns DJANGO_DEBUG on',
    () => ({
      'deploy/k8s/configmap.yaml': lines(
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: shop',
        'data:',
        '  DJANGO_DEBUG: "True"',
        '  DJANGO_ALLOWED_HOSTS: shop.example.com',
      ),
    }),
    [{ id: 'config.debug', at: 'deploy/k8s/configmap.yaml' }],
  ),
  django(
    'dj-k8s-env-allowed-hosts',
    'a Deployment sets DJANGO_ALLOWED_HOSTS to * in its container env',
    () => ({
      'deploy/k8s/deployment.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: web',
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '        - name: web',
        '          image: ghcr.io/acme/shop:1.4.2',
        '          env:',
        '            - name: DJANGO_ALLOWED_HOSTS',
        '              value: "*"',
      ),
    }),
    [{ id: 'config.allowed-hosts.wildcard', at: 'deploy/k8s/deployment.yaml' }],
  ),
  django(
    'dj-nginx-template-tls-var',
    "nginx's official-image template takes ssl_protocols from the compose environment, which lists TLSv1",
    () => ({
      [COMPOSE]: replaced(
        replaced(
          DJANGO_COMPOSE,
          '      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro\n',
          '      - ./nginx/templates:/etc/nginx/templates:ro\n',
        ),
        '    image: nginx:1.27.0-alpine\n',
        '    image: nginx:1.27.0-alpine\n    environment:\n      NGINX_SSL_PROTOCOLS: "TLSv1 TLSv1.1 TLSv1.2"\n',
      ),
      [NGINX]: null,
      'nginx/templates/default.conf.template': replaced(
        nginxConf('web:8000'),
        'ssl_protocols TLSv1.2 TLSv1.3;',
        ['ssl_protocols $', '{NGINX_SSL_PROTOCOLS};'].join(''),
      ),
    }),
    [{ id: 'files.nginx.tls-legacy', at: 'nginx/templates/default.conf.template' }],
  ),
  node(
    'node-cookie-session-keys',
    'cookie-session signs with literal keys',
    (g) => ({
      'src/session.js': lines(
        "const cookieSession = require('cookie-session');",
        `module.exports = cookieSession({ name: 'sess', keys: ['${g.password()}', '${g.password()}'], maxAge: 86400000 });`,
      ),
    }),
    [{ id: 'files.node.secret-literal', at: 'src/session.js' }],
  ),
  django(
    'dj-dev-settings-in-production-image',
    'the production image runs the development settings module (ENV DJANGO_SETTINGS_MODULE=shopsite.settings_dev)',
    () => ({
      'shopsite/settings_dev.py': lines('from .settings import *  # noqa', '', 'DEBUG = True'),
      Dockerfile: DJANGO_DOCKERFILE.replace(
        'ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1',
        'ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=shopsite.settings_dev',
      ),
    }),
    [{ id: 'files.django.debug', at: 'shopsite/settings_dev.py' }],
  ),
];

// ---------- faults and a clean repository: Kubernetes evasions an outside red team found in issue 16 ----------

/** A restricted Deployment of the API, `container` (lines at the container's indent) added to its container. */
const k8sDeployment = (...container: string[]): string =>
  lines(
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: notes-api',
    'spec:',
    '  selector:',
    '    matchLabels: { app: notes-api }',
    '  template:',
    '    metadata:',
    '      labels: { app: notes-api }',
    '    spec:',
    '      securityContext:',
    '        runAsNonRoot: true',
    '        runAsUser: 10001',
    '        seccompProfile: { type: RuntimeDefault }',
    '      containers:',
    '        - name: api',
    '          image: ghcr.io/acme/notes-api:1.4.2',
    '          securityContext:',
    '            allowPrivilegeEscalation: false',
    '            readOnlyRootFilesystem: true',
    '            capabilities: { drop: [ALL] }',
    ...container,
  );

/** A default deny and the one rule the API needs. */
const K8S_POLICIES = lines(
  'apiVersion: networking.k8s.io/v1',
  'kind: NetworkPolicy',
  'metadata: { name: default-deny }',
  'spec:',
  '  podSelector: {}',
  '  policyTypes: [Ingress, Egress]',
  '---',
  'apiVersion: networking.k8s.io/v1',
  'kind: NetworkPolicy',
  'metadata: { name: api-from-ingress }',
  'spec:',
  '  podSelector:',
  '    matchLabels: { app: notes-api }',
  '  ingress:',
  '    - from:',
  '        - namespaceSelector:',
  '            matchLabels: { kubernetes.io/metadata.name: ingress-nginx }',
  '      ports:',
  '        - port: 3000',
);

const K8S_EVASION_FAULTS: RepoSpec[] = [
  node(
    'node-k8s-patch-weakens',
    'kustomize: the production overlay patches the restricted base back to privilege escalation and a writable root',
    () => ({
      'k8s/base/deployment.yaml': k8sDeployment(),
      'k8s/base/network-policies.yaml': K8S_POLICIES,
      'k8s/base/kustomization.yaml': lines('resources:', '  - deployment.yaml', '  - network-policies.yaml'),
      'k8s/overlays/production/kustomization.yaml': lines(
        'namespace: notes',
        'resources:',
        '  - ../../base',
        'patches:',
        '  - path: shell-access.yaml',
      ),
      'k8s/overlays/production/shell-access.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: notes-api }',
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '        - name: api',
        '          securityContext:',
        '            allowPrivilegeEscalation: true',
        '            readOnlyRootFilesystem: false',
      ),
    }),
    [{ id: 'files.k8s.not-restricted', at: 'k8s/overlays/production/shell-access.yaml' }],
  ),
  node(
    'node-k8s-json-privileged',
    'k8s/deployment.json: a JSON manifest whose container is privileged',
    () => ({
      'k8s/deployment.json': `${JSON.stringify(
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'notes-api' },
          spec: {
            selector: { matchLabels: { app: 'notes-api' } },
            template: {
              metadata: { labels: { app: 'notes-api' } },
              spec: {
                containers: [
                  { name: 'api', image: 'ghcr.io/acme/notes-api:1.4.2', securityContext: { privileged: true } },
                ],
              },
            },
          },
        },
        null,
        2,
      )}\n`,
      'k8s/network-policies.yaml': K8S_POLICIES,
    }),
    [{ id: 'files.container.privileged', at: 'k8s/deployment.json' }],
  ),
  node(
    'node-k8s-env-flow-password',
    'k8s/deployment.yaml: the database password as a flow-mapping env entry, value before name',
    (g) => ({
      'k8s/deployment.yaml': k8sDeployment(
        '          env:',
        `            - { value: "${g.password()}", name: PGPASSWORD }`,
      ),
      'k8s/network-policies.yaml': K8S_POLICIES,
    }),
    [{ id: 'files.secret.hardcoded', at: 'k8s/deployment.yaml' }],
  ),
  node(
    'node-k8s-allow-all-policy',
    'k8s/network-policies.yaml: an allow-all policy beside the default deny undoes it',
    () => ({
      'k8s/deployment.yaml': k8sDeployment(),
      'k8s/network-policies.yaml': `${K8S_POLICIES}${lines(
        '---',
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata: { name: allow-all }',
        'spec:',
        '  podSelector: {}',
        '  ingress: [{}]',
      )}`,
    }),
    [{ id: 'files.k8s.network-policy-allows-all', at: 'k8s/network-policies.yaml' }],
  ),
  node(
    'node-k8s-merge-key-privileged',
    'k8s/deployment.yaml: privileged: true hidden in a YAML merge key',
    () => ({
      'k8s/deployment.yaml': k8sDeployment().replace(
        '          securityContext:\n',
        '          securityContext:\n            <<: { privileged: true }\n',
      ),
      'k8s/network-policies.yaml': K8S_POLICIES,
    }),
    [{ id: 'files.container.privileged', at: 'k8s/deployment.yaml' }],
  ),
  node(
    'node-k8s-net-raw',
    'k8s/deployment.yaml: the container adds NET_RAW and publishes a hostPort',
    () => ({
      'k8s/deployment.yaml': k8sDeployment(
        '          ports:',
        '            - { containerPort: 3000, hostPort: 3000 }',
      ).replace('capabilities: { drop: [ALL] }', 'capabilities: { drop: [ALL], add: [NET_RAW] }'),
      'k8s/network-policies.yaml': K8S_POLICIES,
    }),
    [{ id: 'files.k8s.not-restricted', at: 'k8s/deployment.yaml' }],
  ),
];

const K8S_EVASION_CLEAN: RepoSpec[] = [
  node(
    'clean-node-k8s-kustomize-json',
    'kustomize with a Kustomization file, a partial resources patch, a JSON Service, $(VAR) in a URL, default deny',
    () => ({
      'k8s/base/deployment.yaml': k8sDeployment(
        '          env:',
        '            - name: PGPASSWORD',
        '              valueFrom: { secretKeyRef: { name: notes-db, key: password } }',
        '            - { name: DATABASE_URL, value: "postgres://notes:$(PGPASSWORD)@db:5432/notes" }',
      ),
      'k8s/base/service.json': `${JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'notes-api' },
        spec: { selector: { app: 'notes-api' }, ports: [{ port: 80, targetPort: 3000 }] },
      })}\n`,
      'k8s/base/network-policies.yaml': K8S_POLICIES,
      'k8s/base/Kustomization': lines(
        'namespace: notes',
        'resources:',
        '  - deployment.yaml',
        '  - service.json',
        '  - network-policies.yaml',
        'patches:',
        '  - path: resources.yaml',
      ),
      'k8s/base/resources.yaml': lines(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: notes-api }',
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '        - name: api',
        '          resources:',
        '            requests: { cpu: 100m, memory: 128Mi }',
      ),
    }),
  ),
];

const RED_TEAM_CLEAN: RepoSpec[] = [
  node(
    'clean-node-next-env-public',
    'Next.js-style .env.production and .env.development with public settings only',
    () => ({
      '.env.production': lines(
        'NEXT_PUBLIC_API_URL=https://api.example.com',
        'NEXT_PUBLIC_SENTRY_ENVIRONMENT=production',
      ),
      '.env.development': lines('NEXT_PUBLIC_API_URL=http://localhost:3000'),
    }),
  ),
  django(
    'clean-dj-cookiecutter-envs-local',
    "cookiecutter's committed .envs/.local for the local compose file",
    () => ({
      '.envs/.local/.postgres': lines(
        'POSTGRES_HOST=postgres',
        'POSTGRES_DB=shop',
        'POSTGRES_USER=debug',
        'POSTGRES_PASSWORD=debug',
      ),
      'docker-compose.local.yml': lines(
        'services:',
        '  postgres:',
        '    image: postgres:16.3',
        '    env_file:',
        '      - ./.envs/.local/.postgres',
        '  django:',
        '    build: .',
        '    environment:',
        '      DATABASE_URL: postgres://debug:debug@postgres:5432/shop',
      ),
    }),
  ),
  django('clean-dj-sops-secret', 'a SOPS-encrypted Kubernetes Secret', (g) => ({
    'deploy/k8s/secret.enc.yaml': lines(
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: shop',
      'stringData:',
      `  DJANGO_SECRET_KEY: ENC[AES256_GCM,data:${g.chars(40)},iv:${g.chars(22)},tag:${g.chars(22)},type:str]`,
      'sops:',
      '  version: 3.8.1',
    ),
  })),
  django('clean-dj-terraform-lock', "Terraform's provider lock file (hashes)", (g) => ({
    'infra/.terraform.lock.hcl': lines(
      'provider "registry.terraform.io/hashicorp/aws" {',
      '  version = "5.54.1"',
      '  hashes = [',
      `    "h1:${g.chars(43)}=",`,
      '  ]',
      '}',
    ),
  })),
  node('clean-node-publishable-key', 'a Stripe publishable key in a built bundle (public by design)', (g) => ({
    'public/assets/checkout-1a2b3c.js': `const stripe=Stripe("${['pk', 'live', g.chars(24)].join('_')}");stripe.redirectToCheckout({sessionId:s});\n`,
  })),
  django('clean-dj-collectstatic-key', 'a build-time stand-in key for collectstatic in the Dockerfile', () => ({
    Dockerfile: DJANGO_DOCKERFILE.replace(
      'python manage.py collectstatic --noinput',
      'DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput',
    ),
  })),
  node('clean-node-password-labels', 'i18n labels and config reads that name passwords without holding one', () => ({
    'src/locales/en.json': `{\n  "password": "Password",\n  "passwordHint": "At least 12 characters",\n  "resetToken": "reset-password-token"\n}\n`,
    'src/db.js': lines(
      "const { Pool } = require('pg');",
      "const pool = new Pool({ user: 'orders', password: process.env.DB_PASSWORD, host: 'db' });",
      'module.exports = pool;',
    ),
  })),
  django('clean-dj-kustomize-dev-overlay', 'DEBUG on only in the dev overlay of a kustomize layout', () => ({
    'deploy/k8s/base/configmap.yaml': lines(
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: shop',
      'data:',
      '  DJANGO_DEBUG: "False"',
      '  DJANGO_ALLOWED_HOSTS: shop.example.com',
    ),
    'deploy/k8s/overlays/dev/configmap.yaml': lines(
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: shop',
      'data:',
      '  DJANGO_DEBUG: "True"',
      '  DJANGO_ALLOWED_HOSTS: "*"',
    ),
  })),
  node('clean-node-cookie-session-env-keys', 'cookie-session with keys from the environment', () => ({
    'src/session.js': lines(
      "const cookieSession = require('cookie-session');",
      "module.exports = cookieSession({ name: 'sess', keys: process.env.SESSION_KEYS.split(','), maxAge: 86400000 });",
    ),
  })),
  django(
    'clean-dj-dev-settings-for-manage-py',
    'manage.py defaults to the dev settings; wsgi.py and the image to production',
    () => ({
      'shopsite/settings_dev.py': lines('from .settings import *  # noqa', '', 'DEBUG = True'),
      'manage.py': lines(
        'import os, sys',
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shopsite.settings_dev')",
        'from django.core.management import execute_from_command_line',
        'execute_from_command_line(sys.argv)',
      ),
      'shopsite/wsgi.py': lines(
        'import os',
        'from django.core.wsgi import get_wsgi_application',
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shopsite.settings')",
        'application = get_wsgi_application()',
      ),
    }),
  ),
];

// ---------- Ironclad Tasks deployments: the email settings (config.email.*), from the .env and from compose ----------

const IRONCLAD_BACKEND_ENV = '      TRUST_PROXY: 10.89.0.2\n';

function ironclad(
  name: string,
  about: string,
  overrides: (g: SecretGen) => Record<string, string | Uint8Array | null>,
  env: Record<string, string | null>,
  expect?: Expectation[],
): RepoSpec {
  return {
    name,
    kind: expect ? 'fault' : 'clean',
    about,
    files: (g) => ironcladApp(overrides(g)),
    untracked: (g) => ({ '.env': ironcladEnv(g, env) }),
    ...(expect ? { expect } : {}),
  };
}

/**
 * The decision for a production deployment without SMTP_URL: a warning (config.email.disabled), in the corpus as a
 * fault. The server starts (the zero-configuration start needs no relay), but nobody who forgets a password can get
 * back in; a clean Ironclad deployment configures its relay.
 */
const IRONCLAD_EMAIL_FAULTS: RepoSpec[] = [
  ironclad(
    'ironclad-no-smtp',
    "the operator's .env sets no SMTP_URL: password reset by email is disabled",
    () => ({}),
    { SMTP_URL: null },
    [{ id: 'config.email.disabled', at: 'SMTP_URL' }],
  ),
  ironclad(
    'ironclad-smtp-without-public-url',
    "the operator's .env sets SMTP_URL but no PUBLIC_URL (the origin of reset links)",
    () => ({}),
    { PUBLIC_URL: null },
    [{ id: 'config.email.public-url-missing', at: 'PUBLIC_URL' }],
  ),
  ironclad(
    'ironclad-public-url-http',
    "the operator's .env gives PUBLIC_URL as http://",
    () => ({}),
    { PUBLIC_URL: 'http://tasks.example.com' },
    [{ id: 'config.email.public-url-http', at: 'PUBLIC_URL' }],
  ),
  ironclad(
    'ironclad-compose-public-url-other-host',
    'compose gives the API a PUBLIC_URL on a host ALLOWED_HOSTS (in .env) does not allow',
    () => ({
      [COMPOSE]: after(IRONCLAD_COMPOSE, IRONCLAD_BACKEND_ENV, '      PUBLIC_URL: https://tasks.example.org\n'),
    }),
    {},
    [{ id: 'config.email.public-url-host', at: COMPOSE }],
  ),
  ironclad(
    'ironclad-compose-smtp-plaintext',
    'compose adds a relay container and sends to it in plain text (?tls=none) across the compose network',
    () => ({
      [COMPOSE]: after(
        after(IRONCLAD_COMPOSE, IRONCLAD_BACKEND_ENV, '      SMTP_URL: smtp://relay:25?tls=none\n'),
        '      - backend\n',
        lines(
          '  relay:',
          '    image: boky/postfix:4.3.0',
          '    environment:',
          '      ALLOWED_SENDER_DOMAINS: example.com',
        ),
      ),
    }),
    {},
    [{ id: 'config.email.smtp-plaintext', at: COMPOSE }],
  ),
];

const IRONCLAD_CLEAN: RepoSpec[] = [
  ironclad(
    'clean-ironclad-email-configured',
    'email set up: SMTP_URL and PUBLIC_URL passed through compose by reference and interpolation, a .domain host pattern, a path prefix',
    () => ({
      [COMPOSE]: after(
        IRONCLAD_COMPOSE,
        IRONCLAD_BACKEND_ENV,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation
        '      SMTP_URL: ${SMTP_URL:?set it in .env}\n      PUBLIC_URL: https://${DOMAIN}/tasks\n',
      ),
    }),
    { ALLOWED_HOSTS: '.example.com', PUBLIC_URL: 'https://tasks.example.com/tasks/' },
  ),
  ironclad(
    'clean-ironclad-loopback-relay',
    "plain-text SMTP to a relay sidecar in the API container's own network namespace (127.0.0.1), which is allowed",
    () => ({
      [COMPOSE]: after(
        IRONCLAD_COMPOSE,
        '      - backend\n',
        lines(
          '  relay:',
          '    image: boky/postfix:4.3.0',
          '    network_mode: service:backend',
          '    environment:',
          '      ALLOWED_SENDER_DOMAINS: example.com',
        ),
      ),
    }),
    { SMTP_URL: 'smtp://127.0.0.1:25?tls=none' },
  ),
];

export const REPOS: readonly RepoSpec[] = [
  ...COMPOSE_SETTINGS,
  ...DB_PORTS,
  ...DJANGO_SETTINGS_FAULTS,
  ...NODE_FAULTS,
  ...SECRET_FAULTS,
  ...CONTAINER_FAULTS,
  ...NGINX_FAULTS,
  ...HISTORY_FAULTS,
  ...VARIANT_FAULTS,
  ...RED_TEAM_FAULTS,
  ...K8S_EVASION_FAULTS,
  ...IRONCLAD_EMAIL_FAULTS,
  SEED_BEFORE,
  ...CLEAN,
  ...RED_TEAM_CLEAN,
  ...K8S_EVASION_CLEAN,
  ...CLEAN_VARIANTS,
  ...IRONCLAD_CLEAN,
];
