import { Refreshable } from '../components/Refreshable';
import { Empty } from '../components/StateView';
import { ViewFrame } from '../components/ViewFrame';
import { useAllowListStore } from '../stores/allow-list-store';

export function AllowListView() {
  const status = useAllowListStore((s) => s.status);
  const error = useAllowListStore((s) => s.error);
  const list = useAllowListStore((s) => s.list);
  const busy = useAllowListStore((s) => s.busy);
  const changeErrors = useAllowListStore((s) => s.changeErrors);
  const load = useAllowListStore((s) => s.load);
  const setAllowed = useAllowListStore((s) => s.setAllowed);

  return (
    <ViewFrame view="allow-list" title="Allow-list" lead="Which registered actions the boundary may run" onOpen={load} onRefresh={load}>
      <Refreshable
        data={list}
        status={status}
        error={error}
        loadingLabel="Loading the allow-list…"
        errorTitle="Could not load the allow-list"
        onRetry={() => void load()}
      >
        {(list) => (
          <>
            {list.lockedByEnvironment ? (
              <p className="notice notice-info" data-testid="allow-list-locked">
                The allow-list is fixed by <code>OPENEXEC_ALLOWED_ACTIONS</code> in the environment, so it cannot be changed
                here. Change that variable and restart to change it.
              </p>
            ) : null}
            {list.restriction === 'open' ? (
              <p className="notice notice-warn" data-testid="allow-list-open">
                No allow-list is configured: every registered action may run. Turning an action off here creates a list.
              </p>
            ) : null}
            {list.unknownListed.length > 0 ? (
              <p className="notice notice-warn">
                Listed but not implemented by any handler (these can never run): {list.unknownListed.join(', ')}
              </p>
            ) : null}
            {list.entries.length === 0 ? (
              <Empty title="No actions are registered" />
            ) : (
              <ul className="toggles" aria-label="Registered actions" data-testid="allow-list">
                {list.entries.map((entry) => {
                  const id = `allow-${entry.action}`;
                  const disabled = list.lockedByEnvironment || busy.has(entry.action);
                  return (
                    <li key={entry.action} className="toggle-row" data-testid="allow-entry" data-action={entry.action}>
                      <label htmlFor={id} className="toggle-label">
                        <span className="mono">{entry.action}</span>
                        <span className={entry.allowed ? 'tag tag-executed' : 'tag tag-denied'}>
                          {entry.allowed ? 'Allowed' : 'Not allowed'}
                        </span>
                      </label>
                      <input
                        id={id}
                        type="checkbox"
                        role="switch"
                        className="switch"
                        checked={entry.allowed}
                        disabled={disabled}
                        aria-describedby={list.lockedByEnvironment ? 'locked-reason' : undefined}
                        onChange={(e) => void setAllowed(entry.action, e.target.checked)}
                      />
                      {changeErrors[entry.action] ? (
                        <p className="field-error" role="alert">
                          {changeErrors[entry.action]}
                        </p>
                      ) : null}
                    </li>
                  );
                })}
              </ul>
            )}
            <p id="locked-reason" className="muted small">
              {list.lockedByEnvironment
                ? 'Switches are disabled because the environment fixes the list.'
                : 'Each change is written to the ledger as a config receipt.'}
            </p>
          </>
        )}
      </Refreshable>
    </ViewFrame>
  );
}
