/**
 * Enough of Python to read a settings module without running it: a tokenizer (all string forms, comments, brackets
 * across lines, backslash continuations), logical lines with their indentation, and an expression parser for the
 * subset settings use (literals, names, attributes, calls, subscripts, containers, comprehensions, lambdas,
 * boolean/comparison/arithmetic operators, conditional expressions). One pass over the characters, no regular
 * expressions: the audited file is untrusted text.
 */

export interface Token {
  kind: 'name' | 'num' | 'str' | 'op';
  text: string;
  line: number;
  /** A string token's value (escapes decoded, f-string holes replaced by HOLE). */
  value?: string;
}

export interface LogicalLine {
  line: number;
  indent: number;
  tokens: Token[];
}

/** Stands for an f-string's `{...}`: a value the file does not say. */
export const HOLE = '\uE000';

const PREFIXES = new Set(['r', 'u', 'f', 'b', 'rb', 'br', 'fr', 'rf']);
const THREE = ['**=', '//=', '>>=', '<<=', '...'];
const TWO = [
  '**',
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  '->',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  ':=',
  '<<',
  '>>',
  '@=',
];

const isIdStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c > '\u007f';
const isIdPart = (c: string) => isIdStart(c) || (c >= '0' && c <= '9');
const isDigit = (c: string) => c >= '0' && c <= '9';

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };

/** Splits a module into logical lines. Never throws; odd input gives odd tokens, not an exception. */
export function logicalLines(source: string): LogicalLine[] {
  const lines: LogicalLine[] = [];
  let current: Token[] = [];
  let currentIndent = 0;
  let currentLine = 1;
  let depth = 0;
  let line = 1;
  let atLineStart = true;
  let indent = 0;
  const flush = () => {
    if (current.length > 0) lines.push({ line: currentLine, indent: currentIndent, tokens: current });
    current = [];
  };
  const push = (token: Token) => {
    if (current.length === 0) {
      currentIndent = indent;
      currentLine = token.line;
    }
    current.push(token);
  };
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i] as string;
    if (atLineStart) {
      indent = 0;
      while (i < n && (source[i] === ' ' || source[i] === '\t' || source[i] === '\f')) {
        indent += source[i] === '\t' ? 8 : 1;
        i += 1;
      }
      atLineStart = false;
      continue;
    }
    if (c === '\n') {
      line += 1;
      i += 1;
      if (depth === 0) {
        flush();
        atLineStart = true;
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i += 1;
      continue;
    }
    if (c === '#') {
      while (i < n && source[i] !== '\n') i += 1;
      continue;
    }
    if (c === '\\' && (source[i + 1] === '\n' || (source[i + 1] === '\r' && source[i + 2] === '\n'))) {
      i += source[i + 1] === '\n' ? 2 : 3;
      line += 1;
      continue;
    }
    if (isIdStart(c)) {
      const start = i;
      while (i < n && isIdPart(source[i] as string)) i += 1;
      const word = source.slice(start, i);
      const quote = source[i];
      if ((quote === '"' || quote === "'") && PREFIXES.has(word.toLowerCase())) {
        const read = readString(source, i, word.toLowerCase(), line);
        push({ kind: 'str', text: source.slice(start, read.end), line, value: read.value });
        line = read.line;
        i = read.end;
      } else push({ kind: 'name', text: word, line });
      continue;
    }
    if (c === '"' || c === "'") {
      const read = readString(source, i, '', line);
      push({ kind: 'str', text: source.slice(i, read.end), line, value: read.value });
      line = read.line;
      i = read.end;
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(source[i + 1] ?? ''))) {
      const start = i;
      while (i < n && (isIdPart(source[i] as string) || source[i] === '.')) i += 1;
      push({ kind: 'num', text: source.slice(start, i), line });
      continue;
    }
    const three = source.slice(i, i + 3);
    const two = source.slice(i, i + 2);
    const op = THREE.includes(three) ? three : TWO.includes(two) ? two : c;
    if (op === ';' && depth === 0) {
      // `a = 1; b = 2`: two statements on one line, at the same indentation.
      flush();
      i += 1;
      continue;
    }
    if (op === '(' || op === '[' || op === '{') depth += 1;
    else if ((op === ')' || op === ']' || op === '}') && depth > 0) depth -= 1;
    push({ kind: 'op', text: op, line });
    i += op.length;
  }
  flush();
  return lines;
}

