/**
 * Framework settings read statically: Django settings modules and Node server code. Every fault variant the checks
 * know, the clean-but-tricky cases they must leave alone, and the seed's "before" Django project. Secret values are
 * made at run time (randomKey), and every test that plants one checks that no finding prints it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { auditFiles } from '../src/file-checks.js';
import { auditDjangoSettings } from '../src/files/django.js';
import { auditNodeServer } from '../src/files/node-server.js';
import { severityRank } from '../src/findings.js';
import { makeRepo, randomKey, removeTempDirs } from './fixtures.js';

afterAll(removeTempDirs);

const FRAMEWORK = /^files\.(django|node)\./;

/** Framework findings of a repository made of `files`, as `id location`, sorted. */
async function frameworkFindings(files: Record<string, string>): Promise<string[]> {
  const { findings } = await auditFiles(makeRepo([{ write: files }]), { history: false });
  return findings
    .filter((f) => FRAMEWORK.test(f.id) || f.id.startsWith('files.secret.'))
    .map((f) => `${f.id} ${f.location}`)
    .sort();
}

/** The Django judgement alone (no git, no other checks): fast for many small variants. */
function django(files: Record<string, string>): string[] {
  return auditDjangoSettings(Object.keys(files), (path) => files[path])
    .findings.map((f) => `${f.id} ${f.location}`)
    .sort();
}

function node(files: Record<string, string>): string[] {
  return auditNodeServer(Object.keys(files), (path) => files[path])
    .findings.map((f) => `${f.id} ${f.location}`)
    .sort();
}

const lines = (...text: string[]) => `${text.join('\n')}\n`;

