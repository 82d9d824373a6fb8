/**
 * Node server code, read statically (js-source.ts tokens, never run):
 *  - CORS that lets any origin make credentialed requests: an options object with `credentials: true` whose
 *    `origin` is `true`, `'*'`, a match-all regex, a callback that accepts every origin, or the request's own
 *    Origin (Express cors, @fastify/cors, @koa/cors, Nest enableCors / `cors:` in NestFactory.create, socket.io);
 *    without `origin`, the options of a cors call default to `*`. Also headers set by hand: Access-Control-Allow-Origin
 *    echoing the request's Origin (with no allowlist check before it in its function) or `*`, in a file that sends
 *    Access-Control-Allow-Credentials: true. Without credentials nothing is reported (a public API may allow all).
 *  - A string literal used as a session, cookie, JWT or HMAC secret: `secret:`-like keys (`secret`, `secretOrKey`,
 *    `jwtSecret`, `clientSecret`...), `cookieParser('x')`, `jwt.sign(p, 'x')`/`verify`, `createHmac(alg, 'x')`,
 *    Koa's `app.keys = ['x']`, and constants named like secrets.
 *
 * Decision: `process.env.X || 'fallback'` (or `??`) is a literal in production: an unset variable silently signs
 * with the fallback. A conditional (`isProd ? process.env.X : 'dev'`) is a deliberate development value: not judged.
 */
import { basename } from 'node:path';
import { type Finding, finding } from '../findings.js';
import { isTestOrDoc } from '../secrets-scan.js';
import { type JsSource, type JsToken, parseJs } from './js-source.js';

const CODE_EXTENSIONS = ['.js', '.ts', '.mjs', '.cjs', '.mts', '.cts'];
const SKIPPED_DIRS = new Set([
  'node_modules',
  'dist',
  'build',
  'out',
  'coverage',
  '.next',
  '.nuxt',
  'vendor',
  '__mocks__',
  'mocks',
  'cypress',
  'playwright',
]);

/** Server source worth reading: code, outside dependencies, builds and tests, not declarations, tooling or minified. */
export function isServerSource(path: string): boolean {
  if (!CODE_EXTENSIONS.some((ext) => path.endsWith(ext))) return false;
  if (path.split('/').some((part) => SKIPPED_DIRS.has(part))) return false;
  const base = basename(path);
  if (base.endsWith('.d.ts') || base.includes('.min.') || isTestOrDoc(path)) return false;
  // Build and test tooling (vite.config.ts, jest.config.js): a dev server's CORS is not the application's.
  const parts = base.split('.');
  return !(parts.length >= 3 && parts[parts.length - 2] === 'config');
}

/** Minified or generated: very long lines on average. */
function looksMinified(text: string): boolean {
  if (text.length < 4096) return false;
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines += 1;
  return text.length / lines > 300;
}

// ---------- values ----------

type Value =
  | { kind: 'literal'; line: number; fallback: boolean }
  | { kind: 'true' | 'star' | 'any' | 'echo' | 'false' | 'unknown'; line: number }
  | { kind: 'object'; open: number; line: number }
  | { kind: 'array'; items: Value[]; line: number }
  | { kind: 'function'; params: string[]; body: [number, number]; line: number };

const GUARD_WORDS = new Set(['includes', 'indexOf', 'has', 'test', 'match', 'some', 'find', 'startsWith', 'endsWith']);
const GUARD_OPS = new Set(['===', '!==', '==', '!=', '?', '&&', '||']);
const STATEMENT_WORDS = new Set([
  'const',
  'let',
  'var',
  'function',
  'class',
  'export',
  'import',
  'if',
  'return',
  'module',
  'app',
  'await',
  'async',
]);

class NodeFile {
  readonly tokens: JsToken[];
  readonly match: number[];
  readonly parent: number[];
  readonly opener: number[];
  /** `const NAME = value`: every declaration of each name, by token index of the value's start and its end. */
  readonly declarations = new Map<string, { at: number; start: number; end: number }[]>();
  /** The file imports a JWT library, so a bare `sign(payload, key)` is its. */
  importsJwt = false;

  constructor(
    readonly path: string,
    source: JsSource,
  ) {
    this.tokens = source.tokens;
    this.match = source.match;
    this.parent = source.parent;
    this.opener = source.opener;
    this.collectDeclarations();
  }

