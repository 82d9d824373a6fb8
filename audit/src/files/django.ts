/**
 * Django settings, read statically: DEBUG, ALLOWED_HOSTS, CORS, SECRET_KEY, database passwords and the transport
 * protections, each judged as it comes out on a server whose environment does not set it (python-eval.ts).
 *
 * Which modules are settings: `settings.py`, `settings/*.py`, `conf/settings*.py`, a `*settings*.py` assigning one of
 * the names below, and any .py assigning at least two of DEBUG/ALLOWED_HOSTS/SECRET_KEY/DATABASES/INSTALLED_APPS at
 * top level. Only top-level statements count (and `try:` bodies, run as on that server: a statement that would
 * raise sends it to `except:`); an assignment inside `if` is conditional and not judged.
 *
 * Roles, by the module's name: development (`dev`, `development`, `local`, `test`, `tests`, `testing`, `ci`, or in a
 * test/docs directory) is not production, and none of its values is a finding (DEBUG = True there is the point);
 * production (`prod`, `production`, `staging`, `live`); base (anything else: `settings.py`, `base.py`, `common.py`)
 * counts as production, except that when a production module sits beside it, a name the production module assigns
 * is judged there and not in base.
 *
 * Decisions:
 *  - A literal SECRET_KEY or database password is a finding even as the environment's default
 *    (`os.environ.get('SECRET_KEY', 'x')`): an unset variable silently runs production on it. A placeholder is still
 *    a working key, unless the module refuses it: an `if` naming SECRET_KEY and that literal (or a prefix of it)
 *    whose body raises. An empty default makes Django refuse to start, so it passes.
 *  - `get_random_secret_key()` as the key (or its default) leaks nothing; it logs everyone out on each restart
 *    and differs per worker. That is an availability problem, not one of these checks: no finding.
 *  - DEBUG read through another environment-derived name (`DEBUG = not PRODUCTION`) is unknown: no finding.
 *  - The transport protections (insecure-cookie) count only when written as a literal False, in a production or
 *    base module: a default of False read from the environment is Django's own default, and TLS may be handled by
 *    the proxy.
 */
import { basename, dirname } from 'node:path';
import { type Finding, finding } from '../findings.js';
import { isTestOrDoc } from '../secrets-scan.js';
import { developmentReason } from './compose.js';
import { Evaluator, MAX_ITEMS, MAX_SIZE, Scope, truthy, UNKNOWN, type V } from './python-eval.js';
import { type Expr, HOLE, type LogicalLine, logicalLines, parseExpr, type Token } from './python-source.js';

export type SettingsRole = 'development' | 'production' | 'base';

const MARKERS = ['DEBUG', 'ALLOWED_HOSTS', 'SECRET_KEY', 'DATABASES', 'INSTALLED_APPS'];
const DEV_WORDS = new Set(['dev', 'development', 'local', 'test', 'tests', 'testing', 'ci']);
const PROD_WORDS = new Set(['prod', 'production', 'staging', 'live']);
const SKIPPED_DIRS = new Set(['node_modules', 'site-packages', 'venv', '.venv', 'env', '.tox', 'migrations']);

/** Words of a module name: `settings_dev` → settings, dev. */
function nameWords(path: string): string[] {
  const stem = basename(path, '.py').toLowerCase();
  const words: string[] = [];
  let word = '';
  for (const c of stem) {
    if (c === '_' || c === '-' || c === '.') {
      if (word) words.push(word);
      word = '';
    } else word += c;
  }
  if (word) words.push(word);
  return words;
}

export function settingsRole(path: string): SettingsRole {
  if (isTestOrDoc(path)) return 'development';
  const words = nameWords(path);
  if (words.some((w) => DEV_WORDS.has(w))) return 'development';
  if (words.some((w) => PROD_WORDS.has(w))) return 'production';
  return 'base';
}

function isNamedSettings(path: string): boolean {
  const base = basename(path);
  const parent = basename(dirname(path));
  return base === 'settings.py' || parent === 'settings' || (parent === 'conf' && base.startsWith('settings'));
}

// ---------- running a module's top level ----------

interface Assigned {
  value: V;
  line: number;
}

interface Guard {
  /** String literals (and strings of names) in the refusing condition. */
  strings: string[];
}

