/**
 * No regular expression a client can feed may stall the server. Every `pattern` of every route schema (read from the
 * OpenAPI document the route schemas produce, so a new one is covered without touching this file) is timed on the
 * shapes that make backtracking engines slow, at the size of a whole request body (64 KiB): one repeated character,
 * spaces, alternations, each ending in a character the pattern refuses. A title like that took 4 s before.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT } from '../src/app.js';
import { authed, signup, startTestApp, type TestApp } from './helpers.js';

const N = BODY_LIMIT;
const HOSTILE: Record<string, string> = {
  'one letter, then a control character': `${'a'.repeat(N)}\u0001`,
  'one letter, then DEL': `${'a'.repeat(N)}\u007f`,
  'one letter, then a lone surrogate': `${'a'.repeat(N)}\ud800`,
  'spaces, then a control character': `${' '.repeat(N)}\u0001`,
  'letter and space alternating, then NUL': `${'a '.repeat(N / 2)}\u0000`,
  'tabs and newlines, then a control character': `${'\t\n'.repeat(N / 2)}\u0002`,
  'a non-ASCII letter, then a C1 control': `${'é'.repeat(N)}\u0085`,
  'only spaces': ' '.repeat(N),
  'one letter': 'a'.repeat(N),
  'visible ASCII, then a space': `${'!'.repeat(N)} `,
};

function patternsOf(node: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const item of node) patternsOf(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'pattern' && typeof value === 'string') found.add(value);
      else patternsOf(value, found);
    }
  }
  return found;
}

describe('every route pattern runs in linear time on hostile input', () => {
  let t: TestApp;
  let patterns: string[];
  beforeAll(async () => {
    t = await startTestApp('embedded');
    patterns = [...patternsOf(t.app.swagger(), new Set())];
  });
  afterAll(async () => {
    await t?.close();
  });

  it('finds the patterns (title, description, email, password, Idempotency-Key)', () => {
    expect(patterns.length).toBeGreaterThanOrEqual(3);
  });

  it.each(Object.keys(HOSTILE))('%s: every pattern decides in under 50 ms', (shape) => {
    const input = HOSTILE[shape] as string;
    for (const pattern of patterns) {
      // TypeBox compiles patterns with the `u` flag (http/validation.ts): time them the same way.
      const regex = new RegExp(pattern, 'u');
      const started = performance.now();
      regex.test(input);
      expect(performance.now() - started, `${pattern} on ${shape}`).toBeLessThan(50);
    }
  });

  it('a title at the body limit, refused for its last character, is answered at once (POST and PATCH)', async () => {
    const attacker = await signup(t.app);
    const title = `${'a'.repeat(N - 100)}\u0001`;
    const started = performance.now();
    const refused = await t.app.inject(
      authed(attacker.token, { method: 'POST', url: '/api/v1/tasks/', payload: { title } }),
    );
    const elapsed = performance.now() - started;
    expect([400, 413]).toContain(refused.statusCode);
    expect(elapsed).toBeLessThan(500);
    const patched = await t.app.inject(
      authed(attacker.token, { method: 'PATCH', url: '/api/v1/tasks/1/', payload: { title } }),
    );
    expect([400, 404, 413]).toContain(patched.statusCode);
  });
});

describe('the title rule, in linear form, means what it meant', () => {
  // The rule in words: no control character (C0, DEL, C1), no lone surrogate, and at least one non-space character.
  const meaning = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return false;
      if (code >= 0xd800 && code <= 0xdbff) {
        const next = text.charCodeAt(i + 1);
        if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
        i++;
      } else if (code >= 0xdc00 && code <= 0xdfff) return false;
    }
    return /\S/.test(text);
  };

  it('accepts exactly the titles the rule describes', async () => {
    const { TaskInput } = await import('../src/tasks/schemas.js');
    const pattern = new RegExp((TaskInput.properties.title as unknown as { pattern: string }).pattern, 'u');
    const alphabet = fc.constantFrom(
      'a',
      'é',
      ' ',
      '\t',
      '\n',
      '\u00a0',
      '\u2028',
      '\u0001',
      '\u007f',
      '\u0085',
      '😀',
      '\ud800',
      '\udc00',
    );
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        expect(pattern.test(text), JSON.stringify(text)).toBe(meaning(text));
      }),
      { numRuns: 5000 },
    );
  });
});
