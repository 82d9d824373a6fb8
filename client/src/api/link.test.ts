import { describe, expect, it } from 'vitest';
import { nextCursor } from './link';

describe('the Link header of a list page', () => {
  it('gives the after cursor of rel="next", as it came', () => {
    expect(nextCursor('</api/v1/tasks/?sort=due&limit=50&after=eyJpZCI6M30.abc_-X>; rel="next"')).toBe(
      'eyJpZCI6M30.abc_-X',
    );
  });

  it('finds next among several links, with other parameters, unquoted rel and odd spacing', () => {
    const header =
      '<https://x.example/api/v1/tasks/?after=PREV>; rel="prev", <https://x.example/api/v1/tasks/?q=a%2Cb&after=NEXT>;title="n" ;rel=next';
    expect(nextCursor(header)).toBe('NEXT');
    expect(nextCursor('</p?after=A>; rel="first next"')).toBe('A');
  });

  it('is undefined on the last page, without a header, or when the link has no cursor', () => {
    expect(nextCursor(null)).toBeUndefined();
    expect(nextCursor('')).toBeUndefined();
    expect(nextCursor('</api/v1/tasks/?after=X>; rel="prev"')).toBeUndefined();
    expect(nextCursor('</api/v1/tasks/?limit=50>; rel="next"')).toBeUndefined();
  });
});
