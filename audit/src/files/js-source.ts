/**
 * Enough of JavaScript/TypeScript to find an options object and read its keys: a tokenizer (strings, template
 * literals with nested `${}`, comments, regular expression literals, numbers, punctuators) that keeps line numbers,
 * and the matching bracket of every bracket. One pass over the characters, no regular expressions: the audited file
 * is untrusted text.
 */

export interface JsToken {
  kind: 'id' | 'str' | 'tmpl' | 'num' | 'regex' | 'op';
  text: string;
  line: number;
  /** A string's value; a template literal's, only when it has no `${}`. */
  value?: string;
}

export interface JsSource {
  tokens: JsToken[];
  /** For an opening bracket, the index of its closing one (or tokens.length when unclosed); -1 otherwise. */
  match: number[];
  /** The innermost open bracket around each token (-1 at top level). */
  parent: number[];
  /** For a closing bracket, the index of its opening one; -1 otherwise. */
  opener: number[];
}

const PUNCTUATORS = [
  '>>>=',
  '...',
  '===',
  '!==',
  '**=',
  '<<=',
  '>>=',
  '>>>',
  '&&=',
  '||=',
  '??=',
  '=>',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '??',
  '?.',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '**',
  '<<',
  '>>',
];
const REGEX_AFTER_WORDS = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'instanceof',
  'yield',
  'await',
]);

const isIdStart = (c: string) =>
  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '$' || c > '\u007f';
const isIdPart = (c: string) => isIdStart(c) || (c >= '0' && c <= '9');
const isDigit = (c: string) => c >= '0' && c <= '9';
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0' };

export function tokenize(source: string): JsToken[] {
  const tokens: JsToken[] = [];
  let line = 1;
  let i = 0;
  const n = source.length;
  /** `{` of blocks and objects, and `${` of template literals, whose `}` resumes the template. */
  const braces: ('brace' | 'template')[] = [];
  const regexAllowed = () => {
    const last = tokens[tokens.length - 1];
    if (!last) return true;
    if (last.kind === 'op') return last.text !== ')' && last.text !== ']';
    if (last.kind === 'id') return REGEX_AFTER_WORDS.has(last.text);
    return false;
  };
  /**
   * Reads template characters from i (after '`', or after the '}' ending a `${}`). Tokens: '`' a whole template,
   * '`${' one that opens a hole, '}`${' a hole's end and the next one's start, '}`' the last hole's end.
   */
  const readTemplate = (startLine: number, opening: boolean): void => {
    let value = '';
    while (i < n) {
      const c = source[i] as string;
      if (c === '`') {
        i += 1;
        tokens.push({ kind: 'tmpl', text: opening ? '`' : '}`', line: startLine, ...(opening ? { value } : {}) });
        return;
      }
      if (c === '$' && source[i + 1] === '{') {
        i += 2;
        braces.push('template');
        tokens.push({ kind: 'tmpl', text: opening ? '`${' : '}`${', line: startLine });
        return;
      }
      if (c === '\\' && i + 1 < n) {
        const next = source[i + 1] as string;
        if (next === '\n') line += 1;
        value += ESCAPES[next] ?? next;
        i += 2;
        continue;
      }
      if (c === '\n') line += 1;
      value += c;
      i += 1;
    }
    tokens.push({ kind: 'tmpl', text: opening ? '`' : '}`', line: startLine });
  };

  if (source.startsWith('#!')) while (i < n && source[i] !== '\n') i += 1;
  while (i < n) {
    const c = source[i] as string;
    if (c === '\n') {
      line += 1;
      i += 1;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
      i += 1;
      continue;
    }
    if (c === '/' && source[i + 1] === '/') {
      while (i < n && source[i] !== '\n') i += 1;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let k = i; k < stop; k += 1) if (source[k] === '\n') line += 1;
      i = stop;
      continue;
    }
    if (isIdStart(c)) {
      const start = i;
      while (i < n && isIdPart(source[i] as string)) i += 1;
      tokens.push({ kind: 'id', text: source.slice(start, i), line });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(source[i + 1] ?? ''))) {
      const start = i;
      while (i < n && (isIdPart(source[i] as string) || source[i] === '.')) i += 1;
      tokens.push({ kind: 'num', text: source.slice(start, i), line });
      continue;
    }
    if (c === '"' || c === "'") {
      const startLine = line;
      let value = '';
      i += 1;
      while (i < n && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\' && i + 1 < n) {
          const next = source[i + 1] as string;
          if (next === '\n') line += 1;
          else value += ESCAPES[next] ?? next;
          i += 2;
        } else {
          value += source[i];
          i += 1;
        }
      }
      if (source[i] === c) i += 1;
      tokens.push({ kind: 'str', text: c, line: startLine, value });
      continue;
    }
    if (c === '`') {
      i += 1;
      readTemplate(line, true);
      continue;
    }
    if (c === '}' && braces[braces.length - 1] === 'template') {
      braces.pop();
      i += 1;
      readTemplate(line, false);
      continue;
    }
    if (c === '/' && regexAllowed()) {
      // A regular expression literal: to the closing `/` outside a class, on this line.
      let k = i + 1;
      let inClass = false;
      while (k < n && source[k] !== '\n') {
        const ch = source[k];
        if (ch === '\\') k += 2;
        else {
          if (ch === '[') inClass = true;
          else if (ch === ']') inClass = false;
          else if (ch === '/' && !inClass) break;
          k += 1;
        }
      }
      if (k < n && source[k] === '/') {
        k += 1;
        while (k < n && isIdPart(source[k] as string)) k += 1;
        tokens.push({ kind: 'regex', text: source.slice(i, k), line });
        i = k;
        continue;
      }
    }
    let op = c;
    for (const p of PUNCTUATORS) {
      if (source.startsWith(p, i)) {
        op = p === '?.' && isDigit(source[i + 2] ?? '') ? '?' : p;
        break;
      }
    }
    if (op === '{') braces.push('brace');
    else if (op === '}') braces.pop();
    tokens.push({ kind: 'op', text: op, line });
    i += op.length;
  }
  return tokens;
}

export function parseJs(source: string): JsSource {
  const tokens = tokenize(source);
  const match = new Array<number>(tokens.length).fill(-1);
  const parent = new Array<number>(tokens.length).fill(-1);
  const stack: number[] = [];
  const closerOf = (token: JsToken) =>
    token.kind === 'op'
      ? { '(': ')', '[': ']', '{': '}' }[token.text]
      : token.text === '`${' || token.text === '}`${'
        ? 'hole'
        : undefined;
  tokens.forEach((token, i) => {
    const closes =
      token.kind === 'op' && (token.text === ')' || token.text === ']' || token.text === '}')
        ? token.text
        : token.kind === 'tmpl' && token.text.startsWith('}')
          ? 'hole'
          : undefined;
    if (closes) {
      // Pop to the matching opener; a stray closer (a broken file) is ignored.
      for (let depth = stack.length - 1; depth >= 0; depth -= 1) {
        if (closerOf(tokens[stack[depth] as number] as JsToken) === closes) {
          while (stack.length > depth) match[stack.pop() as number] = i;
          break;
        }
      }
    }
    parent[i] = stack[stack.length - 1] ?? -1;
    if (closerOf(token) !== undefined) stack.push(i);
  });
  for (const open of stack) match[open] = tokens.length;
  const opener = new Array<number>(tokens.length).fill(-1);
  match.forEach((close, open) => {
    if (close >= 0 && close < tokens.length) opener[close] = open;
  });
  return { tokens, match, parent, opener };
}