  t(i: number): JsToken | undefined {
    return this.tokens[i];
  }
  isOp(i: number, text: string): boolean {
    const token = this.tokens[i];
    return token?.kind === 'op' && token.text === text;
  }
  isId(i: number, text?: string): boolean {
    const token = this.tokens[i];
    return token?.kind === 'id' && (text === undefined || token.text === text);
  }

  /** The end (exclusive) of the expression starting at `start`: before a `,` `;` or closer at its level. */
  exprEnd(start: number, limit = this.tokens.length): number {
    let i = start;
    while (i < limit) {
      const token = this.tokens[i] as JsToken;
      if (
        token.kind === 'op' &&
        (token.text === ',' || token.text === ';' || token.text === ')' || token.text === ']' || token.text === '}')
      )
        return i;
      // No semicolons: a new line starting with a statement word after a complete operand ends the expression.
      const previous = this.tokens[i - 1];
      if (
        i > start &&
        previous &&
        token.line > previous.line &&
        token.kind === 'id' &&
        STATEMENT_WORDS.has(token.text) &&
        (previous.kind !== 'op' || previous.text === ')' || previous.text === ']' || previous.text === '}')
      ) {
        return i;
      }
      const close = this.match[i] ?? -1;
      i = close >= 0 ? close + 1 : i + 1;
    }
    return limit;
  }

  private collectDeclarations(): void {
    this.tokens.forEach((token, i) => {
      if (token.kind !== 'id' || !['const', 'let', 'var'].includes(token.text)) return;
      const name = this.tokens[i + 1];
      if (name?.kind !== 'id') return;
      let eq = i + 2;
      if (this.isOp(eq, ':')) {
        // A type annotation: to the `=` at this level.
        while (eq < this.tokens.length && !this.isOp(eq, '=') && !this.isOp(eq, ';')) {
          const close = this.match[eq] ?? -1;
          eq = close >= 0 ? close + 1 : eq + 1;
        }
      }
      if (!this.isOp(eq, '=')) return;
      const start = eq + 1;
      const list = this.declarations.get(name.text) ?? [];
      list.push({ at: i, start, end: this.exprEnd(start) });
      this.declarations.set(name.text, list);
    });
  }

  /** The declaration of `name` in force at token `at`: the last one before it, else the first. */
  declaration(name: string, at: number): { start: number; end: number } | undefined {
    const list = this.declarations.get(name);
    if (!list) return undefined;
    let chosen = list[0];
    for (const decl of list) if (decl.at < at) chosen = decl;
    return chosen;
  }

  /** Top-level indices of an operator in [start, end). */
  topLevel(start: number, end: number, texts: string[]): number[] {
    const found: number[] = [];
    for (let i = start; i < end; ) {
      const token = this.tokens[i] as JsToken;
      if (token.kind === 'op' && texts.includes(token.text)) found.push(i);
      const close = this.match[i] ?? -1;
      i = close >= 0 ? close + 1 : i + 1;
    }
    return found;
  }

