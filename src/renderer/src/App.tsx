import { useEffect } from 'react';
import { ArrivalBanner } from './components/ArrivalBanner';
import { ConnectionBanner } from './components/ConnectionBanner';
import { DemoBand } from './components/ModeIndicator';
import { NavBar } from './components/NavBar';
import { getBridge } from './bridge';
import { resyncAll, subscribeToEvents } from './events';
import { watchWindowFocus } from './lib/window-focus';
import { onReconnect, watchConnection } from './stores/connection-store';
import { useDocumentTitle } from './lib/use-document-title';
import { startClock } from './stores/clock-store';
import { useNavStore } from './stores/nav-store';
import { usePendingStore } from './stores/pending-store';
import { useStatusStore } from './stores/status-store';
import { ActionsView } from './views/ActionsView';
import { ApprovalsView } from './views/ApprovalsView';
import { GrantsView } from './views/GrantsView';
import { LedgerView } from './views/ledger/LedgerView';
import { PendingView } from './views/pending/PendingView';
import { StatusView } from './views/StatusView';
import { ToolPinsView } from './views/ToolPinsView';

function CurrentView() {
  const view = useNavStore((s) => s.view);
  switch (view) {
    case 'pending':
      return <PendingView />;
    case 'approvals':
      return <ApprovalsView />;
    case 'grants':
      return <GrantsView />;
    case 'allow-list':
      return <ActionsView />;
    case 'tools':
      return <ToolPinsView />;
    case 'ledger':
      return <LedgerView />;
    case 'status':
      return <StatusView />;
  }
}

export function App() {
  useDocumentTitle();
  useEffect(() => {
    const stopClock = startClock();
    const unsubscribe = subscribeToEvents();
    const stopConnection = watchConnection();
    const stopResync = onReconnect(resyncAll);
    const stopFocus = watchWindowFocus();
    // Load the queue at once, whatever view is showing, so arrivals are counted everywhere.
    if (usePendingStore.getState().status === 'idle') void usePendingStore.getState().load();
    // The mode is shown on every view (navigation, demo band), and comes with health.
    if (useStatusStore.getState().status === 'idle') void useStatusStore.getState().load();
    return () => {
      unsubscribe();
      stopConnection();
      stopResync();
      stopFocus();
      stopClock();
    };
  }, []);

  return (
    <div className="app">
      <NavBar />
      <main className="main">
        <DemoBand />
        {getBridge() ? null : (
          <p className="notice notice-error" role="alert" data-testid="no-bridge">
            The console bridge is missing: this page must be opened by OpenExec Console.
          </p>
        )}
        <ConnectionBanner />
        <ArrivalBanner />
        <CurrentView />
      </main>
    </div>
  );
}