export interface SettingsModule {
  path: string;
  role: SettingsRole;
  scope: Scope;
  /** The last top-level statement that set each name, and what it holds. */
  assigned: Map<string, Assigned>;
  /** Names (and `DATABASES.default.PASSWORD`-like paths) this module assigns itself. */
  own: Set<string>;
  /** Stems of sibling modules star-imported (`from .base import *`). */
  starImports: string[];
  guards: Guard[];
  /** How many of MARKERS are assigned at top level. */
  markers: number;
}

const COMPOUND = new Set(['if', 'elif', 'else', 'for', 'while', 'with', 'def', 'class', 'async', 'match']);

function isOp(token: Token | undefined, text: string): boolean {
  return token?.kind === 'op' && token.text === text;
}

/** Indices of the top-level `=` (and augmented) operators of a statement. */
function assignmentOps(tokens: Token[]): number[] {
  const found: number[] = [];
  let depth = 0;
  tokens.forEach((token, i) => {
    if (token.kind !== 'op') return;
    if (['(', '[', '{'].includes(token.text)) depth += 1;
    else if ([')', ']', '}'].includes(token.text)) depth -= 1;
    else if (depth === 0 && (token.text === '=' || (token.text.endsWith('=') && AUGMENTED.has(token.text))))
      found.push(i);
  });
  return found;
}
const AUGMENTED = new Set(['+=', '-=', '*=', '/=', '|=', '%=']);

/** A deep copy: a module that star-imports another mutates its own copy of the dicts and lists. */
function clone(v: V): V {
  if (v.k === 'list') return { ...v, items: (v.items ?? []).map(clone) };
  if (v.k === 'dict') return { ...v, entries: new Map([...(v.entries ?? [])].map(([k, e]) => [k, clone(e)])) };
  return v;
}

class ModuleRunner {
  readonly scope = new Scope();
  readonly evaluator = new Evaluator(this.scope);
  readonly assigned = new Map<string, Assigned>();
  readonly own = new Set<string>();
  readonly starImports: string[] = [];
  readonly guards: Guard[] = [];

  constructor(inherited?: SettingsModule[]) {
    for (const module of inherited ?? []) {
      for (const [name, value] of module.scope.bindings) this.scope.bindings.set(name, clone(value));
      for (const [name, value] of module.scope.envObjects) this.scope.envObjects.set(name, value);
      for (const name of module.scope.environNames) this.scope.environNames.add(name);
      for (const name of module.scope.getenvNames) this.scope.getenvNames.add(name);
      this.scope.decouple ||= module.scope.decouple;
      this.scope.environsImported ||= module.scope.environsImported;
    }
  }

  run(lines: LogicalLine[]): void {
    for (let i = 0; i < lines.length; ) {
      const line = lines[i] as LogicalLine;
      if (line.indent > 0) {
        i += 1;
        continue;
      }
      const first = line.tokens[0];
      const body = (from: number) => {
        let end = from;
        while (end < lines.length && (lines[end] as LogicalLine).indent > 0) end += 1;
        return end;
      };
      if (first?.kind === 'name' && first.text === 'try' && isOp(line.tokens[1], ':')) {
        i = this.runTry(lines, i, body);
        continue;
      }
      if (first?.kind === 'name' && first.text === 'if') this.noteGuard(line, lines.slice(i + 1, body(i + 1)));
      if ((first?.kind === 'name' && COMPOUND.has(first.text)) || isOp(first, '@')) {
        i = body(i + 1);
        continue;
      }
      this.statement(line);
      i += 1;
    }
  }

  /** `try:` ... `except ...:` ... (`else:`) (`finally:`) at top level; returns the index after it. */
  private runTry(lines: LogicalLine[], start: number, body: (from: number) => number): number {
    let i = start + 1;
    const tryEnd = body(i);
    const raised = this.runBlock(lines.slice(i, tryEnd));
    i = tryEnd;
    let handled = false;
    while (i < lines.length) {
      const header = lines[i] as LogicalLine;
      const word = header.tokens[0]?.kind === 'name' ? header.tokens[0].text : '';
      if (header.indent > 0 || !['except', 'else', 'finally'].includes(word)) break;
      const end = body(i + 1);
      const block = lines.slice(i + 1, end);
      if ((word === 'except' && raised && !handled) || (word === 'else' && !raised) || word === 'finally') {
        this.runBlock(block);
        if (word === 'except') handled = true;
      }
      i = end;
    }
    return i;
  }

