import { useEffect } from 'react';
import { ArrivalBanner } from './components/ArrivalBanner';
import { DemoBand } from './components/ModeIndicator';
import { NavBar } from './components/NavBar';
import { getBridge } from './bridge';
import { subscribeToEvents } from './events';
import { useDocumentTitle } from './lib/use-document-title';
import { startClock } from './stores/clock-store';
import { useNavStore } from './stores/nav-store';
import { usePendingStore } from './stores/pending-store';
import { useStatusStore } from './stores/status-store';
import { AllowListView } from './views/AllowListView';
import { ApprovalsView } from './views/ApprovalsView';
import { LedgerView } from './views/ledger/LedgerView';
import { PendingView } from './views/pending/PendingView';
import { StatusView } from './views/StatusView';

function CurrentView() {
  const view = useNavStore((s) => s.view);
  switch (view) {
    case 'pending':
      return <PendingView />;
    case 'approvals':
      return <ApprovalsView />;
    case 'allow-list':
      return <AllowListView />;
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
    // Load the queue at once, whatever view is showing, so arrivals are counted everywhere.
    if (usePendingStore.getState().status === 'idle') void usePendingStore.getState().load();
    // The mode is shown on every view (navigation, demo band), and comes with health.
    if (useStatusStore.getState().status === 'idle') void useStatusStore.getState().load();
    return () => {
      unsubscribe();
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
        <ArrivalBanner />
        <CurrentView />
      </main>
    </div>
  );
}