  /** What the expression in [start, end) is, as far as these checks care. */
  value(start: number, end: number, depth = 0): Value {
    const first = this.tokens[start];
    const line = first?.line ?? 0;
    if (!first || start >= end || depth > 4) return { kind: 'unknown', line };
    // `as const`, `satisfies T`, `!`: TypeScript wrappers around the value.
    let stop = end;
    for (let i = start; i < end; i += 1) {
      if (this.parent[i] !== this.parent[start]) continue;
      if (this.isId(i, 'as') || this.isId(i, 'satisfies')) {
        stop = i;
        break;
      }
    }
    end = stop;
    if (this.topLevel(start, end, ['?']).length > 0) return { kind: 'unknown', line };
    const alternatives = this.topLevel(start, end, ['||', '??']);
    if (alternatives.length > 0) {
      const firstValue = this.value(start, alternatives[0] as number, depth + 1);
      if (firstValue.kind === 'echo') return firstValue;
      const last = this.value((alternatives[alternatives.length - 1] as number) + 1, end, depth + 1);
      return last.kind === 'literal' ? { ...last, fallback: true } : last;
    }
    if (end - start === 1) {
      if (first.kind === 'str' || (first.kind === 'tmpl' && first.value !== undefined)) {
        const text = (first.value ?? '').trim();
        if (text === '*') return { kind: 'star', line };
        return { kind: 'literal', line, fallback: false };
      }
      if (first.kind === 'regex') return { kind: matchesAll(first.text) ? 'any' : 'unknown', line };
      if (first.kind === 'id') {
        if (first.text === 'true') return { kind: 'true', line };
        if (first.text === 'false') return { kind: 'false', line };
        const decl = this.declaration(first.text, start);
        if (decl && decl.start !== start) return this.value(decl.start, decl.end, depth + 1);
        return { kind: 'unknown', line };
      }
    }
    if (this.isOp(start, '{') && this.match[start] === end - 1) return { kind: 'object', open: start, line };
    if (this.isOp(start, '[') && this.match[start] === end - 1) {
      const items: Value[] = [];
      for (let i = start + 1; i < end - 1; ) {
        const itemEnd = this.exprEnd(i, end - 1);
        if (itemEnd > i) items.push(this.value(i, itemEnd, depth + 1));
        i = itemEnd + 1;
      }
      return { kind: 'array', items, line };
    }
    const fn = this.functionAt(start, end);
    if (fn) return fn;
    if (this.isRequestOrigin(start, end)) return { kind: 'echo', line };
    // `new TextEncoder().encode('x')`, `Buffer.from('x')`: a literal turned into bytes.
    const last = this.tokens[end - 1];
    if (last?.kind === 'op' && last.text === ')') {
      const open = this.openerOf(end - 1);
      const callee = this.tokens[open - 1];
      if (open > start && callee?.kind === 'id' && (callee.text === 'encode' || callee.text === 'from')) {
        const inner = this.value(open + 1, this.exprEnd(open + 1, end - 1), depth + 1);
        if (inner.kind === 'literal') return inner;
      }
    }
    return { kind: 'unknown', line };
  }

  openerOf(close: number): number {
    return this.opener[close] ?? -1;
  }

  /** `(a, b) => ...`, `a => ...`, `function (a) {...}`, `async` forms. */
  private functionAt(start: number, end: number): Value | undefined {
    let i = start;
    if (this.isId(i, 'async')) i += 1;
    let params: string[] = [];
    if (this.isId(i, 'function')) {
      i += 1;
      if (this.isId(i)) i += 1;
      if (!this.isOp(i, '(')) return undefined;
      const close = this.match[i] as number;
      params = this.paramNames(i + 1, close);
      i = close + 1;
      if (!this.isOp(i, '{')) return undefined;
      return { kind: 'function', params, body: [i + 1, this.match[i] as number], line: this.tokens[start]?.line ?? 0 };
    }
    if (this.isId(i) && this.isOp(i + 1, '(') && this.isOp((this.match[i + 1] as number) + 1, '{')) {
      // A method in an object literal: `origin(origin, callback) { ... }`.
      const close = this.match[i + 1] as number;
      return {
        kind: 'function',
        params: this.paramNames(i + 2, close),
        body: [close + 2, this.match[close + 1] as number],
        line: this.tokens[start]?.line ?? 0,
      };
    }
    if (this.isId(i) && this.isOp(i + 1, '=>')) {
      params = [(this.tokens[i] as JsToken).text];
      i += 2;
    } else if (this.isOp(i, '(') && this.isOp((this.match[i] as number) + 1, '=>')) {
      params = this.paramNames(i + 1, this.match[i] as number);
      i = (this.match[i] as number) + 2;
    } else return undefined;
    const body: [number, number] = this.isOp(i, '{') ? [i + 1, this.match[i] as number] : [i, end];
    return { kind: 'function', params, body, line: this.tokens[start]?.line ?? 0 };
  }

  private paramNames(start: number, end: number): string[] {
    const names: string[] = [];
    for (let i = start; i < end; ) {
      if (this.isId(i)) names.push((this.tokens[i] as JsToken).text);
      i = this.exprEnd(i, end) + 1;
    }
    return names;
  }