  /** Runs a block's own statements (not nested ones); true when one of them would raise. */
  private runBlock(block: LogicalLine[]): boolean {
    const level = block[0]?.indent;
    for (const line of block) {
      if (line.indent !== level) continue;
      const first = line.tokens[0];
      if (first?.kind === 'name' && (COMPOUND.has(first.text) || first.text === 'try')) continue;
      if (first?.kind === 'name' && first.text === 'raise') return true;
      if (this.statement(line)) return true;
    }
    return false;
  }

  private noteGuard(header: LogicalLine, block: LogicalLine[]): void {
    const tokens = header.tokens;
    if (!tokens.some((t) => t.kind === 'name' && t.text === 'SECRET_KEY')) return;
    const refuses = [...tokens, ...block.flatMap((line) => line.tokens)].some(
      (t) => t.kind === 'name' && (t.text === 'raise' || t.text === 'ImproperlyConfigured' || t.text === 'exit'),
    );
    if (!refuses) return;
    const strings: string[] = [];
    for (const token of tokens) {
      if (token.kind === 'str' && token.value) strings.push(token.value);
      if (token.kind === 'name') {
        const bound = this.scope.bindings.get(token.text);
        if (bound?.k === 'str' && bound.s && token.text !== 'SECRET_KEY') strings.push(bound.s);
      }
    }
    this.guards.push({ strings });
  }

  /** One simple statement; true when it would raise on a server without the environment. */
  private statement(line: LogicalLine): boolean {
    const tokens = line.tokens;
    const first = tokens[0];
    if (first?.kind !== 'name') return false;
    if (first.text === 'import' || first.text === 'from') {
      this.importStatement(tokens);
      return false;
    }
    const ops = assignmentOps(tokens);
    if (ops.length === 0) {
      this.mutation(tokens, line.line);
      return false;
    }
    const last = ops[ops.length - 1] as number;
    const valueExpr = parseExpr(tokens, last + 1);
    const op = (tokens[last] as Token).text;
    const value = valueExpr ? this.evaluator.eval(valueExpr) : UNKNOWN;
    if (valueExpr) this.noteEnvObject(tokens, ops[0] as number, valueExpr);
    let start = 0;
    for (const at of ops) {
      this.assign(tokens, start, at, op, value, line.line);
      start = at + 1;
    }
    return value.k === 'raises';
  }

  private importStatement(tokens: Token[]): void {
    const words = tokens.filter((t) => t.kind === 'name').map((t) => t.text);
    const texts = tokens.map((t) => t.text);
    const module = words[1] ?? '';
    if (texts[0] === 'import' && words.includes('decouple')) this.scope.decouple = true;
    if (texts[0] !== 'from') return;
    const importAt = texts.indexOf('import');
    const names = tokens.slice(importAt + 1).filter((t) => t.kind === 'name');
    const fromPath = texts.slice(1, importAt).join('');
    if (fromPath === 'decouple') this.scope.decouple = true;
    if (fromPath === 'environs') this.scope.environsImported = true;
    if (fromPath === 'os') {
      for (const name of names) {
        if (name.text === 'environ') {
          this.scope.environNames.add('environ');
          this.scope.getenvNames.add('environ.get');
        }
        if (name.text === 'getenv') this.scope.getenvNames.add('getenv');
      }
    }
    if (isOp(tokens[importAt + 1], '*')) {
      const parts = fromPath.split('.').filter(Boolean);
      const stem = parts[parts.length - 1];
      if (stem) this.starImports.push(stem);
    }
    void module;
  }

  /** `env = environ.Env(DEBUG=(bool, False))`: an environment reader and its declared defaults. */
  private noteEnvObject(tokens: Token[], firstOp: number, value: Expr): void {
    if (value.t !== 'call' || firstOp !== 1 || tokens[0]?.kind !== 'name') return;
    const callee = value.callee;
    const name = callee.t === 'name' ? callee.name : callee.t === 'attr' ? callee.name : '';
    if (name !== 'Env') return;
    const kind = this.scope.environsImported && callee.t === 'name' ? 'environs' : 'django-environ';
    const scheme = new Map<string, V>();
    for (const [key, expr] of value.kwargs) scheme.set(key, this.evaluator.eval(expr));
    this.scope.envObjects.set(tokens[0].text, { kind, scheme });
  }

