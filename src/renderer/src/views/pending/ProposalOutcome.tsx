import type { ProposalDto } from '../../../../shared/console-dto';
import { Time } from '../../components/Time';

const WORDS: Record<Exclude<ProposalDto['status'], 'pending'>, string> = {
  executed: 'Approved and executed',
  denied: 'Denied',
  expired: 'Expired — denied by default',
  failed: 'Approved, but it failed',
};

/** A closed proposal's outcome, said where the decision buttons were. */
export function ProposalOutcome({ proposal }: { proposal: ProposalDto }) {
  if (proposal.status === 'pending') return null;
  const good = proposal.status === 'executed';
  return (
    <div className={`notice ${good ? 'notice-ok' : 'notice-warn'} outcome-banner`} role="status" data-testid="proposal-outcome">
      <strong>{WORDS[proposal.status]}</strong> <Time iso={proposal.decidedAt} />
      {proposal.receiptSeq !== null ? <span className="muted mono"> · receipt #{proposal.receiptSeq}</span> : null}
      {proposal.reason ? <p className="outcome-reason">{proposal.reason}</p> : null}
      <p className="muted small">
        Nothing more can be decided here. <kbd>J</kbd>/<kbd>K</kbd> move to the next proposal.
      </p>
    </div>
  );
}
