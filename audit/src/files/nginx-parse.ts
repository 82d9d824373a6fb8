/**
 * A small reader of nginx's configuration grammar, enough to audit it: words separated by white space, a directive
 * ends with `;`, a block directive opens `{` and is closed by `}`, `#` starts a comment where a word could start,
 * quotes ("..." and '...') hold anything with backslash escapes, and `${name}` inside a word is one word (nginx's own
 * variable syntax, and the envsubst placeholders of the official image's templates). It never throws: a file nginx
 * would refuse still yields what could be read, because the audit should say what it can about a broken file too.
 * One pass over the characters, no regular expressions.
 */

export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  /** Repository-relative path of the file the directive was written in (not the one that included it). */
  readonly file: string;
  readonly line: number;
  /** The directives inside `{ }`, for a block directive. */
  readonly block?: Directive[];
}

interface Token {
  text: string;
  line: number;
  /** `;`, `{` or `}` written bare; quoted ones are words. */
  special: boolean;
}

const SPECIAL = new Set([';', '{', '}']);

function isSpace(char: string): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\f' || char === '\v';
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === '\n') {
      line += 1;
      i += 1;
    } else if (isSpace(char)) {
      i += 1;
    } else if (char === '#') {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if (SPECIAL.has(char)) {
      tokens.push({ text: char, line, special: true });
      i += 1;
    } else if (char === '"' || char === "'") {
      const start = line;
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== char) {
        if (text[i] === '\\' && i + 1 < text.length) {
          // nginx keeps the backslash except before the quote itself (and \n, \r, \t, which are rare in audited args).
          if (text[i + 1] !== char) value += '\\';
          i += 1;
        }
        if (text[i] === '\n') line += 1;
        value += text[i];
        i += 1;
      }
      i += 1;
      tokens.push({ text: value, line: start, special: false });
    } else {
      let value = '';
      while (i < text.length) {
        const c = text[i] as string;
        if (c === '$' && text[i + 1] === '{') {
          // `${name}`: its braces belong to the word.
          const close = text.indexOf('}', i);
          const end = close === -1 ? text.length : close + 1;
          const part = text.slice(i, end);
          if (part.includes('\n')) break;
          value += part;
          i = end;
          continue;
        }
        if (isSpace(c) || SPECIAL.has(c)) break;
        if (c === '\\' && i + 1 < text.length && text[i + 1] !== '\n') {
          value += c + (text[i + 1] as string);
          i += 2;
          continue;
        }
        value += c;
        i += 1;
      }
      if (value === '') {
        // A lone `$` before a line break: keep moving.
        i += 1;
        continue;
      }
      tokens.push({ text: value, line, special: false });
    }
  }
  return tokens;
}

/** The directives of a file, nested as written. */
export function parseNginx(text: string, file: string): Directive[] {
  const tokens = tokenize(text);
  let position = 0;
  const readBlock = (depth: number): Directive[] => {
    const out: Directive[] = [];
    let words: Token[] = [];
    while (position < tokens.length) {
      const token = tokens[position] as Token;
      position += 1;
      if (token.special && token.text === ';') {
        if (words.length > 0) out.push(directive(words, file));
        words = [];
      } else if (token.special && token.text === '{') {
        const head = words.length > 0 ? words : [{ text: '', line: token.line, special: false }];
        const block = readBlock(depth + 1);
        out.push({ ...directive(head, file), block });
        words = [];
      } else if (token.special && token.text === '}') {
        if (depth > 0) {
          if (words.length > 0) out.push(directive(words, file));
          return out;
        }
        // A stray `}` at the top: nginx refuses the file; keep reading what follows.
        words = [];
      } else {
        words.push(token);
      }
    }
    if (words.length > 0) out.push(directive(words, file));
    return out;
  };
  return readBlock(0);
}

function directive(words: Token[], file: string): Directive {
  const [head, ...rest] = words as [Token, ...Token[]];
  return { name: head.text.toLowerCase(), args: rest.map((word) => word.text), file, line: head.line };
}

/** Every directive of a tree, depth first, with the chain of block directives it is inside. */
export function* walk(
  directives: readonly Directive[],
  parents: readonly Directive[] = [],
): Generator<{ directive: Directive; parents: readonly Directive[] }> {
  for (const directive of directives) {
    yield { directive, parents };
    if (directive.block) yield* walk(directive.block, [...parents, directive]);
  }
}

/** Glob matching with `*` and `?` only (nginx's include patterns), without a regular expression: linear per star. */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t]) && pattern[p] !== '*') {
      p += 1;
      t += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      mark = t;
      p += 1;
    } else if (star !== -1 && text[mark] !== '/') {
      // `*` never crosses a directory.
      p = star + 1;
      mark += 1;
      t = mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}
