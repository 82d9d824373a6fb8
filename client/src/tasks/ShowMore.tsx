/**
 * The end of a loaded part of the list: a "Show more" button (keyboard and screen reader users press it) that also
 * presses itself when it scrolls near the viewport, so a long list reads on as one scrolls without ever drawing
 * every task at once.
 */
import { useEffect, useRef } from 'react';

interface Props {
  loading: boolean;
  shown: number;
  total?: number | undefined;
  onMore: () => void;
}

export function ShowMore({ loading, shown, total, onMore }: Props) {
  const button = useRef<HTMLButtonElement>(null);
  const latest = useRef({ loading, onMore });
  latest.current = { loading, onMore };
  const inView = useRef(false);

  useEffect(() => {
    const target = button.current;
    if (!target || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        inView.current = entries.some((entry) => entry.isIntersecting);
        if (inView.current && !latest.current.loading) latest.current.onMore();
      },
      { rootMargin: '0px 0px 400px 0px' },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, []);

  // A page that did not fill the screen leaves the button in view, which the observer does not report again.
  useEffect(() => {
    if (!loading && inView.current) latest.current.onMore();
  }, [loading]);

  return (
    <div className="show-more">
      <button ref={button} type="button" onClick={onMore} disabled={loading}>
        {loading ? 'Loading…' : 'Show more'}
      </button>
      {total !== undefined && total > shown && (
        <p className="hint">
          {shown} of {total} shown
        </p>
      )}
    </div>
  );
}
