/**
 * Evaluates a settings module's expressions as they would come out on a server whose environment says nothing:
 * `os.environ.get('X', d)` is d, `os.environ['X']` refuses to start, django-environ's `env.bool('X', default=True)`
 * is True, python-decouple's `config('X', default='*', cast=Csv())` is ['*']. That answers "what does this setting
 * default to" for every spelling at once. Nothing is executed: only literals, the environment readers above and a
 * few pure builtins and string methods are known; anything else is UNKNOWN and judged by nobody.
 *
 * Each value remembers the line of the literal it came from (a secret is reported where it is written) and the
 * environment variable whose default it is.
 */
import { type Expr, HOLE } from './python-source.js';

export interface V {
  k: 'str' | 'num' | 'bool' | 'none' | 'list' | 'dict' | 'unknown' | 'raises' | 'fn';
  s?: string;
  n?: number;
  b?: boolean;
  items?: V[];
  entries?: Map<string, V>;
  fn?: (args: V[]) => V;
  /** A builtin named as a value (`cast=bool`): the environment readers cast by their own rules, not Python's. */
  builtin?: string;
  /** The line of the literal this value was written as. */
  line?: number;
  /** The environment variable whose default this is (the value when it is unset). */
  env?: string;
  /** Read through a module name whose own value came from the environment (`DEBUG = not PRODUCTION`). */
  viaName?: boolean;
}

export const UNKNOWN: V = { k: 'unknown' };
/** Values past these sizes are UNKNOWN: settings are small, and a hostile module must not grow them. */
export const MAX_SIZE = 64 * 1024;
export const MAX_ITEMS = 4096;
export const RAISES: V = { k: 'raises' };
const NONE: V = { k: 'none' };
const str = (s: string, from?: V): V => ({ k: 'str', s, ...provenance(from) });
const bool = (b: boolean, from?: V): V => ({ k: 'bool', b, ...provenance(from) });
const num = (n: number, from?: V): V => ({ k: 'num', n, ...provenance(from) });
const list = (items: V[], from?: V): V => ({ k: 'list', items, ...provenance(from) });

function provenance(from?: V): Partial<V> {
  if (!from) return {};
  return {
    ...(from.line === undefined ? {} : { line: from.line }),
    ...(from.env === undefined ? {} : { env: from.env }),
    ...(from.viaName ? { viaName: true } : {}),
  };
}

const opaque = (v: V) => v.k === 'unknown' || v.k === 'raises';

/** Python truthiness; undefined when the value is not known. */
export function truthy(v: V): boolean | undefined {
  switch (v.k) {
    case 'str':
      return (v.s ?? '') !== '';
    case 'num':
      return v.n !== 0;
    case 'bool':
      return v.b;
    case 'none':
      return false;
    case 'list':
      return (v.items?.length ?? 0) > 0;
    case 'dict':
      return (v.entries?.size ?? 0) > 0;
    default:
      return undefined;
  }
}

/** Strings read as booleans the way django-environ, environs and decouple do. */
const TRUE_WORDS = new Set(['true', 'on', 'ok', 'y', 'yes', '1', 't']);
function castBool(v: V): V {
  if (opaque(v)) return v;
  if (v.k === 'str') return bool(TRUE_WORDS.has((v.s ?? '').trim().toLowerCase()), v);
  const t = truthy(v);
  return t === undefined ? UNKNOWN : bool(t, v);
}
function castList(v: V): V {
  if (opaque(v) || v.k === 'list') return v;
  if (v.k === 'str') {
    const s = v.s ?? '';
    return list(s === '' ? [] : s.split(',').map((part) => str(part.trim(), v)), v);
  }
  return UNKNOWN;
}
function castInt(v: V): V {
  if (opaque(v)) return v;
  if (v.k === 'num') return v;
  if (v.k === 'bool') return num(v.b ? 1 : 0, v);
  if (v.k === 'str') {
    const parsed = Number((v.s ?? '').trim());
    return Number.isInteger(parsed) && (v.s ?? '').trim() !== '' ? num(parsed, v) : RAISES;
  }
  return UNKNOWN;
}
function castStr(v: V): V {
  if (opaque(v)) return v;
  if (v.k === 'str') return v;
  if (v.k === 'bool') return str(v.b ? 'True' : 'False', v);
  if (v.k === 'none') return str('None', v);
  if (v.k === 'num') return str(String(v.n), v);
  return UNKNOWN;
}