function readString(
  source: string,
  start: number,
  prefix: string,
  startLine: number,
): { end: number; value: string; line: number } {
  const quote = source[start] as string;
  const triple = source[start + 1] === quote && source[start + 2] === quote;
  const raw = prefix.includes('r');
  const fString = prefix.includes('f');
  let i = start + (triple ? 3 : 1);
  let line = startLine;
  let value = '';
  let braces = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i] as string;
    if (triple ? c === quote && source[i + 1] === quote && source[i + 2] === quote : c === quote) {
      return { end: i + (triple ? 3 : 1), value, line };
    }
    if (c === '\n') {
      line += 1;
      if (!triple) return { end: i, value, line: line - 1 }; // unterminated: the line ends it
    }
    if (c === '\\' && i + 1 < n) {
      const next = source[i + 1] as string;
      if (next === '\n') line += 1;
      if (braces === 0) value += raw ? c + next : next === '\n' ? '' : (ESCAPES[next] ?? c + next);
      i += 2;
      continue;
    }
    if (fString && c === '{') {
      if (braces === 0 && source[i + 1] === '{') {
        value += '{';
        i += 2;
        continue;
      }
      if (braces === 0) value += HOLE;
      braces += 1;
    } else if (fString && c === '}' && braces > 0) {
      braces -= 1;
    } else if (fString && c === '}' && source[i + 1] === '}') {
      value += '}';
      i += 2;
      continue;
    } else if (braces === 0) value += c;
    i += 1;
  }
  return { end: n, value, line };
}

// ---------- expressions ----------

export type Expr =
  | { t: 'str'; value: string; line: number }
  | { t: 'num'; text: string; line: number }
  | { t: 'const'; value: boolean | null; line: number }
  | { t: 'name'; name: string; line: number }
  | { t: 'attr'; object: Expr; name: string; line: number }
  | { t: 'call'; callee: Expr; args: Expr[]; kwargs: [string, Expr][]; line: number }
  | { t: 'sub'; object: Expr; index: Expr; line: number }
  | { t: 'list' | 'tuple' | 'set'; items: Expr[]; line: number }
  | { t: 'dict'; entries: [Expr, Expr][]; line: number }
  | { t: 'bin'; op: string; left: Expr; right: Expr; line: number }
  | { t: 'cmp'; op: string; left: Expr; right: Expr; line: number }
  | { t: 'bool'; op: 'and' | 'or'; left: Expr; right: Expr; line: number }
  | { t: 'not'; operand: Expr; line: number }
  | { t: 'neg'; operand: Expr; line: number }
  | { t: 'if'; test: Expr; whenTrue: Expr; otherwise: Expr; line: number }
  | { t: 'comp'; element: Expr; target: string[]; iter: Expr; conds: Expr[]; line: number }
  | { t: 'lambda'; params: string[]; body: Expr; line: number }
  | { t: 'unknown'; line: number };

class ParseError extends Error {}

/** A parser over one logical line's tokens, from `pos`. */
export class ExprParser {
  pos: number;
  constructor(
    readonly tokens: Token[],
    start = 0,
    readonly end = tokens.length,
  ) {
    this.pos = start;
  }

  peek(offset = 0): Token | undefined {
    return this.pos + offset < this.end ? this.tokens[this.pos + offset] : undefined;
  }
  private isOp(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.kind === 'op' && token.text === text;
  }
  private isWord(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.kind === 'name' && token.text === text;
  }
  private expectOp(text: string): void {
    if (!this.isOp(text)) throw new ParseError(text);
    this.pos += 1;
  }
  private line(): number {
    return this.peek()?.line ?? this.tokens[this.end - 1]?.line ?? 0;
  }

