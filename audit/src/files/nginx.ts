/**
 * nginx configuration checks (files.nginx.*). Finds the repository's nginx configurations and templates, reads them
 * with nginx-parse.ts, splices in the files they `include` when those are in the repository (relative to the file,
 * to nginx's prefix /etc/nginx, or to where compose or a Dockerfile puts them: nginx-deploy.ts), and judges:
 *
 * - server-tokens: `server_tokens on|build` anywhere. Missing `server_tokens off` (the default is on) is a fault
 *   only when no nginx file of the repository sets it off anywhere: a fragment of server blocks cannot know what the
 *   main nginx.conf sets, and a careful repository sets it once, in a file this audit may not be able to place. Then
 *   a complete nginx.conf is reported at its http block, a fragment at its first server that answers (a redirect
 *   shows the version in its Server header; `return 444` and a rejected handshake show nothing).
 * - autoindex: `autoindex on` in a place that is not closed to every client (`internal`, `deny all`).
 * - tls-legacy: `ssl_protocols` naming SSLv2, SSLv3, TLSv1 or TLSv1.1.
 * - root-exposes-repo: a location that serves files (no proxy_pass/return/...) from a directory that holds the
 *   checkout or its sources, with no location refusing dotfiles. "Holds" comes from compose bind mounts, Dockerfile
 *   COPY, clone/pull targets in deploy scripts, or the checkout's own absolute path; "sources" are .env, .git,
 *   server code and deployment files, after the build context's .dockerignore for a COPY. An nginx image with no
 *   configuration of the repository serves /usr/share/nginx/html from its stock default site.
 * - hsts-missing: a TLS server block (listen ... ssl|quic, or `ssl on`) that serves content without
 *   Strict-Transport-Security: add_header in the server (or in http when the server has none of its own, or in an
 *   included snippet), and for `/` also the gotcha of add_header inheritance: a `location /` with add_header of its
 *   own drops every header of the server. Not reported when the application proxied at `/` sends HSTS itself
 *   (Django's SECURE_HSTS_SECONDS, helmet), or for servers that only redirect or refuse.
 * - default-server: a port whose server blocks are all named (server_name other than `_`/"") with no
 *   `default_server` among them: requests for other names get the first named site.
 *
 * Files named for development (`dev`, `local`, ...) and test fixtures are not judged; locations are `path:line`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { dockerIgnores } from '../file-checks.js';
import { type Finding, finding } from '../findings.js';
import {
  concreteTarget,
  type DeployFacts,
  deployFacts,
  type Holding,
  interpolate,
  isDevelopmentPath,
  isTestPath,
  SELF,
} from './nginx-deploy.js';
import { type Directive, globMatch, parseNginx, walk } from './nginx-parse.js';

const MAX_BYTES = 1024 * 1024;
const MAX_INCLUDE_DEPTH = 8;
/** Directives all files may expand to, includes spliced in (includes of includes cannot multiply the work). */
const MAX_EXPANDED = 50_000;
const MAX_SPLICES = 200;
const PREFIX = '/etc/nginx';

/** Names that are nginx configuration by where they are. */
function isNginxName(path: string): boolean {
  const lower = path.toLowerCase();
  const name = basename(lower);
  const parts = lower.split('/').slice(0, -1);
  if (name === 'nginx.conf' || name === 'default.conf' || name.endsWith('.nginx')) return true;
  if (['.conf.template', '.conf.tmpl', '.conf.tpl', '.nginx.conf'].some((end) => name.endsWith(end))) return true;
  const inNginxDir = parts.some((part) =>
    ['nginx', 'conf.d', 'sites-available', 'sites-enabled', 'snippets', 'openresty'].includes(part),
  );
  if (!inNginxDir || NOT_CONFIG.has(name)) return false;
  // sites-available/example.com and sites-enabled/app have no extension (a dotted site name has one that is not ours).
  const sites = parts.some((part) => part === 'sites-available' || part === 'sites-enabled');
  if (name.endsWith('.md') || name.endsWith('.txt')) return false;
  return CONFIG_EXTENSIONS.some((ext) => name.endsWith(ext)) || !name.includes('.') || sites;
}

const CONFIG_EXTENSIONS = ['.conf', '.inc', '.template', '.vhost', '.nginx'];
const NOT_CONFIG = new Set(['dockerfile', 'readme', 'license', 'makefile', '.dockerignore', '.gitignore', '.gitkeep']);

/** Directives that only nginx configurations have, to recognise a `*.conf` anywhere by its content. */
const NGINX_WORDS = new Set(['listen', 'server_name', 'location', 'proxy_pass', 'root', 'upstream', 'ssl_certificate']);

