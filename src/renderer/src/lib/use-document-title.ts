import { useEffect } from 'react';
import { usePendingStore } from '../stores/pending-store';

/** The window title carries the queue: "(2 new) 5 pending · OpenExec Console". */
export function useDocumentTitle(): void {
  const pending = usePendingStore((s) => s.items.length);
  const fresh = usePendingStore((s) => s.newIds.size);
  useEffect(() => {
    const parts: string[] = [];
    if (fresh > 0) parts.push(`(${fresh} new)`);
    if (pending > 0) parts.push(`${pending} pending ·`);
    parts.push('OpenExec Console');
    document.title = parts.join(' ');
  }, [pending, fresh]);
}
