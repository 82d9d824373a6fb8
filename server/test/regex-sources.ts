/**
 * Every regular expression in the code that runs in production or reads what a stranger wrote (config/src,
 * server/src, audit/src), found statically with the TypeScript compiler, so a pattern is covered the day it is written
 * without anyone remembering to list it. Used by regex-everywhere.test.ts.
 *
 * Found: regular-expression literals; `RegExp(...)`/`new RegExp(...)`; `pattern:` properties whose value is a string
 * (route schema patterns); `.match/.matchAll/.search` called with a string (JavaScript turns it into a RegExp). A
 * source built from constants (string literals, templates, `+`, `const` names, imports of them) is folded into its
 * text; one built from runtime values (a route's URL, a line of a .dockerignore) cannot be, and is reported as
 * `dynamic` so that the test can insist that each has a named, tested reason.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export const ROOTS = ['config/src', 'server/src', 'audit/src'];

export interface FoundRegex {
  /** `server/src/http/plugins/host-allowlist.ts:26` */
  where: string;
  kind: 'literal' | 'RegExp()' | 'pattern property' | 'string pattern';
  /** The folded source, or undefined when it depends on runtime values. */
  source: string | undefined;
  flags: string;
  /** The code that builds it, for messages and for naming the dynamic ones. */
  code: string;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

