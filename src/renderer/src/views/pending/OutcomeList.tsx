import { Time } from '../../components/Time';
import { usePendingStore } from '../../stores/pending-store';

const OUTCOME_WORDS: Record<string, string> = {
  executed: 'Executed',
  denied: 'Denied',
  expired: 'Expired',
  failed: 'Failed',
  pending: 'Pending',
};

/** The last decisions seen in this session, so the operator sees what just happened. */
export function OutcomeList() {
  const outcomes = usePendingStore((s) => s.outcomes);
  if (outcomes.length === 0) return null;
  return (
    <section className="outcomes" aria-labelledby="outcomes-heading">
      <h3 id="outcomes-heading" className="section-title">
        Recently closed
      </h3>
      <ul data-testid="outcome-list">
        {outcomes.slice(0, 6).map(({ proposal }) => (
          <li key={proposal.id} className={`outcome outcome-${proposal.status}`} data-testid="outcome-item">
            <span className={`tag tag-${proposal.status}`}>{OUTCOME_WORDS[proposal.status] ?? proposal.status}</span>
            <span className="outcome-action">{proposal.action}</span>
            <span className="muted">
              <Time iso={proposal.decidedAt} />
            </span>
            {proposal.receiptSeq !== null ? <span className="muted mono">receipt #{proposal.receiptSeq}</span> : null}
            {proposal.reason ? <span className="outcome-reason">{proposal.reason}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
