/** Routes pushed console events to the stores that care. */
import type { ConsoleEvent } from '../../shared/console-dto';
import { onConsoleEvent } from './bridge';
import { useAllowListStore } from './stores/allow-list-store';
import { useApprovalsStore } from './stores/approvals-store';
import { useGrantsStore } from './stores/grants-store';
import { useLedgerStore } from './stores/ledger-store';
import { usePendingStore } from './stores/pending-store';
import { useStatusStore } from './stores/status-store';
import { useToolPinsStore } from './stores/tool-pins-store';

export function routeEvent(event: ConsoleEvent): void {
  switch (event.type) {
    case 'proposal':
      usePendingStore.getState().receive(event.proposal);
      useStatusStore.getState().invalidate();
      break;
    case 'receipt':
      useLedgerStore.getState().receiveLive(event.receipt);
      if (event.receipt.approvalId) useApprovalsStore.getState().invalidate();
      // Issued, used or ended: every receipt about a grant names it in its signed body.
      if (event.receipt.body.includes('"grant_id":')) useGrantsStore.getState().invalidate();
      // A tool pinned or a changed definition accepted (docs/receipts.md: `kind: mcp-tool-pin`).
      if (event.receipt.event === 'config' && event.receipt.body.includes('"kind":"mcp-tool-pin"'))
        useToolPinsStore.getState().invalidate();
      useStatusStore.getState().invalidate();
      break;
    case 'allow-list':
      useAllowListStore.getState().receive(event.allowList);
      break;
    case 'resync':
      resyncAll();
      break;
  }
}

/** Subscribes once; returns the unsubscribe. */
export function subscribeToEvents(): () => void {
  return onConsoleEvent((event) => {
    if (event && typeof event === 'object' && 'type' in event) routeEvent(event);
  });
}

/** After a lost connection or missed events (a resync event): reload what is shown. */
export function resyncAll(): void {
  void usePendingStore.getState().load();
  useStatusStore.getState().invalidate();
  useApprovalsStore.getState().invalidate();
  useGrantsStore.getState().invalidate();
  useToolPinsStore.getState().invalidate();
  if (useAllowListStore.getState().status !== 'idle') void useAllowListStore.getState().load();
  if (useLedgerStore.getState().status !== 'idle') void useLedgerStore.getState().search();
}
