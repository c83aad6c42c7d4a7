import { useEffect } from 'react';
import { Empty, ErrorState, Loading } from '../../components/StateView';
import { ViewFrame } from '../../components/ViewFrame';
import { useNavStore } from '../../stores/nav-store';
import { selectShown, usePendingStore } from '../../stores/pending-store';
import { useStatusStore } from '../../stores/status-store';
import { DecisionDialog } from './DecisionDialog';
import { OutcomeList } from './OutcomeList';
import { PendingList } from './PendingList';
import { ProposalDetail } from './ProposalDetail';
import { usePendingKeys } from './use-pending-keys';

export function PendingView() {
  const status = usePendingStore((s) => s.status);
  const error = usePendingStore((s) => s.error);
  const items = usePendingStore((s) => s.items);
  const selected = usePendingStore(selectShown);
  const load = usePendingStore((s) => s.load);
  const active = useNavStore((s) => s.view === 'pending');
  usePendingKeys(active);

  useEffect(() => {
    if (usePendingStore.getState().status === 'idle') void load();
    // The confirmation shows the operator key id, which comes with health.
    if (useStatusStore.getState().status === 'idle') void useStatusStore.getState().load();
  }, [load]);

  let body;
  if (status === 'idle' || (status === 'loading' && items.length === 0)) {
    body = <Loading label="Loading the queue…" />;
  } else if (status === 'error' && items.length === 0) {
    body = <ErrorState title="Could not load the queue" message={error ?? 'Unknown error'} onRetry={() => void load()} />;
  } else if (items.length === 0 && !selected) {
    body = (
      <div className="pending-empty">
        <Empty title="Nothing is waiting for you">New proposals from agents appear here the moment they arrive.</Empty>
        <OutcomeList />
      </div>
    );
  } else {
    body = (
      <div className="split">
        <div className="split-list">
          {items.length > 0 ? <PendingList /> : <p className="muted">Nothing else is waiting.</p>}
          <p className="shortcuts muted" aria-hidden="true">
            <kbd>J</kbd>/<kbd>K</kbd> move · <kbd>A</kbd> approve · <kbd>D</kbd> deny · <kbd>E</kbd> escapes · <kbd>X</kbd> more time
          </p>
        </div>
        <div className="split-detail">
          {selected ? <ProposalDetail proposal={selected} /> : <Empty title="Select a proposal" />}
          <OutcomeList />
        </div>
      </div>
    );
  }

  return (
    <ViewFrame
      view="pending"
      title="Pending"
      lead={items.length > 0 ? `${items.length} waiting for a decision` : 'Proposals that need a human decision'}
      onRefresh={load}
    >
      {status === 'error' && items.length > 0 ? (
        <p className="notice notice-error" role="alert" data-testid="pending-refresh-error">
          Could not refresh the queue: {error}
        </p>
      ) : null}
      {body}
      <DecisionDialog />
    </ViewFrame>
  );
}