  private assign(tokens: Token[], start: number, end: number, op: string, value: V, line: number): void {
    const target = tokens.slice(start, end);
    const head = target[0];
    if (head?.kind !== 'name') return;
    // `NAME: type = value`
    if (target.length === 1 || isOp(target[1], ':')) {
      const previous = this.scope.bindings.get(head.text);
      let next = value;
      if (op === '+=' && previous) {
        const items = [...(previous.items ?? []), ...(value.items ?? [])];
        const text = (previous.s ?? '') + (value.s ?? '');
        if (previous.k === 'list' && value.k === 'list' && items.length <= MAX_ITEMS) next = { ...previous, items };
        else if (previous.k === 'str' && value.k === 'str' && text.length <= MAX_SIZE) next = { ...previous, s: text };
        else next = UNKNOWN;
      } else if (op !== '=') next = UNKNOWN;
      this.scope.bindings.set(head.text, next);
      this.assigned.set(head.text, { value: next, line });
      this.own.add(head.text);
      return;
    }
    // `DATABASES['default']['PASSWORD'] = value`
    const keys = this.subscriptKeys(target);
    if (!keys || op !== '=') {
      this.own.add(head.text);
      return;
    }
    this.own.add([head.text, ...keys].join('.'));
    const root = this.scope.bindings.get(head.text);
    let node = root;
    for (const key of keys.slice(0, -1)) node = node?.k === 'dict' ? node.entries?.get(key) : undefined;
    if (node?.k === 'dict') {
      node.entries = new Map(node.entries);
      node.entries.set(keys[keys.length - 1] as string, value);
      if (root) this.assigned.set(head.text, { value: root, line });
    }
  }

  /** The string keys of `NAME['a']['b']`, or undefined for any other target. */
  private subscriptKeys(target: Token[]): string[] | undefined {
    const keys: string[] = [];
    let i = 1;
    while (i < target.length) {
      if (!isOp(target[i], '[') || target[i + 1]?.kind !== 'str' || !isOp(target[i + 2], ']')) return undefined;
      keys.push(target[i + 1]?.value ?? '');
      i += 3;
    }
    return keys;
  }

  /** `ALLOWED_HOSTS.append('*')`, `.extend([...])`, `DATABASES['default'].update(...)`. */
  private mutation(tokens: Token[], line: number): void {
    const expr = parseExpr(tokens);
    if (expr?.t !== 'call' || expr.callee.t !== 'attr') return;
    const method = expr.callee.name;
    let object = expr.callee.object;
    const keys: string[] = [];
    while (object.t === 'sub' && object.index.t === 'str') {
      keys.unshift(object.index.value);
      object = object.object;
    }
    if (object.t !== 'name') return;
    const name = object.name;
    this.own.add([name, ...keys].join('.'));
    const root = this.scope.bindings.get(name);
    let target = root;
    for (const key of keys) target = target?.k === 'dict' ? target.entries?.get(key) : undefined;
    if (!root || !target) return;
    const args = expr.args.map((arg) => this.evaluator.eval(arg));
    if (target.k === 'list' && (method === 'append' || method === 'extend' || method === 'insert')) {
      const added = method === 'append' ? args[0] : method === 'insert' ? args[1] : args[0];
      if (!added) return;
      const items = [...(target.items ?? []), ...(method === 'extend' ? (added.items ?? [UNKNOWN]) : [added])];
      target.items = items.slice(0, MAX_ITEMS);
      this.assigned.set(name, { value: root, line });
    } else if (target.k === 'dict' && method === 'update' && args[0]?.k === 'dict') {
      target.entries = new Map([...(target.entries ?? []), ...(args[0].entries ?? [])]);
      this.assigned.set(name, { value: root, line });
    }
  }
}

