/** The search box: the list follows ~250 ms after the last key; Escape clears it. */
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { cleanSearch, SEARCH_MAX } from './view';

export const SEARCH_DEBOUNCE_MS = 250;

export function SearchBox({ value, onSearch }: { value: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(value);
  const latest = useRef(onSearch);
  latest.current = onSearch;

  // The view's search changed elsewhere (cleared, or the URL): the box shows it.
  useEffect(() => {
    setText((current) => (cleanSearch(current) === value ? current : value));
  }, [value]);

  useEffect(() => {
    const q = cleanSearch(text);
    if (q === value) return;
    const timer = setTimeout(() => latest.current(q), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, value]);

  const clearOnEscape = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== 'Escape' || text === '') return;
    event.preventDefault();
    setText('');
    latest.current('');
  };

  return (
    <div className="search">
      <label htmlFor="task-search">Search tasks</label>
      <input
        id="task-search"
        type="search"
        dir="auto"
        autoComplete="off"
        maxLength={SEARCH_MAX * 2}
        placeholder="Title or details"
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={clearOnEscape}
      />
    </div>
  );
}
