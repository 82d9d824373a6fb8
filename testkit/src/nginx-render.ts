/**
 * Renders deploy/nginx/templates/*.template the way the official nginx image does at container start
 * (/docker-entrypoint.d/20-envsubst-on-templates.sh): the real envsubst, told to replace exactly the names defined
 * in the environment, so nginx's own `$host`, `$uri`... are left alone. Then writes the image's own main nginx.conf
 * with its paths moved into one directory, so nginx runs as a child process of a test.
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
 * The image's main configuration (deploy/nginx/nginx.conf) with only its paths moved into `dir`: pid, temp files
 * and the rendered conf.d, and mime.types when this machine has none. Everything else, worker counts, limits and
 * all, is the shipped file's, so a test of the running topology is a test of what production runs. Run as root,
 * nginx would hand its workers to `nobody`, who cannot read the test's private temp directory; so the workers keep
 * the test's own user.
 */
export function mainConfigFor(dir: string, image = readFileSync(IMAGE_MAIN_CONF, 'utf8')): string {
  const tmp = join(dir, 'tmp');
  // nginx creates the temp directories itself, but not their parent.
  mkdirSync(tmp, { recursive: true });
  const replace = (text: string, from: RegExp, to: string) => {
    if (!from.test(text)) throw new Error(`deploy/nginx/nginx.conf no longer has ${from}; update mainConfigFor`);
    return text.replace(from, to);
  };
  let conf = image;
  conf = replace(conf, /^pid \/tmp\/nginx\.pid;$/m, `pid ${join(dir, 'nginx.pid')};`);
  conf = replace(conf, /\/tmp\/nginx-client-body;/, `${join(tmp, 'client_body')};`);
  for (const kind of ['proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    conf = replace(conf, new RegExp(`/tmp/nginx-${kind};`), `${join(tmp, kind)};`);
  }
  conf = replace(conf, /include \/etc\/nginx\/conf\.d\/\*\.conf;/, `include ${join(dir, 'conf.d')}/*.conf;`);
  if (!existsSync(MIME_TYPES)) {
    conf = replace(
      conf,
      /include \/etc\/nginx\/mime\.types;/,
      'types { text/html html; text/css css; application/javascript js; image/svg+xml svg; application/json json; }',
    );
  }
  return `${process.getuid?.() === 0 ? 'user root;\n' : ''}${conf}`;
}

/** Writes mainConfigFor(dir) to `<dir>/nginx.conf` (nginx's conf prefix is then `dir`, as /etc/nginx is in the image). */
export function writeMainConfig(dir: string): string {
  const path = join(dir, 'nginx.conf');
  writeFileSync(path, mainConfigFor(dir));
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

/** Certificates are made in one place (certificates.ts); re-exported for the topology and the static deploy tests. */
export { makeCertificate } from './certificates.js';