function readSmall(dir: string, file: string): string | undefined {
  try {
    const full = join(dir, file);
    if (statSync(full).size > MAX_BYTES) return undefined;
    return readFileSync(full, 'utf8');
  } catch {
    return undefined;
  }
}

function looksLikeNginx(tree: readonly Directive[]): boolean {
  const blocks = tree.filter((d) => d.block && (d.name === 'server' || d.name === 'http'));
  return blocks.some((block) => [...walk(block.block ?? [])].some(({ directive }) => NGINX_WORDS.has(directive.name)));
}

interface Parsed {
  file: string;
  tree: Directive[];
}

/** The repository's nginx files, parsed; test fixtures are left out. */
function findConfigs(dir: string, files: readonly string[]): Parsed[] {
  const out: Parsed[] = [];
  for (const file of files) {
    if (isTestPath(file)) continue;
    const named = isNginxName(file);
    if (!named && !file.toLowerCase().endsWith('.conf')) continue;
    const text = readSmall(dir, file);
    if (text === undefined) continue;
    const tree = parseNginx(text, file);
    if (named || looksLikeNginx(tree)) out.push({ file, tree });
  }
  return out;
}

// ---------- includes ----------

/** The paths each file has where nginx runs: its repository path, where it is mounted or copied, its rendered name. */
function pathsOf(parsed: readonly Parsed[], facts: DeployFacts): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const { file } of parsed) {
    const list = [file];
    for (const placed of facts.placed) {
      if (placed.source === file) list.push(placed.target);
      else if (file.startsWith(`${placed.source}/`) || placed.source === '')
        list.push(posix.join(placed.target, file.slice(placed.source === '' ? 0 : placed.source.length + 1)));
    }
    // The official image renders /etc/nginx/templates/X.template to /etc/nginx/conf.d/X.
    for (const path of [...list]) {
      const at = path.lastIndexOf('templates/');
      if (path.endsWith('.template') && at !== -1)
        list.push(`${PREFIX}/conf.d/${path.slice(at + 'templates/'.length, -'.template'.length)}`);
    }
    names.set(file, list);
  }
  return names;
}

function resolveInclude(
  pattern: string,
  from: string,
  parsed: readonly Parsed[],
  names: Map<string, string[]>,
): Parsed[] {
  if (pattern.includes('$')) return [];
  const absolute = pattern.startsWith('/') ? [pattern] : [`${PREFIX}/${pattern}`];
  const relative = pattern.startsWith('/') ? [] : [posix.normalize(posix.join(dirname(from), pattern))];
  const exact = parsed.filter(({ file }) =>
    (names.get(file) ?? []).some(
      (name) => absolute.some((p) => globMatch(p, name)) || relative.some((p) => globMatch(p, name)),
    ),
  );
  if (exact.length > 0) return exact;
  // Not placed by any file we read: the last two parts (`snippets/ssl.conf`, `conf.d/*.conf`) against the last two
  // of each repository path, the usual layout of a repository's nginx/ directory. Development files are left out.
  const tail = pattern.split('/').slice(-2).join('/');
  const candidates = parsed.filter(
    ({ file }) => file !== from && (isDevelopmentPath(from) || !isDevelopmentPath(file)),
  );
  const byTail = candidates.filter(({ file }) =>
    globMatch(tail, file.split('/').slice(-tail.split('/').length).join('/')),
  );
  if (byTail.length > 0 || pattern.includes('*')) return byTail;
  // One file of that name anywhere (`include /etc/nginx/snippets/headers.conf` for nginx/headers.conf).
  const byName = candidates.filter(({ file }) => basename(file) === basename(pattern));
  return byName.length === 1 ? byName : [];
}

/** Files nginx and certbot ship that set no response header: an include of one hides nothing from the audit. */
const STOCK_INCLUDES = new Set([
  'mime.types',
  'proxy_params',
  'fastcgi_params',
  'fastcgi.conf',
  'uwsgi_params',
  'scgi_params',
  'options-ssl-nginx.conf',
  'koi-utf',
  'koi-win',
  'win-utf',
]);

/** An include left unresolved (not in the repository) that could hold anything, e.g. the header a check looks for. */
function opaqueIncludes(directives: readonly Directive[]): boolean {
  return directives.some(
    (d) =>
      d.name === 'include' &&
      !STOCK_INCLUDES.has(basename(d.args[0] ?? '')) &&
      !(d.args[0] ?? '').includes('modules-enabled'),
  );
}

