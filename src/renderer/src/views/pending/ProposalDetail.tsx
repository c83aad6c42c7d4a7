import type { ProposalDto } from '../../../../shared/console-dto';
import { prettyCanonical } from '../../../../shared/canonical-pretty';
import { CodeBlock } from '../../components/CodeBlock';
import { Countdown } from '../../components/Countdown';
import { Fields } from '../../components/Fields';
import { Time } from '../../components/Time';
import { useClockStore } from '../../stores/clock-store';
import { usePendingStore } from '../../stores/pending-store';

// Shown and announced here; use-pending-keys is what listens for them.
const DECISIONS = [
  { kind: 'approve', label: 'Approve', key: 'A' },
  { kind: 'deny', label: 'Deny', key: 'D' },
] as const;

export function ProposalDetail({ proposal }: { proposal: ProposalDto }) {
  const openDialog = usePendingStore((s) => s.openDialog);
  const now = useClockStore((s) => s.now);
  const expired = Date.parse(proposal.expiresAt) <= now;
  return (
    <article className="detail" aria-labelledby="proposal-title" data-testid="proposal-detail">
      <header className="detail-header">
        <div>
          <p className="eyebrow">Proposed action</p>
          <h2 id="proposal-title" className="detail-title" data-testid="proposal-action">
            {proposal.action}
          </h2>
        </div>
        <div className="detail-timer">
          <span className="muted">Expires in</span> <Countdown expiresAt={proposal.expiresAt} />
        </div>
      </header>

      {expired ? (
        <p className="notice notice-warn" role="status">
          This proposal has expired; the boundary will deny it by default.
        </p>
      ) : null}

      <div className="actions-bar">
        {DECISIONS.map(({ kind, label, key }) => (
          <button
            key={kind}
            type="button"
            className={`btn btn-${kind}`}
            onClick={() => openDialog(kind)}
            disabled={expired}
            data-testid={`${kind}-button`}
            aria-keyshortcuts={key}
          >
            {`${label}… `}
            <kbd>{key}</kbd>
          </button>
        ))}
      </div>

      <section aria-labelledby="context-heading">
        <h3 id="context-heading" className="section-title">
          Agent’s context <span className="muted">(untrusted, shown as text)</span>
        </h3>
        {proposal.context ? (
          <p className="context-text" data-testid="proposal-context">
            {proposal.context}
          </p>
        ) : (
          <p className="muted">The agent gave no context.</p>
        )}
      </section>

      <section aria-labelledby="payload-heading">
        <h3 id="payload-heading" className="section-title">
          Payload (canonical JSON)
        </h3>
        <CodeBlock text={prettyCanonical(proposal.payloadCanonical)} label="Payload" testId="proposal-payload" />
      </section>

      <Fields
        rows={[
          { label: 'Request hash', value: proposal.requestHash, mono: true, testId: 'proposal-hash' },
          { label: 'Proposal id', value: proposal.id, mono: true },
          { label: 'Nonce', value: proposal.nonce, mono: true },
          { label: 'Proposed', value: <Time iso={proposal.createdAt} /> },
          { label: 'Expires', value: <Time iso={proposal.expiresAt} /> },
        ]}
      />
    </article>
  );
}
