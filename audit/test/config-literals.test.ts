/**
 * Literal secrets under the keys real projects use (files/config-literals.ts), found by red teams on repositories the
 * auditor had never seen, and the words, names and references beside them that must stay quiet.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { configLiteralHits, looksLikeLiteralSecret } from '../src/files/config-literals.js';
import { LineIndex } from '../src/files/lines.js';

/** An interpolation as compose and shells write it (built, so that no linter reads a template literal slip). */
const REF = ['$', '{DB_PASSWORD}'].join('');
const password = () => `${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}7Q`;
const lines = (text: string, path: string) =>
  configLiteralHits(text, path, new LineIndex(text)).map((hit) => `${hit.line} ${hit.rule}`);

describe('literal secrets in configuration and code', () => {
  it('finds them under lower/camel-case keys, in every format', () => {
    const pw = password();
    expect(lines(`{\n  "db": { "password": "${pw}" }\n}\n`, 'config/default.json')).toEqual(['2 literal password']);
    expect(lines(`postgresql:\n  auth:\n    password: ${pw}\n`, 'values.yaml')).toEqual(['3 literal password']);
    expect(lines(`db_password = "${pw}"\n`, 'prod.tfvars')).toEqual(['1 literal db_password']);
    expect(lines(`const p = new Pool({ user: 'a', password: '${pw}', host: 'db' });\n`, 'src/db.js')).toEqual([
      '1 literal password',
    ]);
    expect(lines(`class S(BaseSettings):\n    secret_key: str = "${pw}"\n`, 'app/config.py')).toEqual([
      '2 literal secret_key',
    ]);
    expect(lines(`os.environ.setdefault("DJANGO_SECRET_KEY", "${pw}")\n`, 'wsgi.py')).toEqual([
      '1 literal DJANGO_SECRET_KEY',
    ]);
    expect(lines(`raw_env = ["DJANGO_SECRET_KEY=${pw}"]\n`, 'gunicorn.conf.py')).toEqual([
      '1 literal DJANGO_SECRET_KEY',
    ]);
    expect(lines(`const s = process.env.JWT_SECRET || '${pw}';\n`, 'src/auth.js')).toEqual([
      '1 literal process.env.JWT_SECRET',
    ]);
    expect(lines(`{ "Shop": "Host=db;Username=shop;Password=${pw}" }\n`, 'appsettings.json')).toEqual([
      '1 literal Password',
    ]);
    expect(lines(`env:\n  - name: DB_PASSWORD\n    value: "${pw}"\n`, 'k8s/deploy.yaml')).toEqual([
      '3 literal DB_PASSWORD',
    ]);
    expect(lines(`literals:\n  - DB_PASSWORD=${pw}\n`, 'kustomization.yaml')).toEqual(['2 literal DB_PASSWORD']);
    expect(lines(`BROKER = "amqp://shop:${pw}@rabbitmq:5672/shop"\n`, 'settings.py')).toEqual([
      '1 literal url-credentials',
    ]);
  });

  it('leaves words, names, references, placeholders and comments alone', () => {
    const quiet = [
      ['{ "password": "Password", "passwordHint": "At least 12 characters" }', 'en.json'],
      ["const pool = new Pool({ password: process.env.DB_PASSWORD, user: 'app' });", 'db.js'],
      [`password: ${REF}`, 'values.yaml'],
      ['password: "{{ .Values.db.password }}"', 'templates/secret.yaml'],
      ['password: ENC[AES256_GCM,data:abc123XYZ,type:str]', 'secrets.enc.yaml'],
      ["token: 'x-auth-token'", 'config.js'],
      ["secret: 'clientSecret'", 'config.js'],
      ['db_password = "changeme"', 'dev.tfvars'],
      ['password_file = "/run/secrets/db_password"', 'app.toml'],
      ['# password: Zq8vKp2LmX4wRt9yBn3c', 'values.yaml'],
      ['// const secret = "Zq8vKp2LmX4wRt9yBn3c";', 'old.js'],
      [`url = "postgres://app:${REF}@db/app"`, 'settings.py'],
      ['url = "redis://redis:6379/0"', 'settings.py'],
    ];
    for (const [text, path] of quiet) expect(lines(`${text}\n`, path as string), text).toEqual([]);
  });

  it('judges values: credentials yes, identifiers and words no', () => {
    expect(looksLikeLiteralSecret('hunter2prod')).toBe(true);
    expect(looksLikeLiteralSecret('ZqvKpLmXwRtyBncWsDfG')).toBe(true); // random letters, case flipping
    expect(looksLikeLiteralSecret('passwordHash')).toBe(false);
    expect(looksLikeLiteralSecret('DB_PASSWORD')).toBe(false);
    expect(looksLikeLiteralSecret('reset-password-form')).toBe(false);
    expect(looksLikeLiteralSecret('short1')).toBe(false);
  });

  it('reads hostile text once: 64 KiB of repeated keys and separators in well under a second', () => {
    const shapes = ['password="', "password: '", 'a=password=', '"x","', 'amqp://', 'x://a:b', '- name: DB_PASSWORD\n'];
    for (const shape of shapes) {
      const text = `${shape.repeat(Math.ceil(4000 / shape.length)).slice(0, 4000)}\n`.repeat(16);
      const started = performance.now();
      lines(text, 'values.yaml');
      expect(performance.now() - started, shape).toBeLessThan(1000);
    }
  });
});