/** The tree with every resolvable include replaced by the included file's directives (which keep their own file). */
/** Shared by every expansion of one audit: the directives left to visit, and includes already resolved. */
interface Budget {
  directives: number;
  resolved: Map<string, Parsed[]>;
  /** Times each file was spliced in: a snippet in every server is fine, includes that include each other are not. */
  spliced: Map<string, number>;
}

function expand(
  tree: readonly Directive[],
  from: string,
  parsed: readonly Parsed[],
  names: Map<string, string[]>,
  chain: readonly string[] = [from],
  budget: Budget = { directives: MAX_EXPANDED, resolved: new Map(), spliced: new Map() },
): Directive[] {
  const out: Directive[] = [];
  for (const directive of tree) {
    budget.directives -= 1;
    if (budget.directives < 0) break;
    if (directive.name === 'include' && directive.args[0] && chain.length <= MAX_INCLUDE_DEPTH) {
      // A file never includes itself, directly or through others (`include conf.d/*.conf` from conf.d/).
      const key = `${from}\0${directive.args[0]}`;
      const resolved = budget.resolved.get(key) ?? resolveInclude(directive.args[0], from, parsed, names);
      budget.resolved.set(key, resolved);
      const targets = resolved.filter(
        (t) => !chain.includes(t.file) && (budget.spliced.get(t.file) ?? 0) < MAX_SPLICES,
      );
      if (targets.length === 0) out.push(directive);
      for (const target of targets) {
        budget.spliced.set(target.file, (budget.spliced.get(target.file) ?? 0) + 1);
        for (const spliced of expand(target.tree, target.file, parsed, names, [...chain, target.file], budget))
          out.push(spliced);
      }
    } else if (directive.block) {
      out.push({ ...directive, block: expand(directive.block, from, parsed, names, chain, budget) });
    } else {
      out.push(directive);
    }
  }
  return out;
}

// ---------- the model: http contexts and their servers ----------

interface HttpContext {
  /** The root file it was read from. */
  file: string;
  /** The http block (a complete nginx.conf), or undefined for a fragment (conf.d/*.conf, http context implied). */
  http: Directive | undefined;
  directives: Directive[];
  servers: Directive[];
}

function httpContexts(file: string, tree: Directive[]): HttpContext[] {
  const blocks = tree.filter((d) => d.name === 'http' && d.block);
  if (blocks.length > 0) {
    return blocks.map((http) => {
      const directives = http.block ?? [];
      return { file, http, directives, servers: directives.filter((d) => d.name === 'server' && d.block) };
    });
  }
  const servers = tree.filter((d) => d.name === 'server' && d.block);
  return servers.length > 0 || tree.some((d) => d.name === 'server_tokens')
    ? [{ file, http: undefined, directives: tree, servers }]
    : [];
}

const where = (directive: Directive) => `${directive.file}:${directive.line}`;
const own = (block: Directive | undefined, name: string) => (block?.block ?? []).filter((d) => d.name === name);
const arg = (directive: Directive | undefined, index = 0) => (directive?.args[index] ?? '').toLowerCase();

/** A server block that answers nothing but a redirect or a refusal (its server-level `return`, a rejected handshake). */
function onlyRefusesOrRedirects(server: Directive): boolean {
  return own(server, 'return').length > 0 || own(server, 'ssl_reject_handshake').some((d) => arg(d) === 'on');
}

function answersNothing(server: Directive): boolean {
  return (
    own(server, 'ssl_reject_handshake').some((d) => arg(d) === 'on') ||
    own(server, 'return').some((d) => arg(d) === '444')
  );
}

function listens(server: Directive): Directive[] {
  return own(server, 'listen');
}

function terminatesTls(server: Directive): boolean {
  return (
    listens(server).some((listen) => listen.args.some((a) => a === 'ssl' || a === 'quic')) ||
    own(server, 'ssl').some((d) => arg(d) === 'on')
  );
}

/** Locations of a block, nested ones included, with their parents. */
function locations(block: Directive): { location: Directive; parents: readonly Directive[] }[] {
  return [...walk(block.block ?? [])]
    .filter(({ directive }) => directive.name === 'location' && directive.block)
    .map(({ directive, parents }) => ({ location: directive, parents }));
}

/** The location's match: modifier and path. */
function locationMatch(location: Directive): { modifier: string; path: string } {
  const [first = '', second] = location.args;
  if (second !== undefined) return { modifier: first, path: second };
  // `location ~/\.` is rare; `location =/` happens.
  if (first.startsWith('=') || first.startsWith('^~')) {
    const modifier = first.startsWith('=') ? '=' : '^~';
    return { modifier, path: first.slice(modifier.length) };
  }
  return { modifier: '', path: first };
}

