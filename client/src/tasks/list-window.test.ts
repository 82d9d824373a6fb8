import { describe, expect, it } from 'vitest';
import { PAGE_WINDOW, windowAfterMore, windowOver } from './list-window';

describe('the drawn window of pages', () => {
  it('draws at most PAGE_WINDOW pages, never past the loaded ones', () => {
    expect(PAGE_WINDOW).toBe(3);
    expect(windowOver(0, 0)).toEqual({ start: 0, count: 0 });
    expect(windowOver(0, 1)).toEqual({ start: 0, count: 1 });
    expect(windowOver(0, 5)).toEqual({ start: 0, count: 3 });
    expect(windowOver(2, 5)).toEqual({ start: 2, count: 3 });
    // A start beyond what is loaded (pages read again after a refetch gave fewer) slides back.
    expect(windowOver(4, 5)).toEqual({ start: 2, count: 3 });
    expect(windowOver(4, 2)).toEqual({ start: 0, count: 2 });
  });

  it('after "Show more" reads a page, that page is the last one drawn', () => {
    expect(windowAfterMore(2)).toBe(0);
    expect(windowAfterMore(3)).toBe(0);
    expect(windowAfterMore(4)).toBe(1);
    expect(windowAfterMore(10)).toBe(7);
  });
});
