import type { ReactNode } from 'react';
import { Time } from '../../components/Time';
import type { RequestFacts } from './request-facts';

const SHOWN = 6;
/** Field names as code, so a name such as `to` never reads as part of the sentence. */
const list = (names: string[]): ReactNode[] => {
  const shown = names.slice(0, SHOWN).flatMap((name, i) => [i === 0 ? '' : ', ', <code key={i}>{name}</code>]);
  return names.length > SHOWN ? [...shown, ` and ${names.length - SHOWN} more`] : shown;
};

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
  const { changed, added, removed } = diff.fields;
  const same = changed.length + added.length + removed.length === 0;
  return (
    <div className={`notice ${same ? 'notice-ok' : 'notice-info'} change-summary`} data-testid="change-summary">
      {same ? (
        <span>
          <strong>Same payload</strong> as the last <code>{action}</code> that ran (<Time iso={previous.decidedAt} />
          ).
        </span>
      ) : (
        <span>
          <strong>
            Changed since the last <code>{action}</code> that ran
          </strong>{' '}
          (<Time iso={previous.decidedAt} />
          ):{' '}
          {[
            changed.length ? (
              <span key="c" data-testid="changed-fields">
                changed: {list(changed)}
              </span>
            ) : null,
            added.length ? <span key="a">new: {list(added)}</span> : null,
            removed.length ? <span key="r">removed: {list(removed)}</span> : null,
          ]
            .filter(Boolean)
            .flatMap((part, i) => (i === 0 ? [part] : ['; ', part]))}
          . Marked lines are what changed.
        </span>
      )}
    </div>
  );
}