/** A location that serves `/` itself: `location /` or `location = /`. */
function servesSlash(location: Directive): boolean {
  const { modifier, path } = locationMatch(location);
  return path === '/' && (modifier === '' || modifier === '^~' || modifier === '=');
}

const CONTENT_HANDLERS = new Set([
  'proxy_pass',
  'fastcgi_pass',
  'uwsgi_pass',
  'scgi_pass',
  'grpc_pass',
  'memcached_pass',
  'return',
  'internal',
  'stub_status',
]);

function refusesEveryone(block: Directive): boolean {
  const body = block.block ?? [];
  if (body.some((d) => d.name === 'internal')) return true;
  if (body.some((d) => d.name === 'return' && /^4\d\d$/.test(arg(d)))) return true;
  return body.some((d) => d.name === 'deny' && arg(d) === 'all') && !body.some((d) => d.name === 'allow');
}

/**
 * True when some location of the server refuses `/.env` and `/.git/config`. Read from the location's pattern, not
 * by running it (a regular expression from an audited file is not ours to run): `/\.` (or `(^|/)\.`) followed by
 * nothing, a lookahead or a class refuses every dotfile; otherwise the names it lists count.
 */
export function deniesDotfiles(server: Directive): boolean {
  const refused = { env: false, git: false };
  for (const { location } of locations(server)) {
    if (!refusesEveryone(location)) continue;
    const { modifier, path } = locationMatch(location);
    if (modifier === '~' || modifier === '~*') {
      for (let at = path.indexOf('\\.'); at !== -1; at = path.indexOf('\\.', at + 2)) {
        const before = path.slice(0, at);
        if (!(before.endsWith('/') || before.endsWith('^') || before.endsWith(')'))) continue;
        const after = path.slice(at + 2);
        if (
          after === '' ||
          after.startsWith('(?!') ||
          after.startsWith('[') ||
          after.startsWith('.') ||
          after === '$'
        ) {
          refused.env = true;
          refused.git = true;
        }
        if (after.includes('env')) refused.env = true;
        if (after.includes('git')) refused.git = true;
      }
      if (path.includes('/.git')) refused.git = true;
      if (path.includes('/.env')) refused.env = true;
    } else {
      if (path === '/.' || path.startsWith('/.git')) refused.git = true;
      if (path === '/.' || path.startsWith('/.env')) refused.env = true;
    }
  }
  return refused.env && refused.git;
}

// ---------- presence checks: written on, in any file ----------

function presenceChecks(parsed: readonly Parsed[], findings: Finding[], env: ReadonlyMap<string, string>): void {
  for (const { file, tree } of parsed) {
    if (isDevelopmentPath(file)) continue;
    for (const { directive, parents } of walk(tree)) {
      if (directive.name === 'server_tokens' && (arg(directive) === 'on' || arg(directive) === 'build')) {
        findings.push(
          finding(
            'files.nginx.server-tokens',
            `${file} line ${directive.line} sets server_tokens ${arg(directive)}: answers name nginx and its version`,
            where(directive),
          ),
        );
      } else if (directive.name === 'autoindex' && arg(directive) === 'on') {
        const closed = parents.some((parent) => parent.name === 'location' && refusesEveryone(parent));
        if (closed) continue;
        const place = parents.filter((p) => p.name === 'location').at(-1);
        findings.push(
          finding(
            'files.nginx.autoindex',
            `${file} line ${directive.line} turns autoindex on${place ? ` in location ${place.args.join(' ')}` : ''}: directory listings`,
            where(directive),
          ),
        );
      } else if (directive.name === 'ssl_protocols') {
        // A template's `ssl_protocols ${NGINX_SSL_PROTOCOLS};` takes its words from the environment nginx runs with.
        const words = directive.args.flatMap((a) => interpolate(a, env).split(/\s+/));
        const legacy = words.filter((a) => ['sslv2', 'sslv3', 'tlsv1', 'tlsv1.1'].includes(a.toLowerCase()));
        if (legacy.length > 0) {
          findings.push(
            finding(
              'files.nginx.tls-legacy',
              `${file} line ${directive.line}: ssl_protocols enables ${legacy.join(', ')}`,
              where(directive),
            ),
          );
        }
      }
    }
  }
}

// ---------- server_tokens off missing ----------