describe('Django settings', () => {
  it("finds every fault of the seed's before project, once per line, and never prints a value", async () => {
    const key = `django-insecure-${randomKey(40).toLowerCase()}`;
    const password = `pw${randomKey(16)}`;
    const dir = makeRepo([
      {
        write: {
          '.gitignore': '.env\n',
          'server/manage.py': lines(
            'import os, sys',
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'task_proj.settings')",
          ),
          'server/task_proj/settings.py': lines(
            'from pathlib import Path',
            '',
            '# Build paths inside the project like this: BASE_DIR / "subdir".',
            'BASE_DIR = Path(__file__).resolve().parent.parent',
            '',
            '# SECURITY WARNING: keep the secret key used in production secret!',
            `SECRET_KEY = '${key}'`,
            '',
            "# SECURITY WARNING: don't run with debug turned on in production!",
            'DEBUG = True',
            '',
            "ALLOWED_HOSTS = ['0.0.0.0', 'localhost', '*']",
            '',
            'INSTALLED_APPS = [',
            "    'django.contrib.admin',",
            "    'rest_framework',",
            "    'rest_framework.authtoken',",
            "    'corsheaders',",
            "    'user_app',",
            "    'task_app',",
            ']',
            '',
            'MIDDLEWARE = [',
            "    'corsheaders.middleware.CorsMiddleware',",
            "    'django.middleware.security.SecurityMiddleware',",
            ']',
            '',
            'CORS_ALLOW_ALL_ORIGINS = True',
            '',
            'DATABASES = {',
            "    'default': {",
            "        'ENGINE': 'django.db.backends.postgresql',",
            "        'NAME': 'task_db',",
            "        'USER': 'cp_user',",
            `        "PASSWORD": "${password}",`,
            "        'HOST': 'postgres-container',",
            "        'PORT': '5432'",
            '    }',
            '}',
            "AUTH_USER_MODEL = 'user_app.AppUser'",
          ),
          'docker-compose.yml': lines(
            'services:',
            '  db:',
            '    image: postgres:15',
            '    environment:',
            '      - POSTGRES_PASSWORD=password',
            '    ports:',
            '      - "5433:5432"',
            '  backend:',
            '    build: ./server',
            '    command: sh -c "gunicorn task_proj.wsgi --bind 0.0.0.0:8000 --reload"',
            '    ports:',
            '      - "8000:8000"',
          ),
        },
      },
    ]);
    const { findings } = await auditFiles(dir, { history: false });
    const at = (id: string) => findings.filter((f) => f.id === id).map((f) => f.location);
    expect(at('files.django.secret-key')).toEqual(['server/task_proj/settings.py:7']);
    expect(at('files.django.debug')).toEqual(['server/task_proj/settings.py:10']);
    expect(at('files.django.allowed-hosts')).toEqual(['server/task_proj/settings.py:12']);
    expect(at('files.django.cors-all')).toEqual(['server/task_proj/settings.py:28']);
    expect(at('files.django.database-password')).toEqual(['server/task_proj/settings.py:35']);
    for (const id of ['files.compose.db-port', 'files.compose.backend-port', 'files.reload-mode']) {
      expect(at(id), id).toHaveLength(1);
    }
    // One finding per line: the generic heuristics do not report the key and the password again.
    const settingsLines = findings.filter((f) => f.location?.startsWith('server/task_proj/settings.py'));
    expect(new Set(settingsLines.map((f) => f.location)).size).toBe(settingsLines.length);
    const printed = JSON.stringify(findings);
    for (const secret of [key, password, key.slice(16, 30), password.slice(2, 12)]) {
      expect(printed).not.toContain(secret);
    }
  });

  it('DEBUG: on as a literal or as the default of every environment reader; off or unknown otherwise', () => {
    const variants: [string, boolean][] = [
      ['DEBUG = True', true],
      ["DEBUG = os.environ.get('DEBUG', 'True') == 'True'", true],
      ["DEBUG = os.getenv('DJANGO_DEBUG', 'true').lower() in ('true', '1', 'yes')", true],
      ["DEBUG = bool(int(os.environ.get('DEBUG', '1')))", true],
      ["DEBUG = os.environ.get('DEBUG', 'False')", true], // a non-empty string is true
      ["DEBUG = env.bool('DEBUG', default=True)", true],
      ["DEBUG = config('DEBUG', default=True, cast=bool)", true],
      ["DEBUG = config('DEBUG', default='True', cast=bool)", true],
      ["DEBUG = env('DEBUG')", true], // environ.Env(DEBUG=(bool, True)) declares the default
      ["DEBUG = os.getenv('DEBUG') == '1'", false],
      ["DEBUG = os.environ.get('DEBUG', 'False') == 'True'", false],
      ["DEBUG = env.bool('DEBUG', default=False)", false],
      ["DEBUG = config('DEBUG', default=False, cast=bool)", false],
      ["DEBUG = config('DEBUG', cast=bool)", false],
      ["DEBUG = config('DEBUG', default='False', cast=bool)", false],
      ["DEBUG = env('DEBUG', cast=bool, default='False')", false],
      ["DEBUG = eval(os.environ.get('DEBUG', 'True'))", true],
      ["DEBUG = os.environ['DEBUG'] == 'True'", false],
      ["DEBUG = os.environ.get('DEBUG', '')", false],
      ['DEBUG = not PRODUCTION', false],
      ['DEBUG = is_debug()', false],
    ];
    for (const [statement, fault] of variants) {
      const settings = lines(
        'import os',
        'import environ',
        'from decouple import config',
        'env = environ.Env(DEBUG=(bool, True))',
        "PRODUCTION = os.environ.get('PRODUCTION') == '1'",
        statement,
      );
      expect(django({ 'app/settings.py': settings }), statement).toEqual(
        fault ? ['files.django.debug app/settings.py:6'] : [],
      );
    }
  });

  it('ALLOWED_HOSTS and CORS: any host or origin, as literals, environment defaults, appends and match-all regexes', () => {
    const faults: [string, string][] = [
      ["ALLOWED_HOSTS = ['*']", 'allowed-hosts'],
      ['ALLOWED_HOSTS = ["*"]', 'allowed-hosts'],
      ["ALLOWED_HOSTS = os.environ.get('ALLOWED_HOSTS', '*').split(',')", 'allowed-hosts'],
      ["ALLOWED_HOSTS = [h.strip() for h in os.getenv('HOSTS', 'a.example, *').split(',') if h]", 'allowed-hosts'],
      ["ALLOWED_HOSTS = env.list('ALLOWED_HOSTS', default=['*'])", 'allowed-hosts'],
      ["ALLOWED_HOSTS = config('ALLOWED_HOSTS', default='*', cast=Csv())", 'allowed-hosts'],
      ["ALLOWED_HOSTS = ['tasks.example.com']; ALLOWED_HOSTS += ['*']", 'allowed-hosts'],
      ['CORS_ALLOW_ALL_ORIGINS = True', 'cors-all'],
      ['CORS_ORIGIN_ALLOW_ALL = True', 'cors-all'],
      ["CORS_ALLOW_ALL_ORIGINS = os.environ.get('CORS_ALL', 'True') == 'True'", 'cors-all'],
      ['CORS_ALLOWED_ORIGIN_REGEXES = [r".*"]', 'cors-all'],
      ["CORS_ALLOWED_ORIGIN_REGEXES = [r'^.*$']", 'cors-all'],
      ["CORS_ORIGIN_REGEX_WHITELIST = (r'^https?://.*$',)", 'cors-all'],
    ];
    for (const [statement, id] of faults) {
      const settings = lines('import os', 'from decouple import config, Csv', 'env = environ.Env()', statement);
      expect(django({ 'app/settings.py': settings }), statement).toEqual([`files.django.${id} app/settings.py:4`]);
    }
    const fine = [
      "ALLOWED_HOSTS = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')",
      "ALLOWED_HOSTS = os.environ['ALLOWED_HOSTS'].split(',')",
      "ALLOWED_HOSTS = ['.example.com']",
      "CORS_ALLOWED_ORIGINS = os.environ.get('CORS_ALLOWED_ORIGINS', 'http://localhost').split(',')",
      'CORS_ALLOW_ALL_ORIGINS = False',
      "CORS_ALLOWED_ORIGIN_REGEXES = [r'^https://\\w+\\.example\\.com$']",
      'CORS_ALLOW_CREDENTIALS = True',
    ];
    for (const statement of fine) {
      expect(django({ 'app/settings.py': lines('import os', statement) }), statement).toEqual([]);
    }
  });

  it('SECRET_KEY and database passwords: literals, environment defaults and database URLs; refused placeholders pass', () => {
    const key = randomKey(50);
    const pw = randomKey(20);
    const faults: [string, string][] = [
      [`SECRET_KEY = '${key}'`, 'secret-key'],
      [`SECRET_KEY = "django-insecure-${key}"`, 'secret-key'],
      [`SECRET_KEY = r'''${key}'''`, 'secret-key'],
      [`SECRET_KEY = os.environ.get('SECRET_KEY', '${key}')`, 'secret-key'],
      ["SECRET_KEY = os.environ.get('SECRET_KEY', 'changeme')", 'secret-key'],
      [`SECRET_KEY = env('SECRET_KEY', default='${key}')`, 'secret-key'],
      [`SECRET_KEY = config('SECRET_KEY', default='${key}')`, 'secret-key'],
      [
        `DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'PASSWORD': '${pw}'}}`,
        'database-password',
      ],
      [`DATABASES = {'default': {'PASSWORD': os.getenv('DB_PASSWORD', '${pw}')}}`, 'database-password'],
      [
        `DATABASES = {'default': dj_database_url.config(default='postgres://app:${pw}@db:5432/app')}`,
        'database-password',
      ],
      [`DATABASES = {'default': env.db('DATABASE_URL', default='postgres://app:${pw}@db/app')}`, 'database-password'],
    ];
    for (const [statement, id] of faults) {
      const settings = lines('import os', 'from decouple import config', 'env = environ.Env()', statement);
      const found = auditDjangoSettings(['app/settings.py'], () => settings).findings;
      expect(
        found.map((f) => `${f.id} ${f.location}`),
        statement,
      ).toEqual([`files.django.${id} app/settings.py:4`]);
      expect(JSON.stringify(found)).not.toContain(key.slice(0, 12));
      expect(JSON.stringify(found)).not.toContain(pw.slice(0, 12));
    }
    // Multi-line: the location is the literal's own line.
    expect(
      django({
        'app/settings.py': lines(
          'import os',
          'DATABASES = {',
          "    'default': {",
          "        'NAME': os.environ.get('POSTGRES_DB'),",
          `        'PASSWORD': os.environ.get('POSTGRES_PASSWORD', '${pw}'),`,
          '    }',
          '}',
          'SECRET_KEY = os.environ.get(',
          "    'SECRET_KEY',",
          `    '${key}',`,
          ')',
        ),
      }),
    ).toEqual(['files.django.database-password app/settings.py:5', 'files.django.secret-key app/settings.py:10']);
    // A subscript assignment, and a try/except fallback.
    expect(
      django({
        'app/settings.py': lines(
          'import os',
          "DATABASES = {'default': {'PASSWORD': os.environ['DB_PASSWORD']}}",
          'try:',
          "    SECRET_KEY = os.environ['SECRET_KEY']",
          'except KeyError:',
          `    SECRET_KEY = '${key}'`,
          `DATABASES['default']['PASSWORD'] = '${pw}'`,
        ),
      }),
    ).toEqual(['files.django.database-password app/settings.py:7', 'files.django.secret-key app/settings.py:6']);
    const fine = [
      "SECRET_KEY = os.environ['SECRET_KEY']",
      "SECRET_KEY = os.environ.get('SECRET_KEY')",
      "SECRET_KEY = os.environ.get('SECRET_KEY', '')",
      "SECRET_KEY = env('SECRET_KEY')",
      "SECRET_KEY = config('SECRET_KEY')",
      // Random at import: sessions break on restart, nothing leaks; not these checks' business.
      "SECRET_KEY = os.environ.get('SECRET_KEY', get_random_secret_key())",
      "DATABASES = {'default': {'PASSWORD': os.environ.get('DB_PASSWORD', '')}}",
      "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': BASE_DIR / 'db.sqlite3'}}",
      "DATABASES = {'default': dj_database_url.config(default=f'sqlite:///{BASE_DIR}/db.sqlite3')}",
      "DATABASES = {'default': dj_database_url.config(default='postgres://app@db/app')}",
      `DATABASES = {'default': {'PASSWORD': '${'$'}{DB_PASSWORD}'}}`,
    ];
    for (const statement of fine) {
      expect(django({ 'app/settings.py': lines('import os', 'env = environ.Env()', statement) }), statement).toEqual(
        [],
      );
    }
    // A placeholder the module refuses in production is not a working key.
    expect(
      django({
        'app/settings.py': lines(
          'import os',
          "SECRET_KEY = os.environ.get('DJANGO_SECRET_KEY', 'django-insecure-local-only')",
          "DEBUG = os.environ.get('DJANGO_DEBUG', '') == '1'",
          "if not DEBUG and SECRET_KEY.startswith('django-insecure'):",
          "    raise ImproperlyConfigured('Set DJANGO_SECRET_KEY')",
        ),
      }),
    ).toEqual([]);
  });

  it('insecure cookies and redirects: a literal False in production or base settings only', () => {
    const settings = lines(
      'SESSION_COOKIE_SECURE = False',
      'CSRF_COOKIE_SECURE = False',
      'SECURE_SSL_REDIRECT = False',
      "SESSION_COOKIE_SECURE_OTHER = os.environ.get('X', False)",
    );
    expect(django({ 'proj/settings.py': settings })).toEqual([
      'files.django.insecure-cookie proj/settings.py:1',
      'files.django.insecure-cookie proj/settings.py:2',
      'files.django.insecure-cookie proj/settings.py:3',
    ]);
    expect(django({ 'proj/settings/dev.py': settings })).toEqual([]);
    expect(
      django({
        'proj/settings.py': lines("SESSION_COOKIE_SECURE = os.environ.get('SECURE', '') == '1'", 'DEBUG = False'),
      }),
    ).toEqual([]);
  });

  it('roles: development modules report nothing; where a production module overrides base, the override is judged', async () => {
    const key = randomKey(50);
    const found = await frameworkFindings({
      '.gitignore': '.env\n',
      'proj/settings/__init__.py': '',
      'proj/settings/base.py': lines(
        'import os',
        "INSTALLED_APPS = ['django.contrib.admin']",
        'DEBUG = True',
        `SECRET_KEY = '${key}'`,
        "ALLOWED_HOSTS = ['*']",
        "DATABASES = {'default': {'PASSWORD': 'local-db-pw'}}",
        'CORS_ALLOW_ALL_ORIGINS = True',
      ),
      'proj/settings/production.py': lines(
        'from .base import *',
        'import os',
        'DEBUG = False',
        "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']",
        "ALLOWED_HOSTS = os.environ['ALLOWED_HOSTS'].split(',')",
        "DATABASES['default']['PASSWORD'] = os.environ['DB_PASSWORD']",
        'SESSION_COOKIE_SECURE = True',
      ),
      'proj/settings/dev.py': lines(
        'from .base import *',
        'DEBUG = True',
        "EMAIL_HOST_PASSWORD = 'mailhog-local'",
        `SECRET_KEY = 'dev-${key}'`,
        "ALLOWED_HOSTS = ['*']",
        'SESSION_COOKIE_SECURE = False',
      ),
      'proj/settings/test.py': lines('from .base import *', "DATABASES = {'default': {'PASSWORD': 'test-pw'}}"),
      'proj/settings_local.py': lines('DEBUG = True', "SECRET_KEY = 'local-only-key'", "ALLOWED_HOSTS = ['*']"),
      'tests/settings.py': lines('DEBUG = True', "SECRET_KEY = 'tests-only-key'"),
    });
    // Production overrides DEBUG, the key, the hosts and the password; CORS it leaves to base, which is judged.
    // The development modules' literals are not reported by the generic secret heuristics either.
    expect(found).toEqual(['files.django.cors-all proj/settings/base.py:7']);
  });

  it('clean but tricky: comments, docstrings, conditional blocks, readers without defaults, other .py files', async () => {
    const found = await frameworkFindings({
      '.gitignore': '.env\n',
      'proj/settings.py': lines(
        '"""',
        'Settings. Never write DEBUG = True or ALLOWED_HOSTS = ["*"] here.',
        '"""',
        'import os',
        '# DEBUG = True',
        "# ALLOWED_HOSTS = ['*']",
        "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']",
        "DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True'",
        "ALLOWED_HOSTS = os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',')",
        'if DEBUG:',
        "    ALLOWED_HOSTS = ['*']",
        '    CORS_ALLOW_ALL_ORIGINS = True',
        "HELP = 'set CORS_ALLOW_ALL_ORIGINS = True only locally'",
        'DATABASES = {',
        "    'default': {",
        "        'ENGINE': 'django.db.backends.postgresql',",
        "        'PASSWORD': os.environ['POSTGRES_PASSWORD'],",
        "        'HOST': os.environ.get('DB_HOST', 'db'),",
        '    }',
        '}',
        'SESSION_COOKIE_SECURE = not DEBUG',
      ),
      // Not a settings module: one marker name only, in an ordinary module.
      'app/views.py': lines('DEBUG = True', 'def view(request):', '    return None'),
      'docs/example_settings.py': lines('DEBUG = True', "SECRET_KEY = 'documented-example'"),
    });
    expect(found).toEqual([]);
  });
});

