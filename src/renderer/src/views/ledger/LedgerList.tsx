import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type KeyboardEvent } from 'react';
import { formatTimeCompact, shortHash } from '../../lib/format';
import { useLedgerStore } from '../../stores/ledger-store';

const ROW_HEIGHT = 40;
/** Start fetching the next page this many rows before the end. */
const PREFETCH_ROWS = 60;

/**
 * Newest-first receipts in a virtualised list: only the rows on screen exist in the DOM, and
 * the next keyset page (beforeSeq) is fetched as the end comes into view.
 */
export function LedgerList() {
  const items = useLedgerStore((s) => s.items);
  const nextBeforeSeq = useLedgerStore((s) => s.nextBeforeSeq);
  const loadingMore = useLedgerStore((s) => s.loadingMore);
  const moreError = useLedgerStore((s) => s.moreError);
  const selectedSeq = useLedgerStore((s) => s.selectedSeq);
  const select = useLedgerStore((s) => s.select);
  const loadMore = useLedgerStore((s) => s.loadMore);
  const scrollRef = useRef<HTMLDivElement>(null);
  const hasMore = nextBeforeSeq !== null;

  const virtualizer = useVirtualizer({
    count: items.length + (hasMore || moreError ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    useFlushSync: false,
  });
  const rows = virtualizer.getVirtualItems();
  const lastIndex = rows.at(-1)?.index ?? -1;

  useEffect(() => {
    if (hasMore && !loadingMore && !moreError && lastIndex >= items.length - PREFETCH_ROWS) void loadMore();
  }, [lastIndex, hasMore, loadingMore, moreError, items.length, loadMore]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const delta = event.key === 'j' || event.key === 'ArrowDown' ? 1 : event.key === 'k' || event.key === 'ArrowUp' ? -1 : 0;
    if (!delta || items.length === 0) return;
    event.preventDefault();
    const current = items.findIndex((r) => r.seq === selectedSeq);
    const next = current < 0 ? 0 : Math.max(0, Math.min(items.length - 1, current + delta));
    const seq = items[next]?.seq;
    if (seq !== undefined) {
      select(seq);
      virtualizer.scrollToIndex(next, { align: 'auto' });
    }
  };

  return (
    <div
      ref={scrollRef}
      className="vlist"
      tabIndex={0}
      role="listbox"
      aria-label="Receipts, newest first"
      aria-activedescendant={selectedSeq !== null ? `receipt-row-${selectedSeq}` : undefined}
      onKeyDown={onKeyDown}
      data-testid="ledger-list"
    >
      <div className="vlist-inner" style={{ height: virtualizer.getTotalSize() }}>
        {rows.map((row) => {
          const receipt = items[row.index];
          const style = { transform: `translateY(${row.start}px)`, height: row.size };
          if (!receipt) {
            return (
              <div key="more" className="vrow vrow-more" style={style} role="presentation">
                {moreError ? (
                  <span className="field-error">
                    Could not load more: {moreError}{' '}
                    <button type="button" className="btn btn-small" onClick={() => void loadMore()}>
                      Retry
                    </button>
                  </span>
                ) : (
                  <span className="muted">Loading older receipts…</span>
                )}
              </div>
            );
          }
          const selected = receipt.seq === selectedSeq;
          return (
            <div
              key={receipt.seq}
              id={`receipt-row-${receipt.seq}`}
              role="option"
              aria-selected={selected}
              className={selected ? 'vrow selected' : 'vrow'}
              style={style}
              onClick={() => select(receipt.seq)}
              data-testid="receipt-row"
              data-seq={receipt.seq}
            >
              <span className="vcell seq mono">#{receipt.seq}</span>
              <span className="vcell">
                <span className={`tag tag-${receipt.event}`}>{receipt.event}</span>
              </span>
              <span className="vcell time" title={receipt.time}>{formatTimeCompact(receipt.time)}</span>
              <span className="vcell action">{receipt.action ?? <span className="muted">—</span>}</span>
              <span className="vcell reason">{receipt.reason ?? ''}</span>
              <span className="vcell hash mono muted">{shortHash(receipt.hash, 10)}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
