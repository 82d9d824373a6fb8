import { useSyncExternalStore } from 'react';
import { connection } from '../api/connection';

/** Shown while the server cannot be reached; goes away by itself when it answers again. */
export function ConnectionBanner() {
  const status = useSyncExternalStore(connection.subscribe, connection.getStatus);
  return (
    <div className="connection" role="status" aria-live="polite">
      {status === 'offline' && (
        <p className="banner banner-warning">
          <span className="spinner" aria-hidden="true" /> Cannot reach the server. Retrying… Your tasks are safe;
          changes you make now will not be saved until it is back.
        </p>
      )}
    </div>
  );
}