function serverTokensMissing(parsed: readonly Parsed[], contexts: HttpContext[], findings: Finding[]): void {
  // Set off anywhere in the repository's nginx files (http, a server, a snippet): the author knows the setting, and a
  // file this audit cannot place (a conf.d site beside the image's nginx.conf) may well apply it everywhere.
  const anywhere = parsed.some(
    ({ file, tree }) =>
      !isDevelopmentPath(file) &&
      [...walk(tree)].some(({ directive }) => directive.name === 'server_tokens' && arg(directive) === 'off'),
  );
  if (anywhere) return;
  for (const context of contexts) {
    if (isDevelopmentPath(context.file)) continue;
    // A server that closes every connection unanswered (`return 444`, a rejected handshake) shows no Server header.
    const open = context.servers.filter((server) => !answersNothing(server));
    if (context.http) {
      if (context.servers.length > 0 && open.length === 0) continue;
      findings.push(
        finding(
          'files.nginx.server-tokens',
          `${context.file}: the http block never sets server_tokens off (nginx's default is on)`,
          where(context.http),
        ),
      );
    } else if (open[0]) {
      findings.push(
        finding(
          'files.nginx.server-tokens',
          `${context.file}: no nginx file here sets server_tokens off, and this server block does not either (the default is on)`,
          where(open[0]),
        ),
      );
    }
  }
}

// ---------- HSTS ----------

function addsHsts(directives: readonly Directive[]): boolean {
  return directives.some(
    (d) =>
      (d.name === 'add_header' && arg(d) === 'strict-transport-security') ||
      (d.name === 'more_set_headers' && d.args.some((a) => a.toLowerCase().startsWith('strict-transport-security'))),
  );
}

const headerList = (directives: readonly Directive[]) => directives.filter((d) => d.name === 'add_header');

/** The block hands requests to an application: a *_pass, or try_files falling back to a named location. */
function proxies(block: Directive): boolean {
  return (block.block ?? []).some(
    (d) => d.name.endsWith('_pass') || (d.name === 'try_files' && (d.args.at(-1) ?? '').startsWith('@')),
  );
}

function hstsMissing(contexts: HttpContext[], appSendsHsts: () => boolean, findings: Finding[]): void {
  for (const context of contexts) {
    if (isDevelopmentPath(context.file)) continue;
    const httpHeaders = headerList(context.directives);
    const httpMore = context.directives.some((d) => d.name === 'more_set_headers' && addsHsts([d]));
    const httpOpaque = opaqueIncludes(context.directives);
    for (const server of context.servers) {
      if (!terminatesTls(server) || onlyRefusesOrRedirects(server)) continue;
      const body = server.block ?? [];
      const serverHeaders = headerList(body).length > 0 ? headerList(body) : httpHeaders;
      const serverHas =
        addsHsts(serverHeaders) || httpMore || body.some((d) => d.name === 'more_set_headers' && addsHsts([d]));
      const slash = locations(server).find(({ location, parents }) => servesSlash(location) && parents.length === 0);
      const slashOwn = slash ? headerList(slash.location.block ?? []) : [];
      const slashHas = slashOwn.length > 0 ? addsHsts(slash?.location.block ?? []) : serverHas;
      if (slashHas) continue;
      if (slash && (own(slash.location, 'return').length > 0 || own(slash.location, 'internal').length > 0)) continue;
      const proxied = slash ? proxies(slash.location) : proxies(server);
      const hidden = [...walk(body)].some(
        ({ directive }) => directive.name === 'proxy_hide_header' && arg(directive) === 'strict-transport-security',
      );
      if (proxied && !hidden && appSendsHsts()) continue;
      // An include this audit cannot read may add the header (a snippet installed on the host): not judged.
      if (opaqueIncludes(body) || (headerList(body).length === 0 && httpOpaque)) continue;
      const listen = listens(server)[0];
      const named = own(server, 'server_name')[0]?.args.join(' ') ?? '';
      findings.push(
        finding(
          'files.nginx.hsts-missing',
          serverHas && slash
            ? `${server.file} line ${slash.location.line}: location / has add_header of its own, which drops the server's Strict-Transport-Security (add_header is inherited only by a level that sets none)`
            : `${server.file} line ${server.line}: server ${named ? `${named} ` : ''}(listen ${listen?.args.join(' ') ?? ''}) terminates TLS and sends no Strict-Transport-Security`,
          serverHas && slash ? where(slash.location) : where(server),
        ),
      );
    }
  }
}

