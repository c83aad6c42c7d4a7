import { useClockStore } from '../stores/clock-store';
import { useConnectionStore } from '../stores/connection-store';
import { formatRemaining } from '../lib/format';

/**
 * Time left until `expiresAt`, ticking with the shared clock. Without the core it stops: the
 * proposal may have been decided, extended or expired meanwhile, so no time is shown.
 */
export function Countdown({ expiresAt }: { expiresAt: string }) {
  const now = useClockStore((s) => s.now);
  const connected = useConnectionStore((s) => s.connected);
  if (!connected) {
    return (
      <span className="countdown countdown-stale" data-testid="countdown" title="Unknown while disconnected from OpenExec">
        –:––
      </span>
    );
  }
  const left = Date.parse(expiresAt) - now;
  if (Number.isNaN(left)) return <span className="countdown">—</span>;
  if (left <= 0) {
    return (
      <span className="countdown countdown-expired" data-testid="countdown">
        expired
      </span>
    );
  }
  const urgent = left < 60_000;
  return (
    <span
      className={urgent ? 'countdown countdown-urgent' : 'countdown'}
      data-testid="countdown"
      title={`Expires ${new Date(expiresAt).toLocaleString()}`}
    >
      {formatRemaining(left)}
    </span>
  );
}
