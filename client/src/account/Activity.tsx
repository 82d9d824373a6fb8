/** The account's recent security events, newest first: what happened, when, from where. */
import { useId, useRef, useState } from 'react';
import { formatTime } from '../ui/time';
import { activityLabel, isWarning } from './activity-kinds';
import { describeDevice } from './device';
import { loadProblem } from './load-problem';
import { useActivity } from './queries';

/** Rows shown before "Show all": enough for the last few days of a normal account. */
const FIRST = 10;

export function Activity() {
  const activity = useActivity();
  const [all, setAll] = useState(false);
  const headingId = useId();
  const list = useRef<HTMLOListElement>(null);
  const events = activity.data ?? [];
  const shown = all ? events : events.slice(0, FIRST);

  const showAll = () => {
    setAll(true);
    // The button goes away; the keyboard continues at the first row it revealed.
    requestAnimationFrame(() => list.current?.querySelectorAll<HTMLElement>('li')[FIRST]?.focus());
  };

  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>Recent activity</h2>
      {activity.isPending ? (
        <p className="placeholder" role="status">
          Loading your activity…
        </p>
      ) : activity.isError && !activity.data ? (
        <div className="banner banner-error" role="alert">
          <p>{loadProblem('Your activity', activity.error)}</p>
          <button type="button" onClick={() => void activity.refetch()}>
            Try again
          </button>
        </div>
      ) : events.length === 0 ? (
        <p className="hint">Nothing recorded yet.</p>
      ) : (
        <>
          <ol ref={list} className="rows" aria-labelledby={headingId}>
            {shown.map((event) => (
              <li key={event.id} className={`row${isWarning(event.kind) ? ' warning' : ''}`} tabIndex={-1}>
                <div className="row-text">
                  <p className="row-title">{activityLabel(event.kind)}</p>
                  <p className="row-meta">
                    <time dateTime={event.at}>{formatTime(event.at)}</time>
                    <span>{event.ip ?? 'Unknown address'}</span>
                    <span>{describeDevice(event.user_agent)}</span>
                  </p>
                </div>
              </li>
            ))}
          </ol>
          {!all && events.length > FIRST && (
            <div className="section-actions">
              <button type="button" onClick={showAll}>
                Show all {events.length} events
              </button>
            </div>
          )}
        </>
      )}
    </section>
  );
}
