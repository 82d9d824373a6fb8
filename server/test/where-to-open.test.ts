import { describe, expect, it } from 'vitest';
import { readyLine, whereToOpen } from '../src/lifecycle/where-to-open.js';

describe('whereToOpen', () => {
  it('names the first local host ALLOWED_HOSTS allows, on the real port', () => {
    expect(whereToOpen('127.0.0.1', 8000, ['localhost', '127.0.0.1'])).toEqual({
      level: 'info',
      message: 'open http://localhost:8000/ in a browser',
      url: 'http://localhost:8000/',
    });
    expect(whereToOpen('::1', 9000, ['127.0.0.1'])?.url).toBe('http://127.0.0.1:9000/');
    expect(whereToOpen('localhost', 8000, ['.localhost'])?.url).toBe('http://localhost:8000/');
  });

  it('warns when a loopback-only server allows no local name', () => {
    const hint = whereToOpen('127.0.0.1', 8000, ['tasks.example.com']);
    expect(hint?.level).toBe('warn');
    expect(hint?.message).toContain('400 "Invalid Host header"');
  });

  it('says nothing for a server bound to every interface (reached through its public name)', () => {
    expect(whereToOpen('0.0.0.0', 8000, ['tasks.example.com'])).toBeUndefined();
    expect(whereToOpen('::', 8000, ['localhost'])).toBeUndefined();
  });

  it('ends the start-up log with one plain line a person reads (not JSON)', () => {
    const hint = whereToOpen('127.0.0.1', 8000, ['localhost']);
    expect(hint?.level).toBe('info');
    expect(readyLine({ ...(hint as NonNullable<typeof hint>), level: 'info' })).toBe(
      'Ironclad Tasks is ready: open http://localhost:8000/ in a browser\n',
    );
  });
});
