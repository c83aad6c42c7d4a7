import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ReceiptDto } from '../../../../shared/console-dto';
import { prettyCanonical } from '../../../../shared/canonical-pretty';
import { CodeBlock } from '../../components/CodeBlock';
import { Fields } from '../../components/Fields';
import { ErrorState, Loading } from '../../components/StateView';
import { Time } from '../../components/Time';
import { useLedgerStore } from '../../stores/ledger-store';
import { useReceiptStore } from '../../stores/receipt-store';
import { ProposalTimeline } from './ProposalTimeline';
import { VerifyPanel } from './VerifyPanel';
import { ReceiptBodies } from './ReceiptBodies';

function Neighbour({ label, receipt }: { label: string; receipt: ReceiptDto | null }) {
  const select = useLedgerStore((s) => s.select);
  if (!receipt) return <span className="neighbour muted">{label}: none</span>;
  return (
    <button type="button" className="neighbour btn" onClick={() => select(receipt.seq)} data-testid={`neighbour-${label.toLowerCase()}`}>
      {label === 'Previous' ? <span aria-hidden="true">←</span> : null} {label} #{receipt.seq}{' '}
      <span className={`tag tag-${receipt.event}`}>{receipt.event}</span>
      {label === 'Next' ? <span aria-hidden="true">→</span> : null}
    </button>
  );
}

export function ReceiptDetail({ seq }: { seq: number }) {
  const { status, error, detail, open } = useReceiptStore(
    useShallow((s) => ({ status: s.status, error: s.error, detail: s.detail, open: s.open })),
  );
  const select = useLedgerStore((s) => s.select);
  const [exact, setExact] = useState(false);

  useEffect(() => {
    void open(seq);
  }, [seq, open]);

  let body;
  if (status === 'loading' || status === 'idle' || (detail && detail.receipt.seq !== seq)) {
    body = <Loading label={`Loading receipt #${seq}…`} />;
  } else if (status === 'error' || !detail) {
    body = <ErrorState title={`Could not load receipt #${seq}`} message={error ?? 'Unknown error'} onRetry={() => void open(seq)} />;
  } else {
    const r = detail.receipt;
    body = (
      <>
        <nav className="neighbours" aria-label="Chain neighbours">
          <Neighbour label="Previous" receipt={detail.previous} />
          <Neighbour label="Next" receipt={detail.next} />
        </nav>
        <VerifyPanel />
        {r.proposalId ? <ProposalTimeline proposalId={r.proposalId} currentSeq={r.seq} /> : null}
        <Fields
          rows={[
            { label: 'Sequence', value: `#${r.seq}`, mono: true, testId: 'receipt-seq' },
            { label: 'Event', value: <span className={`tag tag-${r.event}`}>{r.event}</span> },
            { label: 'Time', value: <Time iso={r.time} /> },
            { label: 'Action', value: r.action, mono: true },
            // The list shortens the name; here it is whole (verified by the agent's token when the receipt was written).
            { label: 'Agent', value: r.agent, mono: true, testId: 'receipt-detail-agent' },
            { label: 'Reason', value: r.reason },
            { label: 'Hash', value: r.hash, mono: true, testId: 'receipt-hash' },
            { label: 'Previous hash', value: r.prevHash, mono: true },
            { label: 'Signature', value: r.signature, mono: true },
            { label: 'Execution id', value: r.execId, mono: true },
            { label: 'Proposal id', value: r.proposalId, mono: true },
            { label: 'Approval id', value: r.approvalId, mono: true },
            { label: 'Approver key id', value: r.approverKeyId, mono: true },
            { label: 'Request hash', value: r.requestHash, mono: true },
          ]}
        />
        {r.bodies ? <ReceiptBodies bodies={r.bodies} /> : null}
        <div className="body-head">
          <h3 className="section-title">Signed body</h3>
          <label className="inline-check">
            <input type="checkbox" checked={exact} onChange={(e) => setExact(e.target.checked)} />
            Show the exact signed text
          </label>
        </div>
        <CodeBlock text={exact ? r.body : prettyCanonical(r.body)} label="Signed body" testId="receipt-body" />
      </>
    );
  }

  return (
    <article className="detail receipt-detail" aria-labelledby="receipt-title" data-testid="receipt-detail">
      <header className="detail-header">
        <h2 id="receipt-title" className="detail-title">
          Receipt #{seq}
        </h2>
        <button type="button" className="btn btn-ghost" onClick={() => select(null)} aria-label="Close receipt">
          Close
        </button>
      </header>
      {body}
    </article>
  );
}