/** The parts of a database URL a settings check needs (dj-database-url, django-environ's env.db). */
export function databaseUrl(v: V): V {
  if (v.k !== 'str') return opaque(v) ? v : UNKNOWN;
  const url = v.s ?? '';
  const scheme = url.indexOf('://');
  if (scheme < 0) return { k: 'dict', entries: new Map(), ...provenance(v) };
  const rest = url.slice(scheme + 3);
  let authority = rest;
  for (const stop of ['/', '?', '#']) {
    const at = authority.indexOf(stop);
    if (at >= 0) authority = authority.slice(0, at);
  }
  const entries = new Map<string, V>();
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) {
      let password = userinfo.slice(colon + 1);
      try {
        password = decodeURIComponent(password);
      } catch {
        // A malformed escape: keep the text as written.
      }
      entries.set('PASSWORD', str(password, v));
    }
  }
  return { k: 'dict', entries, ...provenance(v) };
}

export interface EnvObject {
  /** django-environ's `env(var, cast, default)` or environs' `env(var, default)`. */
  kind: 'django-environ' | 'environs';
  /** `environ.Env(DEBUG=(bool, False))`: the defaults declared in the constructor. */
  scheme: Map<string, V>;
}

export class Scope {
  readonly bindings = new Map<string, V>();
  readonly envObjects = new Map<string, EnvObject>();
  /** Names bound to os.environ (`from os import environ`). */
  readonly environNames = new Set(['os.environ']);
  readonly getenvNames = new Set(['os.getenv', 'os.environ.get']);
  decouple = false;
  environsImported = false;
}

/** `a.b.c` for a chain of names and attributes. */
export function dotted(expr: Expr): string | undefined {
  if (expr.t === 'name') return expr.name;
  if (expr.t === 'attr') {
    const object = dotted(expr.object);
    return object === undefined ? undefined : `${object}.${expr.name}`;
  }
  return undefined;
}

function kwarg(kwargs: [string, Expr][], name: string): Expr | undefined {
  return kwargs.find(([key]) => key === name)?.[1];
}

const METHOD_CASTS: Record<string, (v: V) => V> = {
  bool: castBool,
  int: castInt,
  float: castInt,
  str: castStr,
  list: castList,
  tuple: castList,
  db: databaseUrl,
  db_url: databaseUrl,
  database_url: databaseUrl,
  url: (v) => v,
  path: (v) => v,
};

export class Evaluator {
  private depth = 0;
  constructor(readonly scope: Scope) {}

  eval(expr: Expr, locals?: Map<string, V>): V {
    this.depth += 1;
    try {
      if (this.depth > 200) return UNKNOWN;
      return this.evalInner(expr, locals);
    } finally {
      this.depth -= 1;
    }
  }