describe('Node server code', () => {
  it('CORS from any origin with credentials, in each framework spelling', () => {
    const cases: [string, string][] = [
      ['app.use(cors({ origin: true, credentials: true }));', 'express cors origin true'],
      ["app.use(cors({ origin: '*', credentials: true }));", 'express cors *'],
      ['app.use(cors({ origin: (origin, cb) => cb(null, true), credentials: true }));', 'callback arrow'],
      ['app.use(cors({ credentials: true, origin: function (o, callback) { callback(null, o); } }));', 'callback echo'],
      ['app.use(cors({ origin: /.*/, credentials: true }));', 'match-all regex'],
      ["app.use(cors({ origin: process.env.CORS_ORIGIN || '*', credentials: true }));", 'env fallback *'],
      ['await fastify.register(cors, { origin: true, credentials: true });', 'fastify'],
      ["fastify.register(require('@fastify/cors'), { credentials: true });", 'fastify default origin'],
      ['app.enableCors({ origin: true, credentials: true });', 'nest enableCors'],
      [
        'const app = await NestFactory.create(AppModule, { cors: { origin: true, credentials: true } });',
        'nest create',
      ],
      ["app.use(cors({ origin: (ctx) => ctx.get('Origin'), credentials: true }));", 'koa echo'],
      ['const io = new Server(server, { cors: { origin: true, credentials: true } });', 'socket.io'],
      ["app.use('/api/*', cors({ origin: (origin) => origin, credentials: true }));", 'hono echo'],
    ];
    for (const [code, name] of cases) {
      expect(node({ 'server/src/app.ts': `import cors from 'cors';\n${code}\n` }), name).toEqual([
        'files.node.cors-credentials server/src/app.ts:2',
      ]);
    }
    // The options in a constant; a spread of shared options.
    expect(
      node({
        'server/app.js': lines(
          "const cors = require('cors');",
          'const base = { credentials: true };',
          'const corsOptions = {',
          '  ...base,',
          '  origin: true,',
          '};',
          'app.use(cors(corsOptions));',
        ),
      }),
    ).toEqual(['files.node.cors-credentials server/app.js:5']);
    // Headers by hand, echoing the request's Origin unchecked.
    expect(
      node({
        'server/app.js': lines(
          'app.use((req, res, next) => {',
          "  res.setHeader('Access-Control-Allow-Origin', req.headers.origin);",
          "  res.setHeader('Access-Control-Allow-Credentials', 'true');",
          '  next();',
          '});',
        ),
      }),
    ).toEqual(['files.node.cors-credentials server/app.js:2']);
    expect(
      node({
        'server/app.js': lines(
          'app.use((req, res, next) => {',
          "  const origin = req.header('Origin');",
          "  res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': true });",
          '  next();',
          '});',
        ),
      }),
    ).toEqual(['files.node.cors-credentials server/app.js:3']);
  });

  it('CORS without credentials, exact lists, environment origins, allowlist checks and commented code are fine', () => {
    expect(
      node({
        'server/src/app.ts': lines(
          "import cors from 'cors';",
          'app.use(cors());',
          'app.use(cors({ origin: true }));',
          "app.use(cors({ origin: '*' }));",
          "app.use(cors({ origin: ['https://app.example.com'], credentials: true }));",
          "app.use(cors({ origin: 'https://app.example.com', credentials: true }));",
          'app.use(cors({ origin: process.env.CORS_ORIGIN, credentials: true }));',
          "app.use(cors({ origin: process.env.CORS_ORIGINS?.split(','), credentials: true }));",
          'app.use(cors({ origin: (origin, cb) => cb(null, ALLOWED.includes(origin)), credentials: true }));',
          'app.use(cors({',
          '  origin(origin, callback) {',
          '    if (!origin || allowlist.has(origin)) callback(null, true);',
          "    else callback(new Error('Not allowed'));",
          '  },',
          '  credentials: true,',
          '}));',
          '// app.use(cors({ origin: true, credentials: true }));',
          '/* app.enableCors({ origin: true, credentials: true }); */',
          "const doc = 'never cors({ origin: true, credentials: true })';",
          'app.use((req, res, next) => {',
          '  const origin = req.headers.origin;',
          "  if (ALLOWED.includes(origin)) res.setHeader('Access-Control-Allow-Origin', origin);",
          "  res.setHeader('Access-Control-Allow-Credentials', 'true');",
          '  next();',
          '});',
          "fetch(url, { credentials: 'include' });",
          "if (process.env.NODE_ENV === 'development') {",
          '  app.use(cors({ origin: true, credentials: true }));',
          '}',
          "if (process.env.NODE_ENV !== 'production') app.use(cors({ origin: true, credentials: true }));",
        ),
      }),
    ).toEqual([]);
  });

  it('secret literals: session, cookie-parser, JWT sign/verify, JWT and passport options, HMAC, Koa keys, fallbacks', () => {
    const secret = randomKey(24);
    const cases: string[] = [
      `app.use(session({ secret: '${secret}', resave: false }));`,
      `app.use(cookieParser('${secret}'));`,
      `const token = jwt.sign({ id: user.id }, '${secret}', { expiresIn: '1h' });`,
      `const payload = jwt.verify(token, "${secret}");`,
      `fastify.register(require('@fastify/jwt'), { secret: '${secret}' });`,
      `JwtModule.register({ secret: \`${secret}\`, signOptions: { expiresIn: '60s' } })`,
      `super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: '${secret}' });`,
      `const hmac = crypto.createHmac('sha256', '${secret}');`,
      `app.keys = ['${secret}'];`,
      `const JWT_SECRET = process.env.JWT_SECRET || '${secret}';`,
      `export const config = { jwtSecret: process.env.JWT_SECRET ?? 'dev-secret' };`,
      `app.use(session({ secret: process.env.SESSION_SECRET || 'keyboard cat' }));`,
      `const { JWT_SECRET = '${secret}' } = process.env;`,
      `process.env.SESSION_SECRET ??= '${secret}';`,
      `class Auth { private readonly jwtSecret = '${secret}'; }`,
    ];
    for (const code of cases) {
      const found = auditNodeServer(['server/src/app.ts'], () => `import jwt from 'jsonwebtoken';\n${code}\n`).findings;
      expect(
        found.map((f) => `${f.id} ${f.location}`),
        code,
      ).toEqual(['files.node.secret-literal server/src/app.ts:2']);
      expect(JSON.stringify(found)).not.toContain(secret.slice(0, 10));
    }
    // A constant used as the secret is reported where the literal is written.
    expect(
      node({
        'server/auth.js': lines(
          "const jwt = require('jsonwebtoken');",
          `const signingSecret = '${secret}';`,
          'module.exports = (user) => jwt.sign({ sub: user.id }, signingSecret);',
        ),
      }),
    ).toEqual(['files.node.secret-literal server/auth.js:2']);
    // node-config: config/default.json holds the secret; custom-environment-variables.json names variables.
    expect(
      node({
        'config/default.json': JSON.stringify({ mongoURI: 'mongodb://db/app', jwtSecret: secret }, null, 2),
        'config/custom-environment-variables.json': JSON.stringify({ jwtSecret: 'JWT_SECRET' }, null, 2),
        'config/test.json': JSON.stringify({ jwtSecret: secret }, null, 2),
      }),
    ).toEqual(['files.node.secret-literal config/default.json:3']);
  });

  it('secrets read from the environment, conditional development values, test files and tool configs are fine', () => {
    const secret = randomKey(24);
    expect(
      node({
        'server/src/app.ts': lines(
          "import jwt from 'jsonwebtoken';",
          'app.use(session({ secret: process.env.SESSION_SECRET!, resave: false }));',
          'app.use(cookieParser(process.env.COOKIE_SECRET));',
          'const token = jwt.sign(payload, process.env.JWT_SECRET as string);',
          'const other = jwt.sign(payload, config.jwt.secret);',
          "const secret = process.env.NODE_ENV === 'test' ? 'test-secret' : process.env.JWT_SECRET;",
          "const empty = { secret: '' };",
          'interface Options { secret: string; clientSecret?: string }',
          "const label = { name: 'secret', type: 'password' };",
          'const fieldSecret = { type: String, required: true, select: false };',
          "crypto.createHash('sha256').update('not a key');",
          'const key = crypto.createHmac(algorithm, secretFromVault);',
          'if (isDev) {',
          "  app.use(session({ secret: 'dev-only-session' }));",
          '}',
        ),
        'server/test/auth.test.ts': `jwt.sign(p, '${secret}');\napp.use(cors({ origin: true, credentials: true }));\n`,
        'server/src/__tests__/app.spec.js': `app.use(session({ secret: '${secret}' }));\n`,
        'client/vite.config.ts': 'export default { server: { cors: { origin: true, credentials: true } } };\n',
        'server/node_modules/express-session/index.js': `const s = { secret: '${secret}' };\n`,
        'server/dist/app.js': `app.use(session({ secret: '${secret}' }));\n`,
        'public/vendor.min.js': `app.use(session({ secret: '${secret}' }));\n`,
        'docs/setup.md': `app.use(session({ secret: '${secret}' }));\n`,
      }),
    ).toEqual([]);
  });

  it('in a repository: the Node finding replaces the generic hard-coded-secret hit on its line', async () => {
    const secret = randomKey(40);
    const found = await auditFiles(
      makeRepo([{ write: { '.gitignore': '.env\n', 'server/config.js': `const SESSION_SECRET = '${secret}';\n` } }]),
      { history: false },
    );
    const on = found.findings.filter((f) => f.location === 'server/config.js:1').map((f) => f.id);
    expect(on).toEqual(['files.node.secret-literal']);
    expect(JSON.stringify(found.findings)).not.toContain(secret.slice(0, 10));
  });
});