  /** `req.headers.origin`, `req.headers['origin']`, `req.get('Origin')`, `ctx.get('origin')`, `req.header('origin')`. */
  isRequestOrigin(start: number, end: number): boolean {
    for (let i = start; i < end; i += 1) {
      const token = this.tokens[i] as JsToken;
      const isOriginWord =
        (token.kind === 'id' || token.kind === 'str') && (token.value ?? token.text).toLowerCase() === 'origin';
      if (!isOriginWord) continue;
      const before = this.tokens[i - 1];
      const before2 = this.tokens[i - 2];
      if (token.kind === 'id' && before?.text === '.' && (before2?.text === 'headers' || before2?.text === 'header'))
        return true;
      if (token.kind === 'str' && before?.text === '[' && (before2?.text === 'headers' || before2?.text === 'header'))
        return true;
      if (token.kind === 'str' && before?.text === '(' && ['get', 'header', 'getHeader'].includes(before2?.text ?? ''))
        return true;
    }
    return false;
  }

  /** An object literal's keys: key -> [value start, value end, key token]. Shorthand `{ origin }` reads the name. */
  properties(open: number, depth = 0): Map<string, { start: number; end: number; key: number }> {
    const props = new Map<string, { start: number; end: number; key: number }>();
    const close = this.match[open] as number;
    for (let i = open + 1; i < close; ) {
      const key = this.tokens[i] as JsToken;
      const end = this.exprEnd(i, close);
      if ((key.kind === 'id' || key.kind === 'str') && this.isOp(i + 1, ':')) {
        props.set(key.value ?? key.text, { start: i + 2, end, key: i });
      } else if (key.kind === 'id' && this.isOp(i + 1, '(') && this.isOp((this.match[i + 1] as number) + 1, '{')) {
        props.set(key.text, { start: i, end, key: i });
      } else if (key.kind === 'id' && end === i + 1) {
        props.set(key.text, { start: i, end: i + 1, key: i });
      } else if (this.isOp(i, '...') && this.isId(i + 1) && end === i + 2) {
        const decl = this.declaration((this.tokens[i + 1] as JsToken).text, i);
        if (decl && this.isOp(decl.start, '{') && depth < 4) {
          for (const [name, prop] of this.properties(decl.start, depth + 1))
            if (!props.has(name)) props.set(name, prop);
        }
      }
      i = end + 1;
    }
    return props;
  }

  /** A guard before `at` in its function: an allowlist lookup or comparison. */
  guardedBefore(at: number): boolean {
    let body = -1;
    for (let open = this.parent[at] ?? -1; open >= 0; open = this.parent[open] ?? -1) {
      const before = this.tokens[open - 1];
      if (this.isOp(open, '{') && before && (before.text === '=>' || before.text === ')')) {
        body = open;
        break;
      }
    }
    // Bounded: a hostile file of many headers in one function is not rescanned from its start for each.
    for (let i = Math.max(0, body, at - 2000); i < at; i += 1) {
      const token = this.tokens[i] as JsToken;
      if (token.kind === 'id' && (GUARD_WORDS.has(token.text) || token.text === 'if' || token.text === 'switch'))
        return true;
      if (token.kind === 'op' && GUARD_OPS.has(token.text)) return true;
    }
    return false;
  }
}

const DEV_WORDS = new Set(['development', 'dev', 'test', 'local']);

/**
 * Inside `if (process.env.NODE_ENV === 'development') { ... }` (or `!== 'production'`, `if (isDev)`): a development
 * branch, not what production runs.
 */
function inDevelopmentBlock(file: NodeFile, at: number): boolean {
  for (let open = file.parent[at] ?? -1; open >= 0; open = file.parent[open] ?? -1) {
    if (file.isOp(open, '{') && file.isOp(open - 1, ')') && isDevelopmentCondition(file, file.opener[open - 1] ?? -1))
      return true;
  }
  // `if (dev) app.use(cors(...));` without braces: from the outermost call around `at`, back over `app.use`.
  let outer = at;
  for (let open = file.parent[at] ?? -1; open >= 0 && !file.isOp(open, '{'); open = file.parent[open] ?? -1)
    outer = open;
  let start = outer;
  while (start > 0 && (file.isId(start - 1) || file.isOp(start - 1, '.') || file.isOp(start - 1, '?.'))) start -= 1;
  return file.isOp(start - 1, ')') && isDevelopmentCondition(file, file.opener[start - 1] ?? -1);
}

