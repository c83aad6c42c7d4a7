import { useEffect, useRef } from 'react';
import { Countdown } from '../../components/Countdown';
import { shortHash } from '../../lib/format';
import { usePendingStore } from '../../stores/pending-store';

export function PendingList() {
  const items = usePendingStore((s) => s.items);
  const selectedId = usePendingStore((s) => s.selectedId);
  const newIds = usePendingStore((s) => s.newIds);
  const select = usePendingStore((s) => s.select);
  const listRef = useRef<HTMLUListElement>(null);

  useEffect(() => {
    if (!selectedId) return;
    const el = listRef.current?.querySelector<HTMLElement>(`[data-id="${CSS.escape(selectedId)}"]`);
    el?.scrollIntoView({ block: 'nearest' });
  }, [selectedId]);

  return (
    <ul className="queue" ref={listRef} aria-label="Pending proposals" data-testid="pending-list">
      {items.map((p) => {
        const selected = p.id === selectedId;
        const isNew = newIds.has(p.id);
        const classes = ['queue-item', selected ? 'selected' : '', isNew ? 'is-new' : ''].filter(Boolean).join(' ');
        return (
          <li key={p.id}>
            <button
              type="button"
              className={classes}
              aria-pressed={selected}
              data-id={p.id}
              data-testid="pending-item"
              onClick={() => select(p.id)}
            >
              <span className="queue-top">
                <span className="queue-action">{p.action}</span>
                {isNew ? <span className="tag tag-new">New</span> : null}
                <Countdown expiresAt={p.expiresAt} />
              </span>
              <span className="queue-bottom mono">{shortHash(p.requestHash, 16)}</span>
              {p.context ? <span className="queue-context">{p.context}</span> : null}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
