import { useClockStore } from '../stores/clock-store';
import { formatRemaining } from '../lib/format';

/** Time left until `expiresAt`, ticking with the shared clock. */
export function Countdown({ expiresAt }: { expiresAt: string }) {
  const now = useClockStore((s) => s.now);
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