/** Whether the application sends HSTS itself: Django's SECURE_HSTS_SECONDS set non-zero, or helmet/its hsts. */
function applicationHsts(dir: string, files: readonly string[]): () => boolean {
  let answer: boolean | undefined;
  return () => {
    if (answer !== undefined) return answer;
    answer = false;
    let read = 0;
    for (const file of files) {
      // Bounded: the settings module or the server entry point is among the first sources of any real repository.
      if (read >= 2000) break;
      if (isTestPath(file) || file.includes('node_modules/')) continue;
      const python = file.endsWith('.py');
      if (!python && !/\.(js|mjs|cjs|ts)$/.test(file)) continue;
      const text = readSmall(dir, file);
      read += 1;
      if (!text) continue;
      if (python) {
        for (const line of text.split('\n')) {
          const trimmed = line.trim();
          if (!trimmed.startsWith('SECURE_HSTS_SECONDS')) continue;
          const value = trimmed.slice(trimmed.indexOf('=') + 1).trim();
          if (value !== '0' && value !== '' && !value.startsWith('0 ') && !value.endsWith("'0'))")) answer = true;
        }
      } else if (text.includes('helmet(') || text.includes('strictTransportSecurity') || text.includes('hsts(')) {
        answer = true;
      }
      if (answer) return true;
    }
    return answer;
  };
}

// ---------- default_server ----------

/** The port of a listen directive (`443`, `[::]:443`, `127.0.0.1:8080`, `${HTTPS_PORT}`); 80 for an address alone. */
function listenPort(listen: Directive): string | undefined {
  const address = listen.args[0] ?? '';
  if (address.startsWith('unix:')) return undefined;
  const colon = address.lastIndexOf(':');
  const tail = address.endsWith(']') ? '' : colon === -1 ? address : address.slice(colon + 1);
  if (tail.startsWith('$')) return tail;
  return /^\d+$/.test(tail) ? tail : '80';
}

function defaultServer(contexts: HttpContext[], findings: Finding[]): void {
  const ports = new Map<string, { named: Directive[]; hasDefault: boolean }>();
  for (const context of contexts) {
    if (isDevelopmentPath(context.file)) continue;
    for (const server of context.servers) {
      const names = own(server, 'server_name').flatMap((d) => d.args);
      const named = names.some((name) => name !== '_' && name !== '' && name !== '""');
      const serverListens = listens(server);
      const entries = serverListens.length > 0 ? serverListens : undefined;
      for (const listen of entries ?? [undefined]) {
        const port = listen ? listenPort(listen) : '80';
        if (port === undefined) continue;
        const entry = ports.get(port) ?? { named: [], hasDefault: false };
        if (listen?.args.some((a) => a === 'default_server' || a === 'default')) entry.hasDefault = true;
        if (named) entry.named.push(server);
        ports.set(port, entry);
      }
    }
  }
  for (const [port, entry] of ports) {
    const first = entry.named[0];
    if (entry.hasDefault || !first) continue;
    const name = own(first, 'server_name')[0]?.args[0] ?? '';
    findings.push(
      finding(
        'files.nginx.default-server',
        `port ${port} has no default_server: a request for any other host name is answered by ${name ? `"${name}"` : 'the first server'} (${where(first)})`,
        where(first),
      ),
    );
  }
}

// ---------- root that serves the checkout ----------

/** File names that must never be served: secrets, VCS, server code, deployment files. */
const SENSITIVE_NAMES = new Set([
  '.env',
  '.htpasswd',
  'manage.py',
  'dockerfile',
  'package.json',
  'package-lock.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'composer.json',
  'tsconfig.json',
]);
// Not .js (a client build is .js too) and not .php (served through fastcgi_pass, not as a file).
const SENSITIVE_EXTENSIONS = new Set(
  'py ts tsx rb go java sh sql sqlite3 db pem key conf ini toml yml yaml lock env'.split(' '),
);

function isSensitive(path: string): boolean {
  const name = basename(path).toLowerCase();
  if (path.split('/').some((part) => part === '.git' || part === '.env' || part.startsWith('.env.'))) return true;
  if (SENSITIVE_NAMES.has(name)) return true;
  if (name.startsWith('requirements') && name.endsWith('.txt')) return true;
  if (name.startsWith('docker-compose') || name.startsWith('compose.')) return true;
  const dot = name.lastIndexOf('.');
  return dot !== -1 && SENSITIVE_EXTENSIONS.has(name.slice(dot + 1));
}

/** The first sensitive file of repository directory `source` that reaches nginx through `holding`, if any. */
function sensitiveIn(
  dir: string,
  files: readonly string[],
  holding: Holding,
  source: string,
  extensions?: readonly string[],
): string | undefined {
  const ignore =
    holding.dockerignore && existsSync(join(dir, holding.dockerignore))
      ? readFileSync(join(dir, holding.dockerignore), 'utf8')
      : undefined;
  const context = holding.dockerignore ? dirname(holding.dockerignore) : '';
  const copied = (path: string) => {
    if (!holding.dockerignore) return true;
    if (ignore === undefined) return true;
    const inContext = context === '.' || context === '' ? path : path.slice(context.length + 1);
    return !dockerIgnores(ignore, inContext);
  };
  const prefix = source === '' ? '' : `${source}/`;
  if (extensions) {
    const reachable = (file: string) => extensions.includes(file.slice(file.lastIndexOf('.') + 1).toLowerCase());
    return files.find((file) => file.startsWith(prefix) && reachable(file) && isSensitive(file) && copied(file));
  }
  // On disk, not only tracked: an ignored .env is in the directory a bind mount serves.
  for (const name of ['.env', '.git']) {
    if (existsSync(join(dir, source, name)) && copied(`${prefix}${name}`)) return `${prefix}${name}`;
  }
  return files.find((file) => file.startsWith(prefix) && isSensitive(file.slice(prefix.length)) && copied(file));
}

