/**
 * A reader for nginx configuration text, enough to check a rendered configuration by its structure rather than by
 * grepping it: directives and blocks (server, location, if, map...), with `include` of plain (non-glob) files
 * expanded in place, relative to nginx's conf prefix as nginx resolves them.
 *
 *   const http = parseNginxConfig(readFileSync('conf.d/default.conf', 'utf8'), { prefix: dir });
 *   for (const server of blocks(http, 'server')) ...
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export interface Directive {
  name: string;
  args: string[];
  /** The directives inside `{ }`, for a block; undefined for a simple directive. */
  children?: Directive[];
}

/** Splits nginx text into words, quoted strings (unquoted, escapes kept as nginx keeps them) and `{ } ;`. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if (ch === '{' || ch === '}' || ch === ';') {
      tokens.push(ch);
      i += 1;
    } else if (ch === '"' || ch === "'") {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== ch) {
        if (text[j] === '\\' && j + 1 < text.length) {
          value += text[j + 1];
          j += 2;
        } else {
          value += text[j];
          j += 1;
        }
      }
      if (j >= text.length) throw new Error(`unterminated ${ch}string at ${i}`);
      tokens.push(value);
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{};]/.test(text[j] as string)) j += 1;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

export interface ParseOptions {
  /** nginx's conf prefix (the directory of the main nginx.conf): where relative `include` paths are resolved. */
  prefix?: string;
}

/** Parses a configuration (or a file of a context, like conf.d/default.conf) into its top-level directives. */
export function parseNginxConfig(text: string, options: ParseOptions = {}): Directive[] {
  const tokens = tokenize(text);
  let position = 0;
  const parseList = (closing: boolean): Directive[] => {
    const list: Directive[] = [];
    let words: string[] = [];
    while (position < tokens.length) {
      const token = tokens[position] as string;
      position += 1;
      if (token === ';') {
        const [name, ...args] = words;
        if (name === undefined) throw new Error('empty directive');
        words = [];
        if (name === 'include' && options.prefix !== undefined && !/[*?[]/.test(args[0] ?? '')) {
          const path = isAbsolute(args[0] as string) ? (args[0] as string) : join(options.prefix, args[0] as string);
          list.push(...parseNginxConfig(readFileSync(path, 'utf8'), options));
        } else {
          list.push({ name, args });
        }
      } else if (token === '{') {
        const [name, ...args] = words;
        if (name === undefined) throw new Error('block without a name');
        words = [];
        list.push({ name, args, children: parseList(true) });
      } else if (token === '}') {
        if (!closing) throw new Error('unbalanced }');
        if (words.length > 0) throw new Error(`directive without ; before }: ${words.join(' ')}`);
        return list;
      } else {
        words.push(token);
      }
    }
    if (closing) throw new Error('missing }');
    if (words.length > 0) throw new Error(`directive without ;: ${words.join(' ')}`);
    return list;
  };
  return parseList(false);
}

/** The direct children of `list` that are blocks called `name`. */
export function blocks(list: Directive[], name: string): Directive[] {
  return list.filter((directive) => directive.name === name && directive.children);
}

/** The direct children of `list` that are simple directives called `name`. */
export function directives(list: Directive[], name: string): Directive[] {
  return list.filter((directive) => directive.name === name && !directive.children);
}

export interface Scope {
  /** `server <listen...>` then `location <args>` / `if (<cond>)`, outermost first. */
  path: string[];
  block: Directive;
  /**
   * The error_page directives in effect here: nginx's inheritance rule, in which a level with any error_page of
   * its own replaces the whole list of the level above (the same goes for add_header and limit_req).
   */
  inherited: (name: string) => Directive[];
}

/** Every server block of an http context, and every location (and `if`) inside each, nested ones included. */
export function scopes(http: Directive[]): Scope[] {
  const found: Scope[] = [];
  const walk = (block: Directive, path: string[], parent: ((name: string) => Directive[]) | undefined) => {
    const children = block.children ?? [];
    const inherited = (name: string): Directive[] => {
      const own = directives(children, name);
      return own.length > 0 || !parent ? own : parent(name);
    };
    found.push({ path, block, inherited });
    for (const child of children) {
      if (child.children && (child.name === 'location' || child.name === 'if')) {
        walk(child, [...path, `${child.name} ${child.args.join(' ')}`], inherited);
      }
    }
  };
  for (const server of blocks(http, 'server')) {
    const listen = directives(server.children ?? [], 'listen')
      .map((directive) => directive.args.join(' '))
      .join(', ');
    const names = directives(server.children ?? [], 'server_name')
      .map((directive) => directive.args.join(' '))
      .join(' ');
    walk(server, [`server ${names} (${listen})`], undefined);
  }
  return found;
}

/** What a list of error_page directives does: status -> [target URI, replacement status or undefined]. */
export function errorPages(list: Directive[]): Map<number, { target: string; status: number | undefined }> {
  const map = new Map<number, { target: string; status: number | undefined }>();
  for (const directive of list) {
    const args = [...directive.args];
    const target = args.pop() as string;
    let status: number | undefined;
    if (args.at(-1)?.startsWith('=')) status = Number((args.pop() as string).slice(1)) || undefined;
    for (const code of args) map.set(Number(code), { target, status });
  }
  return map;
}