/** The dotted module names a file sets DJANGO_SETTINGS_MODULE to (`ENV …=x`, `…: x`, `setdefault('…', 'x')`). */
export function settingsModuleNames(text: string): string[] {
  const names: string[] = [];
  const word = 'DJANGO_SETTINGS_MODULE';
  for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + word.length)) {
    let i = at + word.length;
    // Separators and quotes between the name and its value: `=`, `:`, `,`, spaces, quotes.
    while (i < text.length && i < at + word.length + 8 && ' \t=:,"\''.includes(text[i] as string)) i += 1;
    let end = i;
    while (end < text.length && /[A-Za-z0-9_.]/.test(text[end] as string)) end += 1;
    const name = text.slice(i, end);
    if (name.includes('.') && !name.startsWith('.')) names.push(name);
  }
  return names;
}

/** Where production starts the app: files whose DJANGO_SETTINGS_MODULE is production's choice. */
function isProductionEntry(path: string): boolean {
  if (isTestOrDoc(path) || settingsRole(path) === 'development' || developmentReason(path)) return false;
  const base = basename(path).toLowerCase();
  return (
    base === 'wsgi.py' ||
    base === 'asgi.py' ||
    base.startsWith('dockerfile') ||
    base.endsWith('.dockerfile') ||
    base === 'procfile' ||
    base.endsWith('.service') ||
    ((base.endsWith('.yml') || base.endsWith('.yaml')) && !base.includes('override'))
  );
}

function productionSettingsModules(
  files: string[],
  read: (path: string) => string | undefined,
  modulePaths: string[],
): Set<string> {
  const used = new Set<string>();
  for (const file of files.filter(isProductionEntry)) {
    const text = read(file);
    if (!text?.includes('DJANGO_SETTINGS_MODULE')) continue;
    for (const name of settingsModuleNames(text)) {
      const tail = name.split('.').join('/');
      for (const path of modulePaths) {
        if (path === `${tail}.py` || path.endsWith(`/${tail}.py`)) used.add(path);
      }
    }
  }
  return used;
}

/** Reads one module. `inherited`: the modules it star-imports, already read. */
export function readSettingsModule(path: string, text: string, inherited: SettingsModule[] = []): SettingsModule {
  const lines = logicalLines(text);
  const runner = new ModuleRunner(inherited);
  runner.run(lines);
  return {
    path,
    role: settingsRole(path),
    scope: runner.scope,
    assigned: runner.assigned,
    own: runner.own,
    starImports: runner.starImports,
    guards: runner.guards,
    markers: MARKERS.filter((name) => runner.own.has(name)).length,
  };
}

// ---------- judging ----------

const MATCH_ALL_BODIES = new Set(['.*', '.+', '.*?', '.+?', '(.*)', '(.+)', '[^/]*', '[^/]+', '']);

/** An origin regex that matches every origin: `.*`, `^.*$`, `^https?://.*$`, ... */
export function matchesEveryOrigin(pattern: string): boolean {
  let body = pattern.trim();
  if (body.startsWith('^')) body = body.slice(1);
  if (body.endsWith('$')) body = body.slice(0, -1);
  for (const scheme of ['https?://', 'https?:\\/\\/', '(https?)://', '(http|https)://', 'http://', 'https://']) {
    if (body.startsWith(scheme)) {
      body = body.slice(scheme.length);
      break;
    }
  }
  return MATCH_ALL_BODIES.has(body) && pattern.trim() !== '';
}

/** A string that is a literal value (not empty, not an f-string hole or a template placeholder). */
function literalText(v: V | undefined): string | undefined {
  if (v?.k !== 'str') return undefined;
  const s = (v.s ?? '').trim();
  if (s === '' || s.includes(HOLE) || s.startsWith('${') || s.startsWith('%(') || s.startsWith('{{')) return undefined;
  if (s.startsWith('<') && s.endsWith('>')) return undefined;
  return s;
}

export interface SettingsJudgement {
  findings: Finding[];
  /** `path:line` of the literals judged here: the generic secret heuristics leave them to this check. */
  claimed: Set<string>;
}

const COOKIE_SETTINGS = ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT'];