function withoutTrailingSlash(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end -= 1;
  return path.slice(0, end);
}

const WORD = /^[A-Za-z0-9_.-]+$/;

/**
 * What a regex location can reach of its root, read from the pattern: `^/static/` or `^/(static|media)/` only those
 * directories; `\.(css|js)$` only files with those extensions; anything else the whole root.
 */
export function regexScope(pattern: string): { directories?: string[]; extensions?: string[] } {
  const source = pattern.startsWith('(?i)') ? pattern.slice(4) : pattern;
  const literal = (text: string) => {
    const plain = text.split('\\.').join('.');
    return WORD.test(plain) ? plain : undefined;
  };
  if (source.startsWith('^/')) {
    const rest = source.slice(2);
    if (rest.startsWith('(')) {
      const close = rest.indexOf(')');
      const inner = rest.slice(rest.startsWith('(?:') ? 3 : 1, close);
      const words = close === -1 ? [] : inner.split('|').map(literal);
      if (words.length > 0 && words.every((word) => word !== undefined) && rest[close + 1] === '/')
        return { directories: words as string[] };
      return {};
    }
    const slash = rest.indexOf('/');
    const word = slash === -1 ? undefined : literal(rest.slice(0, slash));
    return word ? { directories: [word] } : {};
  }
  const dot = source.lastIndexOf('\\.');
  if (dot !== -1 && source.endsWith('$')) {
    let tail = source.slice(dot + 2, -1);
    if (tail.startsWith('(?:')) tail = tail.slice(3, -1);
    else if (tail.startsWith('(')) tail = tail.slice(1, -1);
    const words = tail.split('|').map(literal);
    if (words.every((word) => word !== undefined))
      return { extensions: (words as string[]).map((w) => w.toLowerCase()) };
  }
  return {};
}

interface Served {
  directory: string;
  directive: Directive | undefined;
  /** The location (or server) it is served in, for the message. */
  place: string;
  /** Only files with these extensions are reachable (a `\.(css|js)$` location). */
  extensions?: string[];
}

/** The directories a server serves files from, with the directive that names each. */
function servedDirectories(
  server: Directive,
  httpRoot: Directive | undefined,
  env: ReadonlyMap<string, string>,
): Served[] {
  const out: Served[] = [];
  const substitute = (text: string) => {
    let out2 = text;
    for (const [key, value] of env) out2 = out2.split(`\${${key}}`).join(value);
    return out2;
  };
  const visit = (block: Directive, inherited: Directive | undefined, location: Directive | undefined) => {
    const body = block.block ?? [];
    const root = body.filter((d) => d.name === 'root').at(-1) ?? inherited;
    const alias = body.filter((d) => d.name === 'alias').at(-1);
    // A location that proxies, returns or refuses everyone serves no file of its root.
    const handled =
      body.some((d) => CONTENT_HANDLERS.has(d.name)) || (location !== undefined && refusesEveryone(block));
    const children = body.filter((d) => d.name === 'location' && d.block);
    const servesHere = location ? !handled : !handled && !children.some((child) => servesSlash(child));
    if (servesHere) {
      const named = alias ?? root;
      const base = named ? substitute(named.args[0] ?? '') : `${PREFIX}/html`;
      let paths = [base];
      let extensions: string[] | undefined;
      if (!alias && location) {
        const { modifier, path: match } = locationMatch(location);
        if ((modifier === '' || modifier === '^~' || modifier === '=') && match.startsWith('/'))
          paths = [posix.join(base, match)];
        else if (modifier === '~' || modifier === '~*') {
          const scope = regexScope(match);
          if (scope.directories) paths = scope.directories.map((directory) => posix.join(base, directory));
          extensions = scope.extensions;
        }
      }
      for (const path of paths) {
        if (!path.startsWith('/') || path.includes('$')) continue;
        out.push({
          directory: withoutTrailingSlash(posix.normalize(path)),
          directive: named,
          place: location ? `location ${location.args.join(' ')}` : 'the server',
          ...(extensions ? { extensions } : {}),
        });
      }
    }
    for (const child of children) visit(child, root, child);
  };
  visit(server, httpRoot, undefined);
  return out;
}

