import { useEffect, useRef } from 'react';
import { hasFindings, keyFields, proposalFindings } from '../../../../shared/proposal-summary';
import { Countdown } from '../../components/Countdown';
import { RevealText } from '../../components/RevealText';
import { usePendingStore } from '../../stores/pending-store';

/** The queue. A proposal is named by its action and key payload fields, never by the agent's note. */
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
        const suspicious = hasFindings(proposalFindings(p));
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
                <span className="queue-action">
                  <RevealText text={p.action} />
                </span>
                {suspicious ? (
                  <span className="tag tag-spoof" title="Contains characters that can hide or disguise text" data-testid="queue-spoof">
                    ⚠ hidden text
                  </span>
                ) : null}
                {p.agent !== null ? (
                  <span className="tag queue-agent" data-testid="queue-agent" title={`agent ${p.agent}, verified by its agent token`}>
                    agent {p.agent}
                  </span>
                ) : null}
                {isNew ? <span className="tag tag-new">New</span> : null}
                <Countdown expiresAt={p.expiresAt} />
              </span>
              <span className="queue-fields" data-testid="queue-fields">
                {keyFields(p.payloadCanonical).map((f) => (
                  <span key={f.key} className="queue-field">
                    <span className="queue-key">
                      <RevealText text={f.key} />
                    </span>{' '}
                    <RevealText text={f.value} />
                  </span>
                ))}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