/** `if (` at `condition` (its opening parenthesis), testing for a development environment. */
function isDevelopmentCondition(file: NodeFile, condition: number): boolean {
  if (condition < 1 || !file.isId(condition - 1, 'if')) return false;
  const close = file.match[condition] ?? -1;
  let equals = false;
  let differs = false;
  let dev = false;
  let production = false;
  let devName = false;
  for (let i = condition + 1; i < close; i += 1) {
    const token = file.t(i) as JsToken;
    if (token.kind === 'op' && (token.text === '===' || token.text === '==')) equals = true;
    if (token.kind === 'op' && (token.text === '!==' || token.text === '!=')) differs = true;
    if (token.kind === 'str' && DEV_WORDS.has((token.value ?? '').toLowerCase())) dev = true;
    if (token.kind === 'str' && (token.value ?? '').toLowerCase() === 'production') production = true;
    if (token.kind === 'id' && DEV_NAMES.has(token.text)) devName = true;
  }
  return (equals && dev) || (differs && production) || (devName && !differs && !file.isOp(condition + 1, '!'));
}

const DEV_NAMES = new Set(['isDev', 'isDevelopment', 'isTest', 'isLocal', 'IS_DEV', 'DEV']);

/** `/.*\/`, `/^.*$/`, `/.+/`: a regex literal that matches every origin. */
function matchesAll(literal: string): boolean {
  const close = literal.lastIndexOf('/');
  let body = literal.slice(1, close);
  if (body.startsWith('^')) body = body.slice(1);
  if (body.endsWith('$')) body = body.slice(0, -1);
  return ['.*', '.+', '', '(.*)', '.*?'].includes(body);
}

// ---------- CORS ----------

/** How an `origin` option accepts origins, when it accepts every one. */
function anyOrigin(file: NodeFile, value: Value): string | undefined {
  switch (value.kind) {
    case 'true':
      return 'origin: true reflects every origin';
    case 'star':
      return "origin: '*'";
    case 'any':
      return 'origin is a regex that matches every origin';
    case 'echo':
      return "origin echoes the request's Origin";
    case 'array':
      return value.items.some((item) => item.kind === 'true' || item.kind === 'any')
        ? 'origin accepts every origin'
        : undefined;
    case 'function': {
      const [start, end] = value.body;
      const param = value.params[0];
      let accepts = false;
      for (let i = start; i < end; i += 1) {
        const token = file.t(i) as JsToken;
        if (token.kind === 'id' && (token.text === 'if' || token.text === 'switch' || GUARD_WORDS.has(token.text)))
          return undefined;
        if (token.kind === 'op' && GUARD_OPS.has(token.text)) return undefined;
        // cb(null, true) / cb(null, origin)
        if (file.isId(i, 'null') && file.isOp(i + 1, ',') && file.isOp(i - 1, '(')) {
          const arg = file.t(i + 2);
          if (arg?.text === 'true' || (param !== undefined && arg?.text === param)) accepts = true;
        }
      }
      // An expression body that returns the request's Origin (Koa: `ctx => ctx.get('Origin')`).
      if (!accepts && file.isRequestOrigin(start, end)) accepts = true;
      // Hono: `origin: (origin) => origin`.
      if (!accepts && end - start === 1 && param !== undefined && file.isId(start, param)) accepts = true;
      return accepts ? 'the origin callback accepts every origin' : undefined;
    }
    default:
      return undefined;
  }
}

function isTrue(file: NodeFile, value: Value, start: number): boolean {
  if (value.kind === 'true') return true;
  const token = file.t(start);
  return value.kind === 'literal' && token?.kind === 'str' && token.value === 'true';
}

/** `cors(`, `enableCors(`, `fastifyCors(`, `register(cors, ` — the call whose options an object is. */
function isCorsOptionsPosition(file: NodeFile, open: number): boolean {
  const before = file.t(open - 1);
  if (before?.text === '(') {
    const callee = file.t(open - 2);
    return callee?.kind === 'id' && callee.text.toLowerCase().includes('cors');
  }
  if (before?.text === ':') {
    const key = file.t(open - 2);
    return (key?.kind === 'id' || key?.kind === 'str') && (key.value ?? key.text) === 'cors';
  }
  if (before?.text === ',') {
    // register(cors, { ... }) / register(require('@fastify/cors'), { ... })
    const call = file.parent[open] ?? -1;
    if (call < 0 || !file.isOp(call, '(') || !file.isId(call - 1, 'register')) return false;
    for (let i = call + 1; i < open; i += 1) {
      const token = file.t(i) as JsToken;
      if ((token.value ?? token.text).toLowerCase().includes('cors')) return true;
    }
  }
  return false;
}

