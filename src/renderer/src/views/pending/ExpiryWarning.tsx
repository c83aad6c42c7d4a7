import type { ProposalDto } from '../../../../shared/console-dto';
import { formatRemaining } from '../../lib/format';
import { useClockStore } from '../../stores/clock-store';
import { useConnectionStore } from '../../stores/connection-store';
import { EXTEND_SECONDS, usePendingStore } from '../../stores/pending-store';

export const WARN_BEFORE_MS = 60_000;

/**
 * In the last minute before a proposal expires (into a denial), says so and offers more time.
 * With `always`, the Extend button is there from the start (the decision dialog).
 */
export function ExpiryWarning({ proposal, always = false }: { proposal: ProposalDto; always?: boolean }) {
  const now = useClockStore((s) => s.now);
  const connected = useConnectionStore((s) => s.connected);
  const extending = usePendingStore((s) => s.extending);
  const extendError = usePendingStore((s) => s.extendError);
  const extend = usePendingStore((s) => s.extend);
  const left = Date.parse(proposal.expiresAt) - now;
  const soon = left > 0 && left < WARN_BEFORE_MS;
  if (!soon && !always) return null;
  return (
    <div
      className={soon ? 'notice notice-warn expiry-warning' : 'expiry-line'}
      role={soon ? 'alert' : undefined}
      data-testid={soon ? 'expiry-warning' : 'expiry-line'}
    >
      <span>
        {soon ? (
          <strong>Expires in {formatRemaining(left)}: then it is denied by default.</strong>
        ) : (
          <span className="muted">Need longer to read it?</span>
        )}
      </span>
      <button
        type="button"
        className="btn btn-small"
        onClick={() => void extend()}
        disabled={extending || !connected || left <= 0}
        aria-keyshortcuts="X"
        data-testid="extend-button"
      >
        {extending ? 'Extending…' : `Give ${EXTEND_SECONDS / 60} more minutes`} <kbd>X</kbd>
      </button>
      {extendError ? (
        <span className="field-error" role="alert" data-testid="extend-error">
          {extendError}
        </span>
      ) : null}
    </div>
  );
}
