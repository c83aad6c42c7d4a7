import { formatTime } from '../lib/format';

/** A time, in the console's one format, that never breaks across lines; the exact ISO text on hover. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time className="time" dateTime={iso} title={iso}>
      {formatTime(iso)}
    </time>
  );
}