function corsFindings(file: NodeFile, out: Finding[]): void {
  const { tokens } = file;
  // Names of objects passed to a cors call: `const corsOptions = {...}; app.use(cors(corsOptions))`.
  const passed = new Set<number>();
  tokens.forEach((token, i) => {
    if (token.kind !== 'id' || !file.isOp(i + 1, '(')) return;
    const corsCall = token.text.toLowerCase().includes('cors') || isCorsOptionsPosition(file, i);
    if (!corsCall) return;
    const arg = file.t(i + 2);
    if (arg?.kind === 'id' && file.exprEnd(i + 2) === i + 3) {
      const found = file.declaration(arg.text, i);
      if (found && file.isOp(found.start, '{')) passed.add(found.start);
    }
  });
  const reported = new Set<number>();
  tokens.forEach((token, open) => {
    if (!(token.kind === 'op' && token.text === '{')) return;
    const props = file.properties(open);
    const credentials = props.get('credentials');
    if (!credentials || !isTrue(file, file.value(credentials.start, credentials.end), credentials.start)) return;
    const origin = props.get('origin');
    let how: string | undefined;
    let line = file.t(credentials.key)?.line ?? token.line;
    if (origin) {
      how = anyOrigin(file, file.value(origin.start, origin.end));
      line = file.t(origin.key)?.line ?? line;
    } else if (isCorsOptionsPosition(file, open) || passed.has(open)) {
      how = "no origin option, so it defaults to '*'";
    }
    if (!how || reported.has(line) || inDevelopmentBlock(file, open)) return;
    reported.add(line);
    out.push(
      finding(
        'files.node.cors-credentials',
        `${file.path} line ${line}: CORS with credentials: true and ${how}`,
        `${file.path}:${line}`,
      ),
    );
  });
  manualHeaders(file, out, reported);
}

/** Access-Control-Allow-Origin set by hand, in a file that also allows credentials. */
function manualHeaders(file: NodeFile, out: Finding[], reported: Set<number>): void {
  const { tokens } = file;
  const headerValue = (i: number): [number, number] | undefined => {
    // setHeader('name', value) / header('name', value) / set('name', value) / { 'name': value }
    if (file.isOp(i + 1, ',') || file.isOp(i + 1, ':')) {
      const start = i + 2;
      return [start, file.exprEnd(start)];
    }
    return undefined;
  };
  let credentials = false;
  tokens.forEach((token, i) => {
    if (token.kind !== 'str' || token.value?.toLowerCase() !== 'access-control-allow-credentials') return;
    const range = headerValue(i);
    if (!range) return;
    const value = file.t(range[0]);
    if (range[1] - range[0] === 1 && (value?.text === 'true' || value?.value === 'true')) credentials = true;
  });
  if (!credentials) return;
  tokens.forEach((token, i) => {
    if (token.kind !== 'str' || token.value?.toLowerCase() !== 'access-control-allow-origin') return;
    const range = headerValue(i);
    if (!range) return;
    const value = file.value(range[0], range[1]);
    let how: string | undefined;
    if (value.kind === 'star') how = "'*'";
    else if (value.kind === 'echo' && !file.guardedBefore(i)) how = "the request's Origin, unchecked";
    if (!how || reported.has(token.line) || inDevelopmentBlock(file, i)) return;
    reported.add(token.line);
    out.push(
      finding(
        'files.node.cors-credentials',
        `${file.path} line ${token.line}: Access-Control-Allow-Origin is ${how}, with Access-Control-Allow-Credentials: true`,
        `${file.path}:${token.line}`,
      ),
    );
  });
}

// ---------- secrets ----------

const SECRET_KEY_NAMES = new Set([
  'secretorkey',
  'secretorprivatekey',
  'jwtkey',
  'signingkey',
  'sessionkey',
  'cookiekey',
]);

/** `secret`, `jwtSecret`, `SESSION_SECRET`, `clientSecret`, `secretOrKey`, `JWT_SECRET_KEY`, ... */
export function isSecretName(name: string): boolean {
  let lower = '';
  for (const c of name.toLowerCase()) if (c !== '_' && c !== '-') lower += c;
  return lower.endsWith('secret') || lower.endsWith('secretkey') || SECRET_KEY_NAMES.has(lower);
}

