/** The account: who, since when; password; where it is logged in; what happened; its data; leaving for good. */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId } from 'react';
import { connection } from '../api/connection';
import { ScreenHeading } from '../ui/ScreenHeading';
import { formatDay } from '../ui/time';
import { Activity } from './Activity';
import { ChangePassword } from './ChangePassword';
import { DeleteAccount } from './DeleteAccount';
import { ExportData } from './ExportData';
import { ACTIVITY, PROFILE, SESSIONS, useProfile, useRefreshSecurity } from './queries';
import { Sessions } from './Sessions';

interface Props {
  email: string;
  onBack: () => void;
  announce: (message: string) => void;
}

export function AccountScreen({ email, onBack, announce }: Props) {
  const profile = useProfile();
  const refresh = useRefreshSecurity();
  const queries = useQueryClient();
  const profileId = useId();

  // Back from an outage, read everything again.
  useEffect(
    () =>
      connection.subscribe(() => {
        if (connection.getStatus() !== 'online') return;
        for (const queryKey of [PROFILE, SESSIONS, ACTIVITY]) void queries.invalidateQueries({ queryKey });
      }),
    [queries],
  );

  const since = profile.data?.created_at;
  return (
    <main className="account-screen">
      <div className="screen-head">
        <ScreenHeading>Your account</ScreenHeading>
        <button type="button" onClick={onBack}>
          <span aria-hidden="true">← </span>Back to tasks
        </button>
      </div>

      <section className="card" aria-labelledby={profileId}>
        <h2 id={profileId}>Profile</h2>
        <dl className="facts">
          <div>
            <dt>Email</dt>
            <dd className="break">{email}</dd>
          </div>
          <div>
            <dt>Member since</dt>
            {/* The line is there while it loads, so nothing below moves when the date arrives. */}
            <dd>{since ? <time dateTime={since}>{formatDay(since)}</time> : profile.isError ? '—' : '…'}</dd>
          </div>
        </dl>
      </section>

      <ChangePassword email={email} onChanged={refresh} />
      <Sessions announce={announce} />
      <Activity />
      <ExportData onExported={refresh} />
      <DeleteAccount email={email} />
    </main>
  );
}