  /** An expression list: `a, b` is a tuple. */
  exprList(): Expr {
    const line = this.line();
    const first = this.test();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) {
      this.pos += 1;
      if (this.atEndOfList()) break;
      items.push(this.test());
    }
    return { t: 'tuple', items, line };
  }

  private atEndOfList(): boolean {
    const token = this.peek();
    return token === undefined || (token.kind === 'op' && [')', ']', '}', '=', ':'].includes(token.text));
  }

  test(): Expr {
    if (this.isWord('lambda')) return this.lambda();
    const line = this.line();
    const value = this.orTest();
    if (this.isWord('if')) {
      this.pos += 1;
      const test = this.orTest();
      if (!this.isWord('else')) throw new ParseError('else');
      this.pos += 1;
      return { t: 'if', test, whenTrue: value, otherwise: this.test(), line };
    }
    return value;
  }

  private lambda(): Expr {
    const line = this.line();
    this.pos += 1;
    const params: string[] = [];
    while (!this.isOp(':')) {
      const token = this.peek();
      if (!token) throw new ParseError('lambda');
      if (token.kind === 'name') params.push(token.text);
      this.pos += 1;
    }
    this.pos += 1;
    return { t: 'lambda', params, body: this.test(), line };
  }

  private orTest(): Expr {
    let left = this.andTest();
    while (this.isWord('or')) {
      this.pos += 1;
      left = { t: 'bool', op: 'or', left, right: this.andTest(), line: left.line };
    }
    return left;
  }
  private andTest(): Expr {
    let left = this.notTest();
    while (this.isWord('and')) {
      this.pos += 1;
      left = { t: 'bool', op: 'and', left, right: this.notTest(), line: left.line };
    }
    return left;
  }
  private notTest(): Expr {
    if (this.isWord('not')) {
      const line = this.line();
      this.pos += 1;
      return { t: 'not', operand: this.notTest(), line };
    }
    return this.comparison();
  }
  private comparison(): Expr {
    let left = this.binary(0);
    for (;;) {
      let op: string | undefined;
      const token = this.peek();
      if (token?.kind === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(token.text)) op = token.text;
      else if (this.isWord('in')) op = 'in';
      else if (this.isWord('not') && this.isWord('in', 1)) op = 'not in';
      else if (this.isWord('is') && this.isWord('not', 1)) op = 'is not';
      else if (this.isWord('is')) op = 'is';
      if (!op) return left;
      this.pos += op.includes(' ') ? 2 : 1;
      left = { t: 'cmp', op, left, right: this.binary(0), line: left.line };
    }
  }

  private static readonly LEVELS = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '//', '%', '@']];
  private binary(level: number): Expr {
    if (level >= ExprParser.LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const token = this.peek();
      if (token?.kind !== 'op' || !(ExprParser.LEVELS[level] as string[]).includes(token.text)) return left;
      this.pos += 1;
      left = { t: 'bin', op: token.text, left, right: this.binary(level + 1), line: left.line };
    }
  }
  private unary(): Expr {
    const token = this.peek();
    if (token?.kind === 'op' && (token.text === '-' || token.text === '+' || token.text === '~')) {
      this.pos += 1;
      const operand = this.unary();
      return token.text === '-' ? { t: 'neg', operand, line: token.line } : operand;
    }
    if (this.isWord('await')) this.pos += 1;
    return this.power();
  }
  private power(): Expr {
    const base = this.primary();
    if (this.isOp('**')) {
      this.pos += 1;
      return { t: 'bin', op: '**', left: base, right: this.unary(), line: base.line };
    }
    return base;
  }

  private primary(): Expr {
    let expr = this.atom();
    for (;;) {
      if (this.isOp('.')) {
        this.pos += 1;
        const name = this.peek();
        if (name?.kind !== 'name') throw new ParseError('attr');
        this.pos += 1;
        expr = { t: 'attr', object: expr, name: name.text, line: expr.line };
      } else if (this.isOp('(')) {
        this.pos += 1;
        const args: Expr[] = [];
        const kwargs: [string, Expr][] = [];
        while (!this.isOp(')')) {
          if (this.peek() === undefined) throw new ParseError('call');
          if (this.isOp('*') || this.isOp('**')) {
            this.pos += 1;
            this.test();
          } else if (this.peek()?.kind === 'name' && this.isOp('=', 1)) {
            const name = (this.peek() as Token).text;
            this.pos += 2;
            kwargs.push([name, this.test()]);
          } else {
            const arg = this.test();
            if (this.isWord('for')) args.push(this.comprehension('list', arg));
            else args.push(arg);
          }
          if (this.isOp(',')) this.pos += 1;
          else if (!this.isOp(')')) throw new ParseError('args');
        }
        this.pos += 1;
        expr = { t: 'call', callee: expr, args, kwargs, line: expr.line };
      } else if (this.isOp('[')) {
        this.pos += 1;
        const index = this.subscript();
        this.expectOp(']');
        expr = { t: 'sub', object: expr, index, line: expr.line };
      } else return expr;
    }
  }

  private subscript(): Expr {
    const line = this.line();
    if (this.isOp(':')) {
      this.skipTo(']');
      return { t: 'unknown', line };
    }
    const index = this.exprList();
    if (this.isOp(':')) {
      this.skipTo(']');
      return { t: 'unknown', line };
    }
    return index;
  }

  /** Skips to the closing bracket `close` of the current level (not past it). */
  private skipTo(close: string): void {
    let depth = 0;
    for (let token = this.peek(); token !== undefined; token = this.peek()) {
      if (token.kind === 'op' && ['(', '[', '{'].includes(token.text)) depth += 1;
      else if (token.kind === 'op' && [')', ']', '}'].includes(token.text)) {
        if (depth === 0 && token.text === close) return;
        depth -= 1;
      }
      this.pos += 1;
    }
  }

  private comprehension(kind: 'list' | 'set' | 'tuple', element: Expr): Expr {
    const line = element.line;
    this.pos += 1; // for
    const target: string[] = [];
    while (!this.isWord('in')) {
      const token = this.peek();
      if (!token) throw new ParseError('for');
      if (token.kind === 'name') target.push(token.text);
      this.pos += 1;
    }
    this.pos += 1;
    const iter = this.orTest();
    const conds: Expr[] = [];
    while (this.isWord('if')) {
      this.pos += 1;
      conds.push(this.orTest());
    }
    if (this.isWord('for') || this.isWord('async')) throw new ParseError('nested comprehension');
    void kind;
    return { t: 'comp', element, target, iter, conds, line };
  }

  private atom(): Expr {
    const token = this.peek();
    if (!token) throw new ParseError('end');
    const line = token.line;
    if (token.kind === 'str') {
      let value = '';
      while (this.peek()?.kind === 'str') {
        value += (this.peek() as Token).value ?? '';
        this.pos += 1;
      }
      return { t: 'str', value, line };
    }
    if (token.kind === 'num') {
      this.pos += 1;
      return { t: 'num', text: token.text, line };
    }
    if (token.kind === 'name') {
      this.pos += 1;
      if (token.text === 'True' || token.text === 'False') return { t: 'const', value: token.text === 'True', line };
      if (token.text === 'None') return { t: 'const', value: null, line };
      return { t: 'name', name: token.text, line };
    }
    if (token.text === '...') {
      this.pos += 1;
      return { t: 'unknown', line };
    }
    if (token.text === '(') {
      this.pos += 1;
      if (this.isOp(')')) {
        this.pos += 1;
        return { t: 'tuple', items: [], line };
      }
      const first = this.test();
      if (this.isWord('for')) {
        const comp = this.comprehension('tuple', first);
        this.expectOp(')');
        return comp;
      }
      if (this.isOp(')')) {
        this.pos += 1;
        return first;
      }
      const items = [first];
      while (this.isOp(',')) {
        this.pos += 1;
        if (this.isOp(')')) break;
        items.push(this.test());
      }
      this.expectOp(')');
      return { t: 'tuple', items, line };
    }
    if (token.text === '[') {
      this.pos += 1;
      const items: Expr[] = [];
      while (!this.isOp(']')) {
        if (this.peek() === undefined) throw new ParseError(']');
        if (this.isOp('*')) this.pos += 1;
        const item = this.test();
        if (this.isWord('for')) {
          const comp = this.comprehension('list', item);
          this.expectOp(']');
          return comp;
        }
        items.push(item);
        if (this.isOp(',')) this.pos += 1;
        else if (!this.isOp(']')) throw new ParseError('list');
      }
      this.pos += 1;
      return { t: 'list', items, line };
    }
    if (token.text === '{') {
      this.pos += 1;
      const entries: [Expr, Expr][] = [];
      const items: Expr[] = [];
      while (!this.isOp('}')) {
        if (this.peek() === undefined) throw new ParseError('}');
        if (this.isOp('**')) {
          this.pos += 1;
          this.test();
        } else {
          const key = this.test();
          if (this.isOp(':')) {
            this.pos += 1;
            const value = this.test();
            if (this.isWord('for')) {
              this.comprehension('set', value);
              this.expectOp('}');
              return { t: 'unknown', line };
            }
            entries.push([key, value]);
          } else if (this.isWord('for')) {
            const comp = this.comprehension('set', key);
            this.expectOp('}');
            return comp;
          } else items.push(key);
        }
        if (this.isOp(',')) this.pos += 1;
        else if (!this.isOp('}')) throw new ParseError('dict');
      }
      this.pos += 1;
      return items.length > 0 && entries.length === 0 ? { t: 'set', items, line } : { t: 'dict', entries, line };
    }
    throw new ParseError(token.text);
  }
}

/** Parses tokens[start, end) as one expression (list), or undefined when it is not one this parser reads. */
export function parseExpr(tokens: Token[], start = 0, end = tokens.length): Expr | undefined {
  try {
    const parser = new ExprParser(tokens, start, end);
    const expr = parser.exprList();
    return parser.pos === end ? expr : undefined;
  } catch (error) {
    if (error instanceof ParseError || error instanceof RangeError) return undefined;
    throw error;
  }
}
