/**
 * What the list shows: which tasks (all / open / done / overdue), in which order, matching which search text.
 * Kept in the URL (`?show=open&sort=due&q=milk`) so a reload or a shared link shows the same list; the defaults
 * (all, newest first, no search) are left out of it.
 */
import type { ListQuery } from '../api/client';
import { TASK_SEARCH_MAX } from '../api/limits';

export const FILTERS = ['all', 'open', 'done', 'overdue'] as const;
export type Filter = (typeof FILTERS)[number];

export const SORTS = ['newest', 'oldest', 'due', 'title'] as const;
export type Sort = (typeof SORTS)[number];

export const SORT_LABELS: Record<Sort, string> = {
  newest: 'Newest first',
  oldest: 'Oldest first',
  due: 'Due date',
  title: 'Title',
};

/** The API's bound on the search text (after trimming; from its OpenAPI document). */
export const SEARCH_MAX = TASK_SEARCH_MAX;

export interface View {
  filter: Filter;
  sort: Sort;
  /** Trimmed search text; '' for none. */
  q: string;
}

export const DEFAULT_VIEW: View = { filter: 'all', sort: 'newest', q: '' };

function oneOf<T extends string>(choices: readonly T[], value: string | null, fallback: T): T {
  return (choices as readonly string[]).includes(value ?? '') ? (value as T) : fallback;
}

export function parseView(search: string): View {
  const params = new URLSearchParams(search);
  return {
    filter: oneOf(FILTERS, params.get('show'), DEFAULT_VIEW.filter),
    sort: oneOf(SORTS, params.get('sort'), DEFAULT_VIEW.sort),
    q: cleanSearch(params.get('q') ?? ''),
  };
}

/** The query string for a view ('' for the default view), with the defaults left out. */
export function viewSearch(view: View): string {
  const params = new URLSearchParams();
  if (view.filter !== DEFAULT_VIEW.filter) params.set('show', view.filter);
  if (view.sort !== DEFAULT_VIEW.sort) params.set('sort', view.sort);
  if (view.q) params.set('q', view.q);
  const query = params.toString();
  return query ? `?${query}` : '';
}

/** Search text as the API takes it: trimmed, at most SEARCH_MAX characters (code points, as the server counts). */
export function cleanSearch(text: string): string {
  return [...text.trim()].slice(0, SEARCH_MAX).join('').trim();
}

/** The list request's query parameters for a view, on the caller's calendar day `today` (YYYY-MM-DD). */
export function listQuery(view: View, today: string): ListQuery {
  return {
    sort: view.sort,
    ...(view.q ? { q: view.q } : {}),
    ...(view.filter === 'open' ? { completed: 'false' } : {}),
    ...(view.filter === 'done' ? { completed: 'true' } : {}),
    ...(view.filter === 'overdue' ? { overdue: 'true', today } : {}),
  };
}