describe('bounded work on hostile input', () => {
  const timed = (run: () => unknown) => {
    const started = performance.now();
    run();
    return performance.now() - started;
  };
  const N = 64 * 1024;

  it('reads 64 KiB of pathological Python and JavaScript quickly, without throwing', () => {
    const python = [
      `DEBUG = ${'('.repeat(N / 4)}True${')'.repeat(N / 4)}`,
      `SECRET_KEY = '${"\\'".repeat(N / 2)}`,
      `ALLOWED_HOSTS = [${'"*",'.repeat(N / 4)}]`,
      `X = 'ab'\n${'X = X + X\n'.repeat(N / 10)}DEBUG = X`,
      `SECRET_KEY = """${'"'.repeat(N)}`,
      `DEBUG = ${'not '.repeat(N / 4)}True`,
      `DATABASES = ${'{"a": '.repeat(N / 8)}1${'}'.repeat(N / 8)}`,
    ];
    for (const text of python) {
      const files = { 'p/settings.py': text };
      expect(
        timed(() => django(files)),
        text.slice(0, 20),
      ).toBeLessThan(1000);
    }
    // Many lines: a single 64 KiB line is skipped as minified before it is tokenized.
    const js = [
      `app.use(cors(${'{ origin:\n'.repeat(N / 10)}true${' }'.repeat(N / 10)}))`,
      `const a = ${'`${\n'.repeat(N / 4)}`,
      `x = ${'/\n'.repeat(N / 2)}`,
      `${"res.setHeader('Access-Control-Allow-Origin', req.headers.origin);\n".repeat(N / 64)}res.setHeader('Access-Control-Allow-Credentials', 'true');`,
      `const secret = ${'a ||\n'.repeat(N / 5)}'x';`,
      `app.use(session({ ${"secret: 'abc',\n".repeat(N / 15)} }));`,
      'const corsOptions = { ...corsOptions, credentials: true };\napp.use(cors(corsOptions));',
      'const a = b;\nconst b = a;\njwt.sign(p, a);',
    ];
    for (const text of js) {
      const files = { 'server/app.js': text };
      expect(
        timed(() => node(files)),
        text.slice(0, 20),
      ).toBeLessThan(1000);
    }
  });

  it('a clean repository stays free of framework findings at warning or above', async () => {
    const { findings } = await auditFiles(
      makeRepo([
        {
          write: {
            '.gitignore': '.env\n',
            'server/src/main.ts': lines(
              "import cors from 'cors';",
              "app.use(cors({ origin: process.env.CORS_ORIGINS?.split(',') ?? [], credentials: true }));",
            ),
          },
        },
      ]),
      { history: false },
    );
    const serious = findings.filter((f) => FRAMEWORK.test(f.id) && severityRank(f.severity) >= severityRank('warning'));
    expect(serious).toEqual([]);
  });
});
