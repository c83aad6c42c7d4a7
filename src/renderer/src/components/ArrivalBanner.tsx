import { useNavStore } from '../stores/nav-store';
import { usePendingStore } from '../stores/pending-store';

/** Shown on every view when a proposal arrives, until it is looked at or dismissed. */
export function ArrivalBanner() {
  const arrival = usePendingStore((s) => s.lastArrival);
  const fresh = usePendingStore((s) => s.newIds.size);
  const select = usePendingStore((s) => s.select);
  const dismiss = usePendingStore((s) => s.dismissArrival);
  const show = useNavStore((s) => s.show);
  return (
    <div aria-live="assertive" className="arrival-region">
      {arrival && fresh > 0 ? (
        <div className="arrival" role="status" data-testid="arrival-banner">
          <span className="arrival-dot" aria-hidden="true" />
          <span>
            New proposal: <strong>{arrival.action}</strong>
            {fresh > 1 ? ` and ${fresh - 1} more` : ''} waiting for a decision.
          </span>
          <button
            type="button"
            className="btn btn-small btn-primary"
            onClick={() => {
              show('pending');
              select(arrival.id);
              dismiss();
            }}
          >
            Review
          </button>
          <button type="button" className="btn btn-small btn-ghost" onClick={dismiss} aria-label="Dismiss">
            ✕
          </button>
        </div>
      ) : null}
    </div>
  );
}
