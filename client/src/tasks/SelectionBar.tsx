/** The bar of a selection: how many are selected, select all or none, and what to do with them. */
import { BULK_IDS_MAX } from '../api/limits';

/** The API's bound on one bulk action (from its OpenAPI document). */
export const BULK_MAX = BULK_IDS_MAX;

interface Props {
  count: number;
  shown: number;
  onSelectAll: () => void;
  onSelectNone: () => void;
  onComplete: () => void;
  onReopen: () => void;
  onDelete: () => void;
}

export function SelectionBar({ count, shown, onSelectAll, onSelectNone, onComplete, onReopen, onDelete }: Props) {
  const tooMany = count > BULK_MAX;
  const none = count === 0 || tooMany;
  return (
    <section className="selection-bar card" aria-label="Selected tasks">
      <p className="selection-count" aria-live="polite">
        {count} selected{tooMany ? ` (at most ${BULK_MAX} at once)` : ''}
      </p>
      <div className="selection-buttons">
        {count < shown ? (
          <button type="button" className="ghost" onClick={onSelectAll}>
            Select all shown
          </button>
        ) : (
          <button type="button" className="ghost" onClick={onSelectNone}>
            Select none
          </button>
        )}
        <button type="button" disabled={none} onClick={onComplete}>
          Complete
        </button>
        <button type="button" disabled={none} onClick={onReopen}>
          Reopen
        </button>
        <button type="button" className="danger" disabled={none} onClick={onDelete}>
          Delete
        </button>
      </div>
    </section>
  );
}
