/**
 * Renders deploy/nginx/templates/*.template the way the official nginx image does at container start
 * (/docker-entrypoint.d/20-envsubst-on-templates.sh): the real envsubst, told to replace exactly the names defined
 * in the environment, so nginx's own `$host`, `$uri`... are left alone. Then writes a main nginx.conf of its own
 * that keeps every file nginx writes inside one directory, so nginx runs as a child process of a test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, requireTool } from './gate.js';

export const TEMPLATE_DIR = join(REPO, 'deploy/nginx/templates');
export const TEMPLATE = join(TEMPLATE_DIR, 'default.conf.template');
/** The frontend image's main configuration (client/Dockerfile copies it to /etc/nginx/nginx.conf). */
export const IMAGE_MAIN_CONF = join(REPO, 'deploy/nginx/nginx.conf');

/** Every variable the template reads; docker-compose.yml gives each one a default. */
export const TEMPLATE_VARIABLES = [
  'DOMAIN',
  'API_UPSTREAM',
  'RESOLVER',
  'TLS_CERT',
  'TLS_KEY',
  'HTTP_PORT',
  'HTTPS_PORT',
  'HEALTH_PORT',
  'WEB_ROOT',
  'ACME_ROOT',
] as const;

export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Record<TemplateVariable, string>;

/**
 * envsubst with the image's rule: every name in `env` (and only those) is substituted. PATH is in the image's
 * environment too, so it is here: a template that said `$PATH` would be rendered, as it would be in production.
 */
export function renderTemplate(text: string, values: Record<string, string>): string {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...values };
  const shellFormat = Object.keys(env)
    .map((name) => `\${${name}}`)
    .join(' ');
  return execFileSync(requireTool('envsubst'), [shellFormat], { input: text, env, encoding: 'utf8' });
}

/** Renders every template into `<dir>/conf.d/`, as the image renders them into /etc/nginx/conf.d/. */
export function renderTemplates(dir: string, values: TemplateValues): string[] {
  const out = join(dir, 'conf.d');
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  for (const name of readdirSync(TEMPLATE_DIR)) {
    if (!name.endsWith('.template')) continue;
    const target = join(out, name.slice(0, -'.template'.length));
    writeFileSync(target, renderTemplate(readFileSync(join(TEMPLATE_DIR, name), 'utf8'), values));
    written.push(target);
  }
  return written;
}

const MIME_TYPES = '/etc/nginx/mime.types';

/**
 * A main nginx.conf for running the rendered templates as an unprivileged child process: pid, temp files and
 * error log in `dir`. Run as root, nginx would hand its workers to `nobody`, who cannot read the test's private
 * temp directory; so the workers keep the test's own user.
 */
export function writeMainConfig(dir: string): string {
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const mimeTypes = existsSync(MIME_TYPES)
    ? `include ${MIME_TYPES};`
    : 'types { text/html html; text/css css; application/javascript js; image/svg+xml svg; application/json json; }';
  const conf = [
    process.getuid?.() === 0 ? 'user root;' : '',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    'error_log stderr warn;',
    'events { worker_connections 256; }',
    'http {',
    `  ${mimeTypes}`,
    '  default_type application/octet-stream;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(tmp, kind)};`),
    `  include ${join(dir, 'conf.d')}/*.conf;`,
    '}',
    '',
  ].join('\n');
  const path = join(dir, 'nginx.conf');
  writeFileSync(path, conf);
  return path;
}

/** `nginx -t` on a prepared directory; returns nginx's output, throws with it on failure. */
export function nginxTest(dir: string, mainConf = join(dir, 'nginx.conf')): string {
  // Output to a file, not a pipe: nginx opens the template's /dev/stdout access log even for -t, and Node's
  // stdio pipes are sockets, which cannot be reopened that way.
  const logPath = join(dir, 'nginx-t.log');
  const log = openSync(logPath, 'w');
  try {
    const result = spawnSync(requireTool('nginx'), ['-t', '-p', `${dir}/`, '-c', mainConf], {
      stdio: ['ignore', log, log],
      timeout: 30_000,
    });
    const output = readFileSync(logPath, 'utf8');
    if (result.status !== 0) throw new Error(`nginx -t failed:\n${output}`);
    return output;
  } finally {
    closeSync(log);
  }
}

/** A throwaway self-signed certificate for `domain` (EC P-256), written to `dir`; returns the paths and PEM. */
export function makeCertificate(dir: string, domain: string): { cert: string; key: string; pem: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    requireTool('openssl'),
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      `/CN=${domain}`,
      '-addext',
      `subjectAltName=DNS:${domain}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}