function exposure(
  dir: string,
  files: readonly string[],
  facts: DeployFacts,
  served: Served,
): { holding: Holding; file: string } | undefined {
  for (const holding of facts.holdings) {
    const target = concreteTarget(holding.target, served.directory);
    let source: string | undefined;
    if (served.directory === target) source = holding.source;
    else if (served.directory.startsWith(`${target}/`))
      source = posix.join(holding.source, served.directory.slice(target.length + 1));
    // The served directory is above the place the repository is put (its own path excepted: a root of /home or /tmp
    // does not mean the audit's checkout is deployed there).
    else if (target.startsWith(`${served.directory}/`) && holding.via !== SELF) source = holding.source;
    if (source === undefined) continue;
    const file = sensitiveIn(dir, files, holding, source === '.' ? '' : source, served.extensions);
    if (file) return { holding, file };
  }
  return undefined;
}

function rootExposure(
  dir: string,
  files: readonly string[],
  contexts: HttpContext[],
  facts: DeployFacts,
  findings: Finding[],
): void {
  for (const context of contexts) {
    if (isDevelopmentPath(context.file)) continue;
    const httpRoot = context.directives.filter((d) => d.name === 'root').at(-1);
    for (const server of context.servers) {
      if (onlyRefusesOrRedirects(server) || deniesDotfiles(server)) continue;
      for (const served of servedDirectories(server, httpRoot, facts.env)) {
        const found = exposure(dir, files, facts, served);
        if (!found) continue;
        const at = served.directive ?? server;
        findings.push(
          finding(
            'files.nginx.root-exposes-repo',
            `${where(at)}: ${served.place} serves ${served.directory}, which holds the repository (${found.holding.via}), ${found.file} included; no location refuses dotfiles`,
            where(at),
          ),
        );
        break;
      }
    }
  }
  // An nginx image with no server of the repository: the stock default site serves /usr/share/nginx/html.
  if (contexts.some((context) => context.servers.length > 0)) return;
  for (const deployment of facts.nginxDeployments) {
    const stock: Served = { directory: '/usr/share/nginx/html', directive: undefined, place: 'the default site' };
    const found = exposure(dir, files, { ...facts, holdings: deployment.holdings }, stock);
    if (!found) continue;
    findings.push(
      finding(
        'files.nginx.root-exposes-repo',
        `${deployment.via}: the nginx image's default site serves /usr/share/nginx/html, which holds the repository (${found.holding.via}), ${found.file} included`,
        found.holding.via,
      ),
    );
  }
}

// ---------- entry point ----------

/**
 * The nginx findings for repository `dir`, whose files (repository-relative, tracked or about to be) are `files`.
 * Synchronous and bounded: each file at most 1 MiB, includes at most 8 deep.
 */
export function auditNginx(dir: string, files: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  const parsed = findConfigs(dir, files);
  const facts = deployFacts(dir, files, new Set(parsed.map((p) => p.file)));
  if (parsed.length === 0) {
    rootExposure(dir, files, [], facts, findings);
    return findings;
  }
  presenceChecks(parsed, findings, facts.env);
  const names = pathsOf(parsed, facts);
  // Main files are those no other file includes; only they are expanded and judged (a conf.d site is judged inside
  // the nginx.conf that includes it, with that http block's settings).
  const resolved = new Map<string, Parsed[]>();
  const included = new Set<string>();
  for (const { file, tree } of parsed) {
    for (const { directive } of walk(tree)) {
      const pattern = directive.name === 'include' ? directive.args[0] : undefined;
      if (!pattern) continue;
      const key = `${file}\0${pattern}`;
      const targets = resolved.get(key) ?? resolveInclude(pattern, file, parsed, names);
      resolved.set(key, targets);
      for (const target of targets) if (target.file !== file) included.add(target.file);
    }
  }
  const contexts = parsed
    .filter(({ file }) => !included.has(file))
    .flatMap(({ file, tree }) =>
      httpContexts(
        file,
        expand(tree, file, parsed, names, [file], { directives: MAX_EXPANDED, resolved, spliced: new Map() }),
      ),
    );
  serverTokensMissing(parsed, contexts, findings);
  hstsMissing(contexts, applicationHsts(dir, files), findings);
  rootExposure(dir, files, contexts, facts, findings);
  defaultServer(contexts, findings);
  // A server read through two main files (nginx.conf and nginx.prod.conf both including conf.d/) is reported once.
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.id}\0${f.location ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
