import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { Time } from '../../components/Time';
import { shortHash } from '../../lib/format';
import { indexOfSeq, rowAt, rowCount } from '../../lib/ledger-pages';
import { useLedgerStore } from '../../stores/ledger-store';

const ROW_HEIGHT = 40;
/** Rows each key moves the selection by (Home goes to the top). */
const KEY_STEPS: Record<string, number> = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1, PageDown: 10, PageUp: -10, Home: 0 };

/**
 * Newest-first receipts in a virtualised list: only the rows on screen exist in the DOM, and
 * the store holds only the keyset pages around them (rows further away show as placeholders
 * until their page is fetched again).
 */
export function LedgerList() {
  const { pages, nextBefore, moreError, selectedSeq, held, select, setVisible, retry } = useLedgerStore(
    useShallow((s) => ({
      pages: s.pages,
      nextBefore: s.nextBefore,
      moreError: s.moreError,
      selectedSeq: s.selectedSeq,
      held: s.held,
      select: s.select,
      setVisible: s.setVisible,
      retry: s.retry,
    })),
  );
  const scrollRef = useRef<HTMLDivElement>(null);
  const rows = rowCount(pages);
  const tail = nextBefore !== null || moreError !== null;

  const virtualizer = useVirtualizer({
    count: rows + (tail ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    useFlushSync: false,
  });
  const shown = virtualizer.getVirtualItems();
  const first = shown[0]?.index ?? 0;
  const last = shown.at(-1)?.index ?? 0;

  useEffect(() => {
    setVisible(first, last);
  }, [first, last, rows, setVisible]);

  const selectedIndex = selectedSeq === null ? -1 : indexOfSeq(pages, selectedSeq);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const delta = KEY_STEPS[event.key];
    if (delta === undefined || rows === 0) return;
    event.preventDefault();
    const next = event.key === 'Home' ? 0 : selectedIndex < 0 ? first : Math.max(0, Math.min(rows - 1, selectedIndex + delta));
    const receipt = rowAt(pages, next);
    virtualizer.scrollToIndex(next, { align: 'auto' });
    if (receipt) select(receipt.seq);
  };

  return (
    <div
      ref={scrollRef}
      className="vlist"
      tabIndex={0}
      role="listbox"
      aria-label="Receipts, newest first. Arrow keys, Page Up, Page Down and Home move the selection."
      aria-activedescendant={shown.some((row) => row.index === selectedIndex) ? `receipt-row-${selectedSeq}` : undefined}
      onKeyDown={onKeyDown}
      data-testid="ledger-list"
      data-held-rows={held}
      data-rows={rows}
    >
      <div className="vlist-inner" style={{ height: virtualizer.getTotalSize() }}>
        {shown.map((row) => {
          const style = { transform: `translateY(${row.start}px)`, height: row.size };
          if (row.index >= rows) {
            return (
              <div key="more" className="vrow vrow-more" style={style} role="presentation">
                {moreError ? (
                  <span className="field-error">
                    Could not load more: {moreError}{' '}
                    <button type="button" className="btn btn-small" onClick={retry}>
                      Retry
                    </button>
                  </span>
                ) : (
                  <span className="muted">Loading older receipts…</span>
                )}
              </div>
            );
          }
          const receipt = rowAt(pages, row.index);
          if (!receipt) {
            return (
              <div
                key={`placeholder-${row.index}`}
                className="vrow vrow-placeholder"
                style={style}
                role="presentation"
                data-testid="receipt-placeholder"
              >
                <span className="muted">…</span>
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
              <span className="vcell time">
                <Time iso={receipt.time} />
              </span>
              <span className="vcell action">
                {receipt.action ?? <span className="muted">—</span>}
                {receipt.agent !== null ? (
                  <>
                    {' '}
                    <span className="muted small" data-testid="receipt-agent" title="Verified by its agent token">
                      · agent {receipt.agent}
                    </span>
                  </>
                ) : null}
              </span>
              <span className="vcell reason">{receipt.reason ?? ''}</span>
              <span className="vcell hash mono muted">{shortHash(receipt.hash, 10)}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
