import { Time } from './Time';
import { useConnectionStore } from '../stores/connection-store';

/** On every view for as long as the core cannot be reached. */
export function ConnectionBanner() {
  const connected = useConnectionStore((s) => s.connected);
  const lostAt = useConnectionStore((s) => s.lostAt);
  if (connected) return null;
  return (
    <div className="disconnected" role="alert" data-testid="disconnected-banner">
      <strong>Disconnected from OpenExec.</strong>{' '}
      <span>
        Nothing can be approved or denied, and what is shown may be out of date (since{' '}
        {lostAt ? <Time iso={new Date(lostAt).toISOString()} /> : 'just now'}). The console reconnects by itself and then reloads the queue.
      </span>
    </div>
  );
}
