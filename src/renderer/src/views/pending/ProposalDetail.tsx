import type { ProposalDto } from '../../../../shared/console-dto';
import { prettyCanonical } from '../../../../shared/canonical-pretty';
import { CanonicalLines } from '../../components/CanonicalLines';
import { Countdown } from '../../components/Countdown';
import { Fields } from '../../components/Fields';
import { RevealText } from '../../components/RevealText';
import { Time } from '../../components/Time';
import { useClockStore } from '../../stores/clock-store';
import { useConnectionStore } from '../../stores/connection-store';
import { usePendingStore } from '../../stores/pending-store';
import { AgentNote } from './AgentNote';
import { ChangeSummary } from './ChangeSummary';
import { QuorumStatus } from './QuorumStatus';
import { EffectPreview } from './EffectPreview';
import { ExpiryWarning } from './ExpiryWarning';
import { ProposalOutcome } from './ProposalOutcome';
import { ProposedBy } from './ProposedBy';
import { useRequestFacts } from './request-facts';
import { SpoofWarning } from './SpoofWarning';

// Shown and announced here; use-pending-keys is what listens for them.
const DECISIONS = [
  { kind: 'approve', label: 'Approve', key: 'A' },
  { kind: 'deny', label: 'Deny', key: 'D' },
] as const;

/**
 * One proposal, in the order that matters: what will run (action, effect, payload), then the
 * facts about it, then the agent's note. A closed proposal stays here with its outcome.
 */
export function ProposalDetail({ proposal }: { proposal: ProposalDto }) {
  const openDialog = usePendingStore((s) => s.openDialog);
  const escaped = usePendingStore((s) => s.escaped);
  const toggleEscaped = usePendingStore((s) => s.toggleEscaped);
  const connected = useConnectionStore((s) => s.connected);
  const now = useClockStore((s) => s.now);
  const facts = useRequestFacts(proposal);
  const pending = proposal.status === 'pending';
  const expired = pending && Date.parse(proposal.expiresAt) <= now;
  return (
    <article className="detail" aria-labelledby="proposal-title" data-testid="proposal-detail" data-status={proposal.status}>
      <header className="detail-header">
        <div>
          <p className="eyebrow">Proposed action</p>
          <h2 id="proposal-title" className="detail-title" data-testid="proposal-action">
            {proposal.action}
          </h2>
        </div>
        {pending ? (
          <div className="detail-timer">
            <span className="muted">Expires in</span> <Countdown expiresAt={proposal.expiresAt} />
          </div>
        ) : null}
      </header>

      <ProposalOutcome proposal={proposal} />
      {expired ? (
        <p className="notice notice-warn" role="status">
          This proposal has expired; the boundary will deny it by default.
        </p>
      ) : null}
      {pending && !expired ? <ExpiryWarning proposal={proposal} /> : null}
      <SpoofWarning findings={facts.findings} />

      {pending ? (
        <div className="actions-bar">
          {DECISIONS.map(({ kind, label, key }) => (
            <button
              key={kind}
              type="button"
              className={`btn btn-${kind}`}
              onClick={() => openDialog(kind)}
              disabled={expired || !connected}
              data-testid={`${kind}-button`}
              aria-keyshortcuts={key}
            >
              {`${label}… `}
              <kbd>{key}</kbd>
            </button>
          ))}
        </div>
      ) : null}

      <EffectPreview preview={proposal.preview} />
      <ChangeSummary action={proposal.action} facts={facts} />
      {proposal.quorum ? <QuorumStatus quorum={proposal.quorum} /> : null}

      {/* Named by the heading's words, not by the toggle button inside it. */}
      <section aria-labelledby="payload-heading-text">
        <h3 className="section-title payload-heading">
          <span id="payload-heading-text">Payload {escaped ? '(canonical JSON, escaped)' : '(canonical JSON, text shown readably)'}</span>
          <button
            type="button"
            className="btn btn-small btn-ghost"
            onClick={toggleEscaped}
            aria-keyshortcuts="E"
            data-testid="toggle-escaped"
          >
            {escaped ? 'Show as text' : 'Show escapes'} <kbd>E</kbd>
          </button>
        </h3>
        <pre className="code" aria-labelledby="payload-heading-text" data-testid="proposal-payload" tabIndex={0}>
          {escaped ? prettyCanonical(proposal.payloadCanonical) : <CanonicalLines text={proposal.payloadCanonical} marks={facts.marks} />}
        </pre>
      </section>

      <Fields
        rows={[
          { label: 'Request hash', value: proposal.requestHash, mono: true, testId: 'proposal-hash' },
          { label: 'Agent', value: <ProposedBy agent={proposal.agent} />, testId: 'proposal-agent' },
          { label: 'Proposal id', value: proposal.id, mono: true },
          { label: 'Nonce', value: <RevealText text={proposal.nonce} />, mono: true },
          { label: 'Proposed', value: <Time iso={proposal.createdAt} /> },
          { label: 'Expires', value: <Time iso={proposal.expiresAt} /> },
        ]}
      />

      <AgentNote context={proposal.context} />
    </article>
  );
}
