import { useEffect, useRef, useState } from 'react';
import { TASK_TITLE_MAX } from '../api/limits';
import { charCount, crossedLimit, TITLE_COUNTER_FROM } from './title-limit';

/**
 * "212/255" under a title field once the limit nears, and a polite live region that speaks only when a threshold is
 * crossed. The live region is always in the page, so screen readers already watch it when it first speaks.
 */
export function TitleCounter({ title }: { title: string }) {
  const count = charCount(title);
  const before = useRef(count);
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => {
    const crossed = crossedLimit(before.current, count);
    before.current = count;
    if (crossed) setAnnouncement(crossed);
    // Back under the counter's range: nothing is left for a screen reader to find later that no longer holds.
    else if (count < TITLE_COUNTER_FROM) setAnnouncement('');
  }, [count]);
  return (
    <>
      {count >= TITLE_COUNTER_FROM && (
        <p className={`counter${count >= TASK_TITLE_MAX ? ' counter-full' : ''}`}>
          {count}/{TASK_TITLE_MAX}
          <span className="visually-hidden"> characters</span>
        </p>
      )}
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
    </>
  );
}
