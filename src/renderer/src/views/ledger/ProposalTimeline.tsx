import { useEffect, useState } from 'react';
import type { ReceiptDto } from '../../../../shared/console-dto';
import { Time } from '../../components/Time';
import { callConsole, errorText } from '../../bridge';
import { useLedgerStore } from '../../stores/ledger-store';

type Loaded = { proposalId: string; receipts: ReceiptDto[] } | { proposalId: string; error: string };

/** Every receipt of one proposal, oldest first: proposed → approved → executed (or denied, expired…). */
export function ProposalTimeline({ proposalId, currentSeq }: { proposalId: string; currentSeq: number }) {
  const select = useLedgerStore((s) => s.select);
  const [loaded, setLoaded] = useState<Loaded | null>(null);

  useEffect(() => {
    let live = true;
    void callConsole('searchReceipts', { id: proposalId, limit: 50 }).then((result) => {
      if (!live) return;
      setLoaded(result.ok ? { proposalId, receipts: [...result.value.items].reverse() } : { proposalId, error: errorText(result.error) });
    });
    return () => {
      live = false;
    };
  }, [proposalId, currentSeq]);

  const current = loaded?.proposalId === proposalId ? loaded : null;
  return (
    <section className="timeline" aria-labelledby="timeline-heading" data-testid="proposal-timeline">
      <h3 id="timeline-heading" className="section-title">
        This proposal’s receipts
      </h3>
      {!current ? (
        <p className="muted small">Loading…</p>
      ) : 'error' in current ? (
        <p className="field-error">Could not load them: {current.error}</p>
      ) : (
        <ol className="timeline-steps">
          {current.receipts.map((r) => (
            <li key={r.seq}>
              <button
                type="button"
                className={r.seq === currentSeq ? 'timeline-step current' : 'timeline-step'}
                aria-current={r.seq === currentSeq ? 'step' : undefined}
                onClick={() => select(r.seq)}
                data-testid="timeline-step"
                data-seq={r.seq}
              >
                <span className={`tag tag-${r.event}`}>{r.event}</span>
                <span className="mono">#{r.seq}</span>
                <Time iso={r.time} />
              </button>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
