import { describe, expect, it } from 'vitest';
import { cleanSearch, DEFAULT_VIEW, listQuery, parseView, SEARCH_MAX, viewSearch } from './view';

describe('the list view in the URL', () => {
  it('leaves the defaults out: all tasks, newest first, no search', () => {
    expect(viewSearch(DEFAULT_VIEW)).toBe('');
    expect(parseView('')).toEqual(DEFAULT_VIEW);
  });

  it('round-trips every filter, sort and a search with characters that need escaping', () => {
    const view = { filter: 'overdue', sort: 'due', q: 'café & 100% “tea”' } as const;
    expect(viewSearch(view)).toBe('?show=overdue&sort=due&q=caf%C3%A9+%26+100%25+%E2%80%9Ctea%E2%80%9D');
    expect(parseView(viewSearch(view))).toEqual(view);
    for (const filter of ['all', 'open', 'done', 'overdue'] as const) {
      for (const sort of ['newest', 'oldest', 'due', 'title'] as const) {
        expect(parseView(viewSearch({ filter, sort, q: '' }))).toEqual({ filter, sort, q: '' });
      }
    }
  });

  it('keeps the filter links of before (?show=open), and reads anything unknown as the default', () => {
    expect(parseView('?show=open')).toEqual({ ...DEFAULT_VIEW, filter: 'open' });
    expect(parseView('?show=everything&sort=random')).toEqual(DEFAULT_VIEW);
    expect(parseView('?show=&sort=&q=')).toEqual(DEFAULT_VIEW);
    expect(parseView('?q=%20%20')).toEqual(DEFAULT_VIEW);
  });

  it('trims a search and bounds it as the API does (200 characters, counted as code points)', () => {
    expect(cleanSearch('  milk  ')).toBe('milk');
    expect([...cleanSearch('😀'.repeat(300))]).toHaveLength(SEARCH_MAX);
    expect(parseView(`?q=${'a'.repeat(500)}`).q).toHaveLength(SEARCH_MAX);
  });

  it('asks the API for the view: completed for open/done, overdue with the local date, the search when there is one', () => {
    const today = '2026-03-14';
    expect(listQuery(DEFAULT_VIEW, today)).toEqual({ sort: 'newest' });
    expect(listQuery({ filter: 'open', sort: 'oldest', q: '' }, today)).toEqual({ sort: 'oldest', completed: 'false' });
    expect(listQuery({ filter: 'done', sort: 'title', q: 'x' }, today)).toEqual({
      sort: 'title',
      q: 'x',
      completed: 'true',
    });
    expect(listQuery({ filter: 'overdue', sort: 'due', q: '' }, today)).toEqual({
      sort: 'due',
      overdue: 'true',
      today,
    });
  });
});