function judgeModule(module: SettingsModule, overridden: Set<string>, out: SettingsJudgement): void {
  const { path } = module;
  const where = (line: number) => `${path}:${line}`;
  const production = module.role !== 'development';
  const judged = (name: string) => module.own.has(name) && !overridden.has(name);
  const get = (name: string) => (judged(name) ? module.assigned.get(name) : undefined);
  // A literal a production module overrides is still judged here: it is claimed, not reported.
  const claimOnly = (name: string) => (module.own.has(name) ? module.assigned.get(name) : undefined);
  const unset = (v: V) => (v.env ? ` when ${v.env} is not set (its default)` : '');

  // Secrets first: their literal lines are claimed in every role.
  const secret = claimOnly('SECRET_KEY');
  if (secret) {
    const text = literalText(secret.value);
    const line = secret.value.line ?? secret.line;
    if (text !== undefined) {
      out.claimed.add(where(line));
      const refused =
        overridden.has('SECRET_KEY') ||
        module.guards.some((guard) => guard.strings.some((s) => s.length >= 3 && text.includes(s)));
      if (production && !refused) {
        out.findings.push(
          finding(
            'files.django.secret-key',
            `${path} line ${line}: SECRET_KEY is a string literal${unset(secret.value)}`,
            where(line),
          ),
        );
      }
    }
  }
  const fallbacks = get('SECRET_KEY_FALLBACKS');
  for (const item of fallbacks?.value.k === 'list' ? (fallbacks.value.items ?? []) : []) {
    if (literalText(item) === undefined) continue;
    const line = item.line ?? (fallbacks as Assigned).line;
    out.claimed.add(where(line));
    if (production) {
      out.findings.push(
        finding(
          'files.django.secret-key',
          `${path} line ${line}: SECRET_KEY_FALLBACKS holds a string literal`,
          where(line),
        ),
      );
    }
  }
  const databases = module.own.has('DATABASES') ? module.assigned.get('DATABASES') : undefined;
  for (const [alias, db] of databases?.value.k === 'dict' ? (databases.value.entries ?? []) : []) {
    const password = db.k === 'dict' ? db.entries?.get('PASSWORD') : undefined;
    if (!password || literalText(password) === undefined) continue;
    const line = password.line ?? (databases as Assigned).line;
    out.claimed.add(where(line));
    if (['DATABASES', `DATABASES.${alias}`, `DATABASES.${alias}.PASSWORD`].some((p) => overridden.has(p))) continue;
    if (production) {
      out.findings.push(
        finding(
          'files.django.database-password',
          `${path} line ${line}: DATABASES["${alias}"] has a literal PASSWORD${unset(password)}`,
          where(line),
        ),
      );
    }
  }
  if (!production) {
    // A development module's other secret-named literals (a mail password for a local catcher) are development values.
    for (const [name, assigned] of module.assigned) {
      const upper = name.toUpperCase();
      const secretNamed = ['SECRET', 'PASSWORD', 'PASSWD', 'TOKEN', 'API_KEY'].some((word) => upper.includes(word));
      if (secretNamed && literalText(assigned.value) !== undefined) {
        out.claimed.add(where(assigned.value.line ?? assigned.line));
      }
    }
    return;
  }

  const debug = get('DEBUG');
  if (debug && !debug.value.viaName && truthy(debug.value) === true) {
    const how =
      debug.value.k === 'str'
        ? `DEBUG is a non-empty string${unset(debug.value)}, which Python reads as true`
        : `DEBUG is on${unset(debug.value)}`;
    out.findings.push(finding('files.django.debug', `${path} line ${debug.line}: ${how}`, where(debug.line)));
  }

  const hosts = get('ALLOWED_HOSTS');
  if (hosts && !hosts.value.viaName) {
    const values = hosts.value.k === 'list' ? (hosts.value.items ?? []) : [hosts.value];
    const star = values.find((v) => v.k === 'str' && (v.s ?? '').trim() === '*');
    if (star) {
      out.findings.push(
        finding(
          'files.django.allowed-hosts',
          `${path} line ${hosts.line}: ALLOWED_HOSTS accepts any host ('*')${unset(star)}`,
          where(hosts.line),
        ),
      );
    }
  }

  for (const name of ['CORS_ALLOW_ALL_ORIGINS', 'CORS_ORIGIN_ALLOW_ALL']) {
    const value = get(name);
    if (value && !value.value.viaName && truthy(value.value) === true) {
      out.findings.push(
        finding(
          'files.django.cors-all',
          `${path} line ${value.line}: ${name} is on${unset(value.value)}`,
          where(value.line),
        ),
      );
    }
  }
  for (const name of ['CORS_ALLOWED_ORIGIN_REGEXES', 'CORS_ORIGIN_REGEX_WHITELIST']) {
    const value = get(name);
    const items = value?.value.k === 'list' ? (value.value.items ?? []) : value ? [value.value] : [];
    if (value && items.some((v) => v.k === 'str' && matchesEveryOrigin(v.s ?? ''))) {
      out.findings.push(
        finding('files.django.cors-all', `${path} line ${value.line}: ${name} matches every origin`, where(value.line)),
      );
    }
  }

  for (const name of COOKIE_SETTINGS) {
    const value = get(name);
    if (value && value.value.k === 'bool' && value.value.b === false && !value.value.env && !value.value.viaName) {
      out.findings.push(
        finding('files.django.insecure-cookie', `${path} line ${value.line}: ${name} = False`, where(value.line)),
      );
    }
  }
}

