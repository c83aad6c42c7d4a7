import type { QuorumDto } from '../../../../shared/console-dto';
import { Time } from '../../components/Time';
import { shortHash } from '../../lib/format';

/**
 * For an action that needs several operators: who has approved (name and key id), and how many
 * approvals by other keys are still needed. The same key never counts twice.
 */
export function QuorumStatus({ quorum }: { quorum: QuorumDto }) {
  const given = quorum.approvals.length;
  const left = Math.max(0, quorum.needed - given);
  return (
    <section className="quorum" aria-labelledby="quorum-title" data-testid="quorum-status">
      <p id="quorum-title" className="field-label">
        Needs approvals by {quorum.needed} distinct operator keys
      </p>
      <p data-testid="quorum-count">
        {given} of {quorum.needed} given
        {left > 0 ? `: ${left} more needed, each by an operator key that has not approved yet.` : '.'}
      </p>
      {given > 0 ? (
        <ul className="quorum-list">
          {quorum.approvals.map((a) => (
            <li key={a.keyId} data-testid="quorum-approval" data-key-id={a.keyId}>
              ✓ <strong>{a.operator}</strong>{' '}
              <code className="mono small" title={a.keyId}>
                key {shortHash(a.keyId, 16)}
              </code>{' '}
              <span className="muted small">
                <Time iso={a.approvedAt} />
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