export function findRegexes(repo: string): FoundRegex[] {
  const files = ROOTS.flatMap((root) => sourceFiles(join(repo, root)));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ['source'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();

  /** The text of a string expression made only of constants, or undefined. */
  function fold(node: ts.Expression, depth = 0): string | undefined {
    if (depth > 20) return undefined;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
    if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) {
      return fold(node.expression, depth + 1);
    }
    if (ts.isTemplateExpression(node)) {
      let text = node.head.text;
      for (const span of node.templateSpans) {
        const part = fold(span.expression, depth + 1);
        if (part === undefined) return undefined;
        text += part + span.literal.text;
      }
      return text;
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const left = fold(node.left, depth + 1);
      const right = fold(node.right, depth + 1);
      return left === undefined || right === undefined ? undefined : left + right;
    }
    if (ts.isIdentifier(node)) {
      let symbol = checker.getSymbolAtLocation(node);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      const declaration = symbol?.valueDeclaration;
      if (
        declaration &&
        ts.isVariableDeclaration(declaration) &&
        declaration.initializer &&
        ts.getCombinedNodeFlags(declaration) & ts.NodeFlags.Const
      ) {
        return fold(declaration.initializer, depth + 1);
      }
    }
    return undefined;
  }

  const isStringTyped = (node: ts.Expression) =>
    (checker.getTypeAtLocation(node).flags & ts.TypeFlags.StringLike) !== 0;

  const found: FoundRegex[] = [];
  for (const file of program.getSourceFiles()) {
    if (file.isDeclarationFile || !files.includes(file.fileName)) continue;
    const name = relative(repo, file.fileName);
    const add = (node: ts.Node, kind: FoundRegex['kind'], source: string | undefined, flags: string) => {
      const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
      found.push({ where: `${name}:${line}`, kind, source, flags, code: node.getText(file) });
    };
    const visit = (node: ts.Node): void => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const text = node.getText(file);
        const end = text.lastIndexOf('/');
        add(node, 'literal', text.slice(1, end), text.slice(end + 1));
      } else if (
        (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'RegExp'
      ) {
        const [pattern, flags] = node.arguments ?? [];
        const flagText = flags ? fold(flags) : '';
        add(node, 'RegExp()', pattern && flagText !== undefined ? fold(pattern) : undefined, flagText ?? '');
      } else if (
        ts.isPropertyAssignment(node) &&
        (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) &&
        node.name.text === 'pattern' &&
        isStringTyped(node.initializer)
      ) {
        // Route schemas: TypeBox compiles them with the `u` flag (server/src/http/validation.ts).
        add(node, 'pattern property', fold(node.initializer), 'u');
      } else if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        ['match', 'matchAll', 'search'].includes(node.expression.name.text) &&
        node.arguments[0] &&
        isStringTyped(node.arguments[0]) &&
        isStringTyped(node.expression.expression)
      ) {
        add(node, 'string pattern', fold(node.arguments[0]), '');
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return found;
}

// ---------- the timer ----------

/** The size of a whole request body: no client string can be longer. */
export const HOSTILE_SIZE = 64 * 1024;

/**
 * How long one match may take on a hostile 64 KiB input. Linear patterns take 0.1-5 ms here on an idle machine (the
 * slowest, the auditor's HARDCODED on one 64 KiB word); a quadratic one takes seconds. 50 ms leaves room for a busy
 * CI machine (20 ms failed linear patterns under load) and still sits far below any super-linear pattern.
 */
export const MATCH_BUDGET_MS = 50;

const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/**
 * The inputs that make backtracking engines slow: long runs of one character or of a short unit (white space, line
 * breaks, the pattern's own separators), each followed by a character that makes the match fail, plus runs of every
 * literal piece of the pattern itself ("nginx", "SECRET=", "://:"), since those are what let a pattern start again
 * and again.
 */
export function hostileInputs(source: string, size = HOSTILE_SIZE): Map<string, string> {
  const units = new Set([
    'a',
    'A',
    '0',
    ' ',
    '\t',
    '\n',
    '\r\n',
    '\u2028',
    'é',
    '!',
    '/',
    ':',
    '=',
    '"',
    "'",
    '<',
    '>',
    '#',
    '@',
    '$',
    '{',
    '\\',
    '.',
    '-',
    '_',
    'a ',
    ' \n',
    '\t\n',
    'a.',
    'a-',
    '://:',
    '${',
    '\\ ',
    '\n ',
    'a=',
    'a:',
  ]);
  // The pattern's literal pieces: runs of characters that are not regex syntax, with escapes undone.
  const literal = source.replace(/\\[dDsSwWbBnrtvfux0-9pPkc]/g, ' ').replace(/\\(.)/g, '$1');
  for (const piece of [...literal.split(/[\\^$*+?()[\]{}|]+/), ...literal.split(/[\\^$*+?()[\]{}|.]+/)]) {
    if (piece.length > 0 && piece.length <= 40) {
      units.add(piece);
      units.add(`${piece} `);
      for (const char of piece) units.add(char);
    }
  }
  const inputs = new Map<string, string>();
  for (const unit of units) {
    for (const end of ['\u0001', '\ud800', ''])
      inputs.set(`${JSON.stringify(unit)}… ${JSON.stringify(end)}`, fill(unit, size - end.length) + end);
  }
  return inputs;
}

export interface Timing {
  ms: number;
  input: string;
}

/**
 * The slowest run of the pattern over the hostile inputs. A global pattern is run to the end of the input (as
 * `replace`/`matchAll` do), match by match; any other one to its first match. A run over budget is repeated and its fastest kept, so
 * that a busy machine does not fail a linear pattern; a super-linear one is slow every time.
 */
export function slowestRun(source: string, flags: string, size = HOSTILE_SIZE): Timing {
  const regex = new RegExp(source, flags.replace('y', ''));
  // A global pattern is timed per match, as the budget says: each `exec` finds the next match (or scans the rest and
  // fails), so a super-linear rescan shows in one call, while 64 Ki quick matches of `/[.*+?]/g` on "....." do not add
  // up into a false alarm.
  const run = (input: string) => {
    if (!regex.global) {
      const started = performance.now();
      regex.test(input);
      return performance.now() - started;
    }
    let worst = 0;
    regex.lastIndex = 0;
    for (;;) {
      const started = performance.now();
      const match = regex.exec(input);
      worst = Math.max(worst, performance.now() - started);
      if (!match) return worst;
      if (match[0] === '') regex.lastIndex += 1;
    }
  };
  let slowest: Timing = { ms: 0, input: '' };
  for (const [name, input] of hostileInputs(source, size)) {
    let ms = run(input);
    for (let retry = 0; retry < 2 && ms > MATCH_BUDGET_MS; retry++) ms = Math.min(ms, run(input));
    if (ms > slowest.ms) slowest = { ms, input: name };
    if (ms > MATCH_BUDGET_MS) break; // one is enough to fail, and the rest may take seconds each
  }
  return slowest;
}

// ---------- the analyser ----------

// recheck's pure-JavaScript build (Scala.js, inside the npm package): no Java, no native binary, no network, the same
// verdicts on every machine. Read when each check starts, so setting it here is enough.
process.env.RECHECK_BACKEND = 'pure';

export interface Verdict {
  status: 'safe' | 'vulnerable' | 'unknown';
  /** `linear`, `polynomial (degree 2)`, `exponential`, or why it is unknown (`timeout`, `unsupported`). */
  detail: string;
  /** The attack string recheck built, shortened, for the failure message. */
  attack?: string;
}

export async function analyse(source: string, flags: string): Promise<Verdict> {
  const { check } = (await import('recheck')).default;
  // A fixed seed, so that the fuzzer (used where automata cannot decide) gives the same verdict on every run.
  const result = await check(source, flags.replace(/[gy]/g, ''), { timeout: 5_000, randomSeed: 1 });
  if (result.status === 'unknown') return { status: 'unknown', detail: result.error.kind };
  const complexity = result.complexity;
  const detail = complexity.type === 'polynomial' ? `polynomial (degree ${complexity.degree})` : complexity.type;
  if (result.status === 'safe') return { status: 'safe', detail };
  return { status: 'vulnerable', detail, attack: result.attack.pattern.slice(0, 120) };
}
