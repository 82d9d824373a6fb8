/**
 * Which loaded pages are drawn. The list is read 50 tasks a page; at most PAGE_WINDOW pages are drawn at once, so a
 * phone never holds more than ~150 rows (about 9,000 px) however far the reader goes: moving on drops the first
 * drawn page, "Show earlier tasks" brings it back from the cache (no request).
 */
export const PAGE_WINDOW = 3;

export interface ListWindow {
  /** Index of the first drawn page. */
  start: number;
  /** How many pages are drawn (up to PAGE_WINDOW). */
  count: number;
}

export function windowOver(start: number, loadedPages: number): ListWindow {
  const first = Math.max(0, Math.min(start, loadedPages - PAGE_WINDOW));
  return { start: first, count: Math.min(PAGE_WINDOW, loadedPages - first) };
}

/** The window after "Show more" once `loadedPages` pages are loaded: its last page is the newest one. */
export function windowAfterMore(loadedPages: number): number {
  return Math.max(0, loadedPages - PAGE_WINDOW);
}
