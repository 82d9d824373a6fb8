/**
 * A task's details, clamped to a few lines in the list (2,000 characters shown in full make one task a page long)
 * with a "Show more" / "Show less" button. Whether the text overflows is measured in the browser; where there is no
 * layout to measure (jsdom), long text (many characters or lines) counts as overflowing.
 */
import { useId, useLayoutEffect, useRef, useState } from 'react';

/** Lines shown while clamped; styles.css (.task-description.clamped) uses the same number. */
export const CLAMP_LINES = 3;
const LONG_TEXT = 180;

export function looksLong(text: string): boolean {
  return text.length > LONG_TEXT || text.split('\n').length > CLAMP_LINES;
}

export function TaskDescription({ title, text }: { title: string; text: string }) {
  const id = useId();
  const paragraph = useRef<HTMLParagraphElement>(null);
  const [expanded, setExpanded] = useState(false);
  const [overflows, setOverflows] = useState(() => looksLong(text));

  useLayoutEffect(() => {
    const element = paragraph.current;
    if (!element || expanded) return;
    const measure = () => {
      // No layout (jsdom): keep the guess from the text.
      if (element.clientHeight === 0) return setOverflows(looksLong(text));
      setOverflows(element.scrollHeight > element.clientHeight + 1);
    };
    measure();
    if (typeof ResizeObserver !== 'function') return;
    // A narrower window wraps more lines: measure again.
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [text, expanded]);

  return (
    <>
      <p ref={paragraph} id={id} className={`task-description${expanded ? '' : ' clamped'}`} dir="auto">
        {text}
      </p>
      {(overflows || expanded) && (
        <button
          type="button"
          className="link more"
          aria-expanded={expanded}
          aria-controls={id}
          onClick={() => setExpanded(!expanded)}
        >
          {expanded ? 'Show less' : 'Show more'} <span className="visually-hidden">of the details of “{title}”</span>
        </button>
      )}
    </>
  );
}