/**
 * Finds the Django settings modules among `files` (paths relative to the checkout) and judges them. `read` returns a
 * file's text, or undefined when it cannot be read.
 */
export function auditDjangoSettings(files: string[], read: (path: string) => string | undefined): SettingsJudgement {
  const out: SettingsJudgement = { findings: [], claimed: new Set() };
  const candidates = files.filter(
    (file) => file.endsWith('.py') && !file.split('/').some((part) => SKIPPED_DIRS.has(part)),
  );
  const texts = new Map<string, string>();
  for (const file of candidates) {
    const named = isNamedSettings(file);
    const text = read(file);
    if (text === undefined) continue;
    // Cheap first: a module that names none of the settings is not read further.
    if (!named && !MARKERS.some((name) => text.includes(name))) continue;
    texts.set(file, text);
  }

  const modules = new Map<string, SettingsModule>();
  const reading = new Set<string>();
  const readModule = (file: string): SettingsModule | undefined => {
    const known = modules.get(file);
    if (known) return known;
    if (reading.has(file)) return undefined;
    reading.add(file);
    const text = texts.get(file) as string;
    // Star imports of sibling modules are read first, so `from .base import *` then `DEBUG = False` reads as Django does.
    const firstPass = readSettingsModule(file, text);
    const siblings = firstPass.starImports
      .map((stem) => `${dirname(file) === '.' ? '' : `${dirname(file)}/`}${stem}.py`)
      .filter((sibling) => texts.has(sibling))
      .map(readModule)
      .filter((m): m is SettingsModule => m !== undefined);
    const module = siblings.length > 0 ? readSettingsModule(file, text, siblings) : firstPass;
    modules.set(file, module);
    return module;
  };
  for (const file of texts.keys()) readModule(file);

  // A development module that production runs is production: named by DJANGO_SETTINGS_MODULE where production
  // starts (a Dockerfile, a production compose file or manifest, wsgi.py/asgi.py), or star-imported by a base or
  // production module (`settings/__init__.py`: `from .dev import *`).
  const used = productionSettingsModules(files, read, [...modules.keys()]);
  for (const module of modules.values()) {
    if (module.role === 'development') continue;
    for (const stem of module.starImports)
      used.add(`${dirname(module.path) === '.' ? '' : `${dirname(module.path)}/`}${stem}.py`);
  }
  for (const [path, module] of modules) {
    if (module.role === 'development' && used.has(path) && !isTestOrDoc(path))
      modules.set(path, { ...module, role: 'production' });
  }

  const settings = [...modules.values()].filter((module) => {
    if (isNamedSettings(module.path)) return true;
    if (module.markers >= 2) return true;
    return basename(module.path).includes('settings') && module.markers >= 1;
  });
  for (const module of settings) {
    const overridden = new Set<string>();
    if (module.role === 'base') {
      for (const other of settings) {
        if (other.role === 'production' && dirname(other.path) === dirname(module.path)) {
          for (const name of other.own) overridden.add(name);
        }
      }
    }
    judgeModule(module, overridden, out);
  }
  return out;
}