function literalOf(file: NodeFile, value: Value): { line: number; fallback: boolean } | undefined {
  if (value.kind === 'literal') {
    return value;
  }
  if (value.kind === 'star') return { line: value.line, fallback: false };
  if (value.kind === 'array') {
    const literal = value.items.find((item) => item.kind === 'literal');
    return literal?.kind === 'literal' ? literal : undefined;
  }
  void file;
  return undefined;
}

/** A literal worth reporting: not empty, not a template placeholder. */
function isRealLiteral(file: NodeFile, value: Value, start: number, end: number): boolean {
  for (let i = start; i < end; i += 1) {
    const token = file.t(i) as JsToken;
    if (token.kind !== 'str' && !(token.kind === 'tmpl' && token.value !== undefined)) continue;
    const text = (token.value ?? '').trim();
    if (text.length >= 3 && !text.startsWith('${') && !(text.startsWith('<') && text.endsWith('>'))) return true;
  }
  void value;
  return false;
}

function secretFindings(file: NodeFile, out: Finding[]): void {
  const { tokens } = file;
  const usesCookieSession = tokens.some(
    (token) => token.kind === 'str' && (token.value === 'cookie-session' || token.value === 'cookie-session/index.js'),
  );
  const seen = new Set<number>();
  const report = (what: string, start: number, end: number) => {
    const value = file.value(start, end);
    const literal = literalOf(file, value);
    if (!literal || seen.has(literal.line) || inDevelopmentBlock(file, start)) return;
    // The literal's own tokens, wherever the value was declared.
    const range = literalRange(file, start, end);
    if (!isRealLiteral(file, value, range[0], range[1])) return;
    seen.add(literal.line);
    const how = literal.fallback
      ? 'falls back to a string literal when the environment does not set it'
      : 'is a string literal';
    out.push(
      finding(
        'files.node.secret-literal',
        `${file.path} line ${literal.line}: ${what} ${how}`,
        `${file.path}:${literal.line}`,
      ),
    );
  };
  tokens.forEach((token, i) => {
    // { secret: 'x' }, { secretOrKey: 'x' }, { keys: ['x'] } in cookie-session options
    if (
      (token.kind === 'id' || token.kind === 'str') &&
      file.isOp(i + 1, ':') &&
      file.isOp(file.parent[i] ?? -1, '{')
    ) {
      const key = token.value ?? token.text;
      // cookie-session signs with `keys: ['…', '…']`; `keys` means that only in a file that uses it.
      if (isSecretName(key) || (key === 'keys' && usesCookieSession)) {
        report(`the ${key} option`, i + 2, file.exprEnd(i + 2));
      }
      return;
    }
    if (token.kind !== 'id') return;
    // const JWT_SECRET = 'x' / let sessionSecret = process.env.S || 'x'
    if (['const', 'let', 'var'].includes(token.text) && file.isId(i + 1) && isSecretName(file.t(i + 1)?.text ?? '')) {
      const decl = file.declaration(file.t(i + 1)?.text ?? '', i + 2);
      if (decl && decl.start > i && decl.start <= i + 40) report(`${file.t(i + 1)?.text}`, decl.start, decl.end);
      return;
    }
    // this.secret = 'x', { JWT_SECRET = 'x' } = process.env, process.env.JWT_SECRET ??= 'x'
    if (isSecretName(token.text) && ['=', '??=', '||='].some((op) => file.isOp(i + 1, op))) {
      report(token.text, i + 2, file.exprEnd(i + 2));
      return;
    }
    // app.keys = ['x'] (Koa's cookie signing keys)
    if (token.text === 'keys' && file.isOp(i - 1, '.') && file.isOp(i + 1, '=')) {
      report('app.keys', i + 2, file.exprEnd(i + 2));
      return;
    }
    if (!file.isOp(i + 1, '(')) return;
    const close = file.match[i + 1] as number;
    const args: [number, number][] = [];
    for (let a = i + 2; a < close; ) {
      const end = file.exprEnd(a, close);
      args.push([a, end]);
      a = end + 1;
    }
    const receiver = file.isOp(i - 1, '.') ? file.t(i - 2)?.text : undefined;
    if (token.text === 'cookieParser' && args[0]) report('the cookie-parser secret', ...args[0]);
    else if ((token.text === 'sign' || token.text === 'verify') && args[1] && isJwtReceiver(file, receiver))
      report(`the JWT ${token.text} secret`, ...args[1]);
    else if (
      (token.text === 'sign' || token.text === 'jwtVerify') &&
      receiver === undefined &&
      args[1] &&
      file.importsJwt
    )
      report(`the JWT ${token.text} secret`, ...args[1]);
    else if (token.text === 'createHmac' && args[1]) report('the HMAC key', ...args[1]);
  });
}

