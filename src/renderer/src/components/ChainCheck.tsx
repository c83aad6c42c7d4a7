import { useShallow } from 'zustand/react/shallow';
import { useChainCheckStore, type ChainOutcome } from '../stores/chain-check-store';

function outcomeText(outcome: ChainOutcome): string {
  switch (outcome.kind) {
    case 'valid':
      return `All ${outcome.checked.toLocaleString()} receipts hold: hashes, links and signatures.`;
    case 'broken':
      return `Broken at receipt #${outcome.firstBadSeq ?? '?'}: ${outcome.problem ?? 'unknown problem'}`;
    case 'cancelled':
      return `Stopped after ${outcome.checked.toLocaleString()} of ${outcome.lastSeq.toLocaleString()} receipts; those hold. The rest were not checked.`;
    case 'failed':
      return `The check could not finish after ${outcome.checked.toLocaleString()} receipts: ${outcome.message}`;
  }
}

/** "Verify the whole ledger", run by the core chunk by chunk, with progress and Cancel. */
export function ChainCheck() {
  const { running, checked, lastSeq, outcome, start, cancel } = useChainCheckStore(
    useShallow((s) => ({
      running: s.running,
      checked: s.checked,
      lastSeq: s.lastSeq,
      outcome: s.outcome,
      start: s.start,
      cancel: s.cancel,
    })),
  );
  return (
    <div className="chain-check" data-testid="chain-check">
      <div className="chain-buttons">
        <button type="button" className="btn" onClick={() => void start()} disabled={running}>
          {running ? 'Verifying the ledger…' : 'Verify the whole ledger'}
        </button>
        {running ? (
          <button type="button" className="btn btn-ghost" onClick={cancel} data-testid="chain-cancel">
            Cancel
          </button>
        ) : null}
      </div>
      {running ? (
        <div className="chain-progress" data-testid="chain-progress">
          <progress max={Math.max(lastSeq, 1)} value={checked} aria-label="Receipts verified" />
          <span className="muted small" role="status">
            {lastSeq > 0 ? `${checked.toLocaleString()} of ${lastSeq.toLocaleString()} receipts checked` : 'Starting…'}
          </span>
        </div>
      ) : null}
      {outcome ? (
        <p
          className={
            outcome.kind === 'valid' ? 'notice notice-ok' : outcome.kind === 'cancelled' ? 'notice notice-warn' : 'notice notice-error'
          }
          role="status"
          data-testid="chain-result"
          data-outcome={outcome.kind}
        >
          {outcomeText(outcome)}
        </p>
      ) : null}
    </div>
  );
}