  private evalInner(expr: Expr, locals?: Map<string, V>): V {
    switch (expr.t) {
      case 'str':
        return { k: 'str', s: expr.value, line: expr.line };
      case 'num': {
        const n = Number(expr.text.replaceAll('_', ''));
        return Number.isNaN(n) ? UNKNOWN : { k: 'num', n, line: expr.line };
      }
      case 'const':
        return expr.value === null ? { k: 'none', line: expr.line } : { k: 'bool', b: expr.value, line: expr.line };
      case 'name': {
        const local = locals?.get(expr.name);
        if (local) return local;
        const bound = this.scope.bindings.get(expr.name);
        if (!bound) {
          // `cast=bool`: a builtin named as a value.
          const builtin = BUILTINS[expr.name];
          return builtin ? { k: 'fn', fn: ([v]) => builtin(v ?? UNKNOWN), builtin: expr.name } : UNKNOWN;
        }
        return bound.env !== undefined || bound.viaName ? { ...bound, viaName: true } : bound;
      }
      case 'attr':
        return UNKNOWN;
      case 'call':
        return this.call(expr, locals);
      case 'sub': {
        const path = dotted(expr.object);
        if (path !== undefined && this.scope.environNames.has(path)) return RAISES;
        const object = this.eval(expr.object, locals);
        const index = this.eval(expr.index, locals);
        if (opaque(object)) return object;
        if (opaque(index)) return index;
        if (object.k === 'dict' && index.k === 'str') return object.entries?.get(index.s ?? '') ?? RAISES;
        if (object.k === 'list' && index.k === 'num') {
          const items = object.items ?? [];
          const at = (index.n ?? 0) < 0 ? items.length + (index.n ?? 0) : (index.n ?? 0);
          return items[at] ?? RAISES;
        }
        return UNKNOWN;
      }
      case 'list':
      case 'tuple':
      case 'set':
        return { k: 'list', items: expr.items.map((item) => this.eval(item, locals)), line: expr.line };
      case 'dict': {
        const entries = new Map<string, V>();
        for (const [key, value] of expr.entries) {
          const k = this.eval(key, locals);
          if (k.k === 'str') entries.set(k.s ?? '', this.eval(value, locals));
        }
        return { k: 'dict', entries, line: expr.line };
      }
      case 'bin':
        return this.binary(expr.op, this.eval(expr.left, locals), this.eval(expr.right, locals));
      case 'cmp':
        return this.compare(expr.op, this.eval(expr.left, locals), this.eval(expr.right, locals));
      case 'bool': {
        const left = this.eval(expr.left, locals);
        const t = truthy(left);
        if (t === undefined) return left.k === 'raises' ? RAISES : UNKNOWN;
        if (expr.op === 'or') return t ? left : this.eval(expr.right, locals);
        return t ? this.eval(expr.right, locals) : left;
      }
      case 'not': {
        const operand = this.eval(expr.operand, locals);
        const t = truthy(operand);
        return t === undefined ? (operand.k === 'raises' ? RAISES : UNKNOWN) : bool(!t, operand);
      }
      case 'neg': {
        const operand = this.eval(expr.operand, locals);
        return operand.k === 'num' ? num(-(operand.n ?? 0), operand) : opaque(operand) ? operand : UNKNOWN;
      }
      case 'if': {
        const test = this.eval(expr.test, locals);
        const t = truthy(test);
        if (t === undefined) return test.k === 'raises' ? RAISES : UNKNOWN;
        return this.eval(t ? expr.whenTrue : expr.otherwise, locals);
      }
      case 'comp': {
        const iter = this.eval(expr.iter, locals);
        if (opaque(iter)) return iter;
        const items =
          iter.k === 'list'
            ? (iter.items ?? [])
            : iter.k === 'str'
              ? [...(iter.s ?? '')].map((c) => str(c, iter))
              : undefined;
        if (!items || expr.target.length !== 1) return UNKNOWN;
        const out: V[] = [];
        for (const item of items.slice(0, 1000)) {
          const inner = new Map(locals);
          inner.set(expr.target[0] as string, item);
          let keep = true;
          for (const cond of expr.conds) {
            const t = truthy(this.eval(cond, inner));
            if (t === undefined) return UNKNOWN;
            keep &&= t;
          }
          if (keep) out.push(this.eval(expr.element, inner));
        }
        return list(out, iter);
      }
      case 'lambda':
        return {
          k: 'fn',
          fn: (args) => {
            const inner = new Map(locals);
            expr.params.forEach((param, i) => {
              inner.set(param, args[i] ?? UNKNOWN);
            });
            return this.eval(expr.body, inner);
          },
        };
      default:
        return UNKNOWN;
    }
  }

  private binary(op: string, left: V, right: V): V {
    if (left.k === 'raises' || right.k === 'raises') return RAISES;
    if (opaque(left) || opaque(right)) return UNKNOWN;
    if (op === '+') {
      // Bounded: `X = X + X` repeated would double the value each time.
      if (left.k === 'str' && right.k === 'str') {
        const s = (left.s ?? '') + (right.s ?? '');
        return s.length > MAX_SIZE ? UNKNOWN : str(s, left.env ? left : right);
      }
      if (left.k === 'list' && right.k === 'list') {
        const items = [...(left.items ?? []), ...(right.items ?? [])];
        return items.length > MAX_ITEMS ? UNKNOWN : list(items, left);
      }
      if (left.k === 'num' && right.k === 'num') return num((left.n ?? 0) + (right.n ?? 0), left);
    }
    return UNKNOWN;
  }

