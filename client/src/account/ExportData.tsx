/**
 * "Download my data": everything the server stores about the account, as its JSON file. Fetched and saved through
 * a blob rather than a plain link, so a refusal (rate limit, ended session) is shown here instead of being
 * downloaded as a file.
 */
import { useId, useState } from 'react';
import { api } from '../api/client';
import { describeError } from '../api/errors';

export function ExportData({ onExported }: { onExported: () => void }) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string }>();
  const headingId = useId();

  const download = async () => {
    setBusy(true);
    setOutcome(undefined);
    try {
      const { blob, filename } = await api.exportData();
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = filename;
      // In the document while clicked: some browsers ignore a click on a detached link.
      document.body.append(link);
      link.click();
      link.remove();
      // The browser has taken the file once the click is handled; the next task frees the memory.
      setTimeout(() => URL.revokeObjectURL(url));
      setOutcome({ ok: true, message: `Your data was saved as ${filename}.` });
      onExported();
    } catch (error) {
      setOutcome({ ok: false, message: `Your data could not be downloaded: ${describeError(error)}` });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>Your data</h2>
      <p>
        Download everything stored about your account, as a JSON file: your profile, tasks, sessions and activity. It
        never contains your password.
      </p>
      <div className="section-actions">
        <button type="button" disabled={busy} onClick={() => void download()}>
          {busy ? 'Preparing…' : 'Download my data'}
        </button>
        {/* Always in the page, so the news is announced when it arrives; beside the button, so nothing moves. */}
        <div role="status" className="status-slot">
          {outcome && <p className={outcome.ok ? 'hint' : 'form-error'}>{outcome.message}</p>}
        </div>
      </div>
    </section>
  );
}
