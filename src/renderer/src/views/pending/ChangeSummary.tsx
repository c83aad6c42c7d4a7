import { formatTime } from '../../lib/format';
import type { RequestFacts } from './request-facts';

const list = (paths: string[]): string => paths.join(', ');

/** How this request differs from the last one of its action that ran. */
export function ChangeSummary({ action, facts }: { action: string; facts: RequestFacts }) {
  const { previous, diff } = facts;
  if (previous === undefined) return null;
  if (previous === null) {
    return (
      <p className="notice notice-warn change-summary" data-testid="change-summary">
        <strong>First of its kind:</strong> no <code>{action}</code> request has been approved and run before.
      </p>
    );
  }
  if (!diff) return null;
  const same = diff.changed.length + diff.added.length + diff.removed.length === 0;
  return (
    <div className={`notice ${same ? 'notice-ok' : 'notice-info'} change-summary`} data-testid="change-summary">
      {same ? (
        <span>
          <strong>Same payload</strong> as the last <code>{action}</code> that ran ({formatTime(previous.decidedAt)}).
        </span>
      ) : (
        <span>
          <strong>Changed since the last <code>{action}</code> that ran</strong> ({formatTime(previous.decidedAt)}):{' '}
          {diff.changed.length ? <span data-testid="changed-fields">changed {list(diff.changed)}</span> : null}
          {diff.changed.length && (diff.added.length || diff.removed.length) ? '; ' : null}
          {diff.added.length ? <span>new {list(diff.added)}</span> : null}
          {diff.added.length && diff.removed.length ? '; ' : null}
          {diff.removed.length ? <span>gone {list(diff.removed)}</span> : null}. Marked lines are what changed.
        </span>
      )}
    </div>
  );
}
