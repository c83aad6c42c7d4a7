import { useCallback, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ReceiptTotal } from '../../../../shared/console-dto';
import { ChainCheck } from '../../components/ChainCheck';
import { Empty, ErrorState, Loading } from '../../components/StateView';
import { ViewFrame } from '../../components/ViewFrame';
import { collectBundle, downloadText, EXPORT_CAP } from '../../lib/export-bundle';
import { hasAnyFilter } from '../../lib/ledger-query';
import { useLedgerStore } from '../../stores/ledger-store';
import { AgentGroups } from './AgentGroups';
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

function GoToSeq() {
  const jumpTo = useLedgerStore((s) => s.jumpTo);
  const [value, setValue] = useState('');
  const seq = Number(value);
  const usable = Number.isSafeInteger(seq) && seq >= 1;
  return (
    <form
      className="goto"
      aria-label="Go to a receipt"
      onSubmit={(e) => {
        e.preventDefault();
        if (usable) void jumpTo(seq);
      }}
    >
      <label htmlFor="ledger-goto">Go to #</label>
      <input
        id="ledger-goto"
        type="number"
        min={1}
        step={1}
        inputMode="numeric"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        data-testid="ledger-goto"
      />
      <button type="submit" className="btn btn-small" disabled={!usable}>
        Go
      </button>
    </form>
  );
}

function countText(total: ReceiptTotal | null, counting: boolean, anchor: number | null): string {
  const where = anchor === null ? 'newest first' : `from #${anchor.toLocaleString()} down`;
  if (counting) return `Receipts (counting…), ${where}`;
  if (!total) return `Receipts, ${where}`;
  const count = `${total.exact ? '' : 'at least '}${total.count.toLocaleString()} ${total.count === 1 && total.exact ? 'receipt' : 'receipts'}`;
  return `${count}, ${where}`;
}

export function LedgerView() {
  const { status, error, rows, query, anchor, total, counting, newSinceSearch, selectedSeq, search, showNewest } = useLedgerStore(
    useShallow((s) => ({
      status: s.status,
      error: s.error,
      rows: s.pages.length,
      query: s.query,
      anchor: s.anchor,
      total: s.total,
      counting: s.counting,
      newSinceSearch: s.newSinceSearch,
      selectedSeq: s.selectedSeq,
      search: s.search,
      showNewest: s.showNewest,
    })),
  );
  const [byAgent, setByAgent] = useState(false);
  const open = useCallback(() => {
    if (useLedgerStore.getState().status === 'idle') void search();
  }, [search]);

  let list;
  if (status === 'idle' || status === 'loading') list = <Loading label="Searching the ledger…" />;
  else if (status === 'error') {
    list = <ErrorState title="The search failed" message={error ?? 'Unknown error'} onRetry={() => void search()} />;
  } else if (rows === 0) {
    list = hasAnyFilter(query) ? (
      <Empty title="No receipts match this search">Try fewer words or clear a filter.</Empty>
    ) : (
      <Empty title="The ledger is empty">Every attempt the boundary sees will be witnessed here by a signed receipt.</Empty>
    );
  } else {
    list = <LedgerList />;
  }

  return (
    <ViewFrame
      view="ledger"
      className="view-ledger"
      title="Ledger"
      lead={
        // Polite, as the list's own loading state; busy until the count has come, so it is read once.
        <span data-testid="ledger-count" aria-live="polite" aria-busy={status === 'ready' && counting}>
          {status === 'ready' ? countText(total, counting, anchor) : 'Signed, hash-chained receipts of every attempt'}
        </span>
      }
      onOpen={open}
      actions={<ExportButton />}
    >
      <LedgerFilters />
      <div className="ledger-tools">
        <GoToSeq />
        {anchor !== null ? (
          <button type="button" className="btn btn-small" onClick={() => void showNewest()} data-testid="ledger-newest">
            Back to the newest
          </button>
        ) : null}
        {newSinceSearch > 0 ? (
          <button type="button" className="btn btn-small new-results" onClick={() => void search()}>
            {newSinceSearch} new receipt{newSinceSearch === 1 ? '' : 's'} since this search — show
          </button>
        ) : null}
        <button
          type="button"
          className="btn"
          aria-expanded={byAgent}
          onClick={() => setByAgent((shown) => !shown)}
          data-testid="ledger-by-agent"
        >
          Group by agent
        </button>
        <ChainCheck />
      </div>
      {byAgent && status === 'ready' ? <AgentGroups onClose={() => setByAgent(false)} /> : null}
      <div className={selectedSeq !== null ? 'split ledger-split' : 'ledger-full'}>
        <div className="split-list ledger-list">{list}</div>
        {selectedSeq !== null ? (
          <div className="split-detail">
            <ReceiptDetail seq={selectedSeq} />
          </div>
        ) : null}
      </div>
    </ViewFrame>
  );
}