  private compare(op: string, left: V, right: V): V {
    if (left.k === 'raises' || right.k === 'raises') return RAISES;
    if (opaque(left) || opaque(right)) return UNKNOWN;
    const from = left.env ? left : right;
    if (op === 'in' || op === 'not in') {
      let found: boolean | undefined;
      if (right.k === 'list') {
        const eq = (right.items ?? []).map((item) => equal(left, item));
        found = eq.includes(true) ? true : eq.includes(undefined) ? undefined : false;
      } else if (right.k === 'str' && left.k === 'str') found = (right.s ?? '').includes(left.s ?? '');
      else if (right.k === 'dict' && left.k === 'str') found = right.entries?.has(left.s ?? '');
      if (found === undefined) return UNKNOWN;
      return bool(op === 'in' ? found : !found, from);
    }
    const eq = equal(left, right);
    if (eq === undefined) return UNKNOWN;
    if (op === '==' || op === 'is') return bool(eq, from);
    if (op === '!=' || op === 'is not') return bool(!eq, from);
    return UNKNOWN;
  }

  private call(expr: Extract<Expr, { t: 'call' }>, locals?: Map<string, V>): V {
    const path = dotted(expr.callee);
    const args = () => expr.args.map((arg) => this.eval(arg, locals));
    const kw = (name: string) => {
      const found = kwarg(expr.kwargs, name);
      return found === undefined ? undefined : this.eval(found, locals);
    };
    const envName = (v: V | undefined) => (v?.k === 'str' ? (v.s ?? '') : '?');

    // os.environ.get / os.getenv / environ.get (and setdefault): the default, or None.
    if (path !== undefined && (this.scope.getenvNames.has(path) || path.endsWith('environ.setdefault'))) {
      const [name, positional] = args();
      const fallback = positional ?? kw('default');
      const variable = envName(name);
      return fallback ? { ...fallback, env: variable } : { ...NONE, env: variable };
    }

    // django-environ / environs: env('X', ...), env.bool('X', default=...).
    const root = path?.split('.')[0];
    const envObject = root === undefined ? undefined : this.scope.envObjects.get(root);
    if (envObject && path !== undefined && path.split('.').length <= 2) {
      const method = path.split('.')[1];
      const [name, second, third] = args();
      const variable = envName(name);
      let fallback = kw('default');
      let cast: V | undefined = kw('cast');
      if (method === undefined) {
        if (envObject.kind === 'environs') fallback ??= second;
        else {
          cast ??= second;
          fallback ??= third;
        }
      } else fallback ??= second;
      const scheme = envObject.scheme.get(variable);
      if (!fallback && scheme) {
        const [schemeCast, schemeDefault] = scheme.items ?? [scheme];
        cast ??= schemeCast;
        fallback = schemeDefault;
      }
      if (!fallback || fallback.k === 'raises') return RAISES;
      const value = { ...fallback, env: variable };
      if (method !== undefined) return (METHOD_CASTS[method] ?? (() => UNKNOWN))(value);
      return cast ? this.applyCast(cast, value) : value;
    }

    // python-decouple: config('X', default=..., cast=...).
    if (this.scope.decouple && (path === 'config' || path === 'decouple.config')) {
      const [name, second, third] = args();
      const fallback = kw('default') ?? second;
      const cast = kw('cast') ?? third;
      if (!fallback || fallback.k === 'raises') return RAISES;
      const value = { ...fallback, env: envName(name) };
      return cast ? this.applyCast(cast, value) : value;
    }

    if (path === 'dj_database_url.config' || path === 'dj_database_url.parse' || path === 'db_url.config') {
      const fallback = path.endsWith('parse') ? args()[0] : kw('default');
      if (!fallback) return { k: 'dict', entries: new Map() };
      const variable = kw('env');
      return databaseUrl(
        path.endsWith('parse') ? fallback : { ...fallback, env: variable ? envName(variable) : 'DATABASE_URL' },
      );
    }

    const builtin = path === undefined ? undefined : BUILTINS[path];
    if (builtin) {
      const [first] = args();
      return first ? builtin(first) : UNKNOWN;
    }
    if (path === 'Csv' || path === 'decouple.Csv') return { k: 'fn', fn: ([v]) => castList(v ?? UNKNOWN) };

    // A method of a known value: 'a,b'.split(','), x.lower(), ...
    if (expr.callee.t === 'attr') {
      const object = this.eval(expr.callee.object, locals);
      if (opaque(object)) return object;
      return method(object, expr.callee.name, args());
    }
    const callee = this.eval(expr.callee, locals);
    if (callee.k === 'fn' && callee.fn) return callee.fn(args());
    return UNKNOWN;
  }

