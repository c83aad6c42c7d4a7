import { useEffect, useState } from 'react';
import { Empty, ErrorState, Loading } from '../../components/StateView';
import { collectBundle, downloadText, EXPORT_CAP } from '../../lib/export-bundle';
import { hasAnyFilter } from '../../lib/ledger-query';
import { useLedgerStore } from '../../stores/ledger-store';
import { LedgerFilters } from './LedgerFilters';
import { LedgerList } from './LedgerList';
import { ReceiptDetail } from './ReceiptDetail';

function ExportButton() {
  const query = useLedgerStore((s) => s.query);
  const status = useLedgerStore((s) => s.status);
  const [progress, setProgress] = useState<number | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const run = async () => {
    setMessage(null);
    setProgress(0);
    const result = await collectBundle(query, setProgress);
    setProgress(null);
    if ('error' in result) {
      setMessage(result.error);
      return;
    }
    const stamp = result.bundle.exportedAt.replace(/[:.]/g, '-');
    downloadText(result.bundle.text, `openexec-receipts-${stamp}.json`);
    setMessage(
      result.bundle.complete
        ? `Exported ${result.bundle.count.toLocaleString()} receipts with the public key.`
        : `Exported the newest ${EXPORT_CAP.toLocaleString()} receipts of this search (narrow it to export the rest).`,
    );
  };
  return (
    <div className="export">
      <button
        type="button"
        className="btn"
        onClick={() => void run()}
        disabled={progress !== null || status !== 'ready'}
        data-testid="export-button"
      >
        {progress !== null ? `Exporting… ${progress.toLocaleString()}` : 'Export JSON'}
      </button>
      {message ? (
        <span className="muted small" role="status" data-testid="export-message">
          {message}
        </span>
      ) : null}
    </div>
  );
}

export function LedgerView() {
  const status = useLedgerStore((s) => s.status);
  const error = useLedgerStore((s) => s.error);
  const items = useLedgerStore((s) => s.items);
  const query = useLedgerStore((s) => s.query);
  const nextBeforeSeq = useLedgerStore((s) => s.nextBeforeSeq);
  const newSinceSearch = useLedgerStore((s) => s.newSinceSearch);
  const selectedSeq = useLedgerStore((s) => s.selectedSeq);
  const search = useLedgerStore((s) => s.search);

  useEffect(() => {
    if (useLedgerStore.getState().status === 'idle') void search();
  }, [search]);

  let list;
  if (status === 'idle' || status === 'loading') list = <Loading label="Searching the ledger…" />;
  else if (status === 'error') {
    list = <ErrorState title="The search failed" message={error ?? 'Unknown error'} onRetry={() => void search()} />;
  } else if (items.length === 0) {
    list = hasAnyFilter(query) ? (
      <Empty title="No receipts match this search">Try fewer words or clear a filter.</Empty>
    ) : (
      <Empty title="The ledger is empty">Every attempt the boundary sees will be witnessed here by a signed receipt.</Empty>
    );
  } else {
    list = <LedgerList />;
  }

  return (
    <section className="view view-ledger" aria-labelledby="ledger-heading" data-testid="view-ledger">
      <header className="view-header">
        <h1 id="ledger-heading">Ledger</h1>
        <p className="muted" data-testid="ledger-count">
          {status === 'ready'
            ? `${items.length.toLocaleString()}${nextBeforeSeq !== null ? '+' : ''} ${items.length === 1 && nextBeforeSeq === null ? 'receipt' : 'receipts'}, newest first`
            : 'Signed, hash-chained receipts of every attempt'}
        </p>
        <ExportButton />
      </header>
      <LedgerFilters />
      {newSinceSearch > 0 ? (
        <button type="button" className="btn btn-small new-results" onClick={() => void search()}>
          {newSinceSearch} new receipt{newSinceSearch === 1 ? '' : 's'} since this search — show
        </button>
      ) : null}
      <div className={selectedSeq !== null ? 'split ledger-split' : 'ledger-full'}>
        <div className="split-list ledger-list">{list}</div>
        {selectedSeq !== null ? (
          <div className="split-detail">
            <ReceiptDetail seq={selectedSeq} />
          </div>
        ) : null}
      </div>
    </section>
  );
}
