/**
 * The two ends of the list's window (list-window.ts): "Show earlier tasks" above it when earlier pages are out of the
 * window, "Show more" below it when later pages are (or are still on the server). Buttons, not scroll-triggered
 * loading: the page grows or moves only when the reader asks, and keyboard and screen-reader users get the same list.
 */

export function ShowEarlier({ onEarlier }: { onEarlier: () => void }) {
  return (
    <div className="show-more show-earlier">
      <button type="button" onClick={onEarlier}>
        Show earlier tasks
      </button>
    </div>
  );
}

interface Props {
  loading: boolean;
  /** 1-based positions of the first and last task drawn, and how many the view holds (from the counts). */
  from: number;
  to: number;
  total?: number | undefined;
  onMore: () => void;
}

export function ShowMore({ loading, from, to, total, onMore }: Props) {
  return (
    <div className="show-more">
      <button type="button" onClick={onMore} disabled={loading}>
        {loading ? 'Loading…' : 'Show more'}
      </button>
      {total !== undefined && total > to - from + 1 && (
        <p className="hint">{from === 1 ? `${to} of ${total} shown` : `${from}–${to} of ${total} shown`}</p>
      )}
    </div>
  );
}