  private applyCast(cast: V, value: V): V {
    // decouple and django-environ read 'False' as False with cast=bool (Python's bool('False') is True).
    if (cast.builtin === 'bool') return castBool(value);
    if (cast.builtin === 'list' || cast.builtin === 'tuple') return castList(value);
    if (cast.k === 'fn' && cast.fn) return cast.fn([value]);
    return UNKNOWN;
  }
}

function strtobool(v: V): V {
  if (opaque(v) || v.k !== 'str') return opaque(v) ? v : UNKNOWN;
  const s = (v.s ?? '').trim().toLowerCase();
  if (['y', 'yes', 't', 'true', 'on', '1'].includes(s)) return num(1, v);
  if (['n', 'no', 'f', 'false', 'off', '0'].includes(s)) return num(0, v);
  return RAISES;
}

function literalEval(v: V): V {
  if (opaque(v) || v.k !== 'str') return opaque(v) ? v : UNKNOWN;
  const s = (v.s ?? '').trim();
  if (s === 'True' || s === 'False') return bool(s === 'True', v);
  if (s === 'None') return { ...NONE, ...provenance(v) };
  return castInt(v).k === 'num' ? castInt(v) : UNKNOWN;
}

function jsonLoads(v: V): V {
  if (opaque(v) || v.k !== 'str') return opaque(v) ? v : UNKNOWN;
  const s = (v.s ?? '').trim();
  if (s === 'true' || s === 'false') return bool(s === 'true', v);
  if (s === 'null') return { ...NONE, ...provenance(v) };
  return castInt(v).k === 'num' ? castInt(v) : RAISES;
}

const BUILTINS: Record<string, (v: V) => V> = {
  bool: (v) => {
    const t = truthy(v);
    return t === undefined ? (v.k === 'raises' ? RAISES : UNKNOWN) : bool(t, v);
  },
  int: castInt,
  float: castInt,
  str: castStr,
  list: castList,
  tuple: castList,
  strtobool,
  'distutils.util.strtobool': strtobool,
  'ast.literal_eval': literalEval,
  literal_eval: literalEval,
  'json.loads': jsonLoads,
  eval: literalEval,
};

function equal(a: V, b: V): boolean | undefined {
  if (opaque(a) || opaque(b)) return undefined;
  if (a.k === 'str' && b.k === 'str') {
    if ((a.s ?? '').includes(HOLE) || (b.s ?? '').includes(HOLE)) return undefined;
    return a.s === b.s;
  }
  if (a.k === 'none' || b.k === 'none') return a.k === b.k;
  const numeric = (v: V) => (v.k === 'num' ? v.n : v.k === 'bool' ? (v.b ? 1 : 0) : undefined);
  const [x, y] = [numeric(a), numeric(b)];
  if (x !== undefined && y !== undefined) return x === y;
  if (a.k === 'list' || b.k === 'list' || a.k === 'dict' || b.k === 'dict') return undefined;
  return false; // a string against a number or bool
}

function method(object: V, name: string, args: V[]): V {
  if (object.k === 'str') {
    const s = object.s ?? '';
    const arg = args[0];
    switch (name) {
      case 'lower':
      case 'casefold':
        return str(s.toLowerCase(), object);
      case 'upper':
        return str(s.toUpperCase(), object);
      case 'strip':
        return str(s.trim(), object);
      case 'lstrip':
        return str(s.trimStart(), object);
      case 'rstrip':
        return str(s.trimEnd(), object);
      case 'title':
      case 'capitalize':
        return str(s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(), object);
      case 'split': {
        if (arg === undefined || arg.k === 'none') {
          return list(
            s
              .split(' ')
              .filter((part) => part !== '')
              .map((part) => str(part, object)),
            object,
          );
        }
        if (arg.k !== 'str' || (arg.s ?? '') === '') return UNKNOWN;
        return list(
          s.split(arg.s ?? '').map((part) => str(part, object)),
          object,
        );
      }
      case 'startswith':
      case 'endswith':
        if (arg?.k !== 'str') return UNKNOWN;
        return bool(name === 'startswith' ? s.startsWith(arg.s ?? '') : s.endsWith(arg.s ?? ''), object);
      default:
        return UNKNOWN;
    }
  }
  if (object.k === 'dict' && name === 'get') {
    const key = args[0];
    if (key?.k !== 'str') return UNKNOWN;
    return object.entries?.get(key.s ?? '') ?? args[1] ?? NONE;
  }
  return UNKNOWN;
}