function isJwtReceiver(file: NodeFile, receiver: string | undefined): boolean {
  if (receiver === undefined) return file.importsJwt;
  const lower = receiver.toLowerCase();
  return lower === 'jwt' || lower === 'jsonwebtoken' || lower === 'jwtservice';
}

/** Where the literal is: follow one name to its declaration. */
function literalRange(file: NodeFile, start: number, end: number, depth = 0): [number, number] {
  if (end - start === 1 && file.isId(start) && depth < 4) {
    const decl = file.declaration(file.t(start)?.text ?? '', start);
    if (decl && decl.start !== start) return literalRange(file, decl.start, decl.end, depth + 1);
  }
  return [start, end];
}

// ---------- entry ----------

export interface NodeJudgement {
  findings: Finding[];
  /** `path:line` of the findings: the generic secret heuristics leave those lines to this check. */
  claimed: Set<string>;
}

/** Words one of the checks needs in a file (`sign(` alone counts only beside jsonwebtoken or jose). */
const PREFILTER = [
  'cors',
  'access-control',
  'secret',
  'jwt',
  'jose',
  'cookieparser',
  'hmac',
  'keys =',
  'keys=',
  'cookie-session',
];

export function auditNodeServer(files: string[], read: (path: string) => string | undefined): NodeJudgement {
  const out: NodeJudgement = { findings: [], claimed: new Set() };
  for (const path of files.filter(isNodeConfigFile)) {
    const text = read(path);
    for (const f of text === undefined ? [] : nodeConfigSecrets(path, text)) {
      out.findings.push(f);
      if (f.location) out.claimed.add(f.location);
    }
  }
  for (const path of files.filter(isServerSource)) {
    const text = read(path);
    if (text === undefined || looksMinified(text)) continue;
    // Cheap first: a file that names neither CORS nor a secret is not tokenized.
    const lower = text.toLowerCase();
    if (!PREFILTER.some((word) => lower.includes(word))) continue;
    const file = new NodeFile(path, parseJs(text));
    file.importsJwt = lower.includes('jsonwebtoken') || lower.includes("'jose'") || lower.includes('"jose"');
    const findings: Finding[] = [];
    corsFindings(file, findings);
    secretFindings(file, findings);
    for (const f of findings) {
      out.findings.push(f);
      if (f.location) out.claimed.add(f.location);
    }
  }
  return out;
}

// ---------- node-config files ----------

/**
 * node-config's `config/*.json` (`{ "jwtSecret": "..." }`, read by `config.get('jwtSecret')`): a secret-named key with
 * a string value. Not `custom-environment-variables.json` (its values are variable names) nor development/test files.
 */
export function isNodeConfigFile(path: string): boolean {
  const parts = path.split('/');
  const base = parts[parts.length - 1] ?? '';
  if (parts[parts.length - 2] !== 'config' || !base.endsWith('.json') || parts.some((p) => SKIPPED_DIRS.has(p)))
    return false;
  const stem = base.slice(0, -'.json'.length);
  return !['custom-environment-variables', 'development', 'dev', 'test', 'testing', 'local', 'ci'].includes(stem);
}

export function nodeConfigSecrets(path: string, text: string): Finding[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const found: Finding[] = [];
  const visit = (value: unknown, depth: number) => {
    if (!value || typeof value !== 'object' || depth > 8) return;
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (typeof inner === 'string' && isSecretName(key) && inner.trim().length >= 3 && !inner.includes('${')) {
        // The key's line: its first quoted occurrence.
        const at = text.indexOf(`"${key}"`);
        let line = 1;
        for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) line += 1;
        found.push(
          finding('files.node.secret-literal', `${path} line ${line}: ${key} is a string literal`, `${path}:${line}`),
        );
      } else visit(inner, depth + 1);
    }
  };
  visit(parsed, 0);
  return found;
}
