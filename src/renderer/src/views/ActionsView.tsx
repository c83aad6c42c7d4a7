import type { ActionInfoDto } from '../../../shared/console-dto';
import { CodeBlock } from '../components/CodeBlock';
import { Refreshable } from '../components/Refreshable';
import { Empty } from '../components/StateView';
import { ViewFrame } from '../components/ViewFrame';
import { useAllowListStore } from '../stores/allow-list-store';

const RISK_TAG: Record<NonNullable<ActionInfoDto['risk']>, string> = { low: 'tag-executed', medium: 'tag-expired', high: 'tag-denied' };

/** What an action is and does, before any payload: kind, risk, its definition and schema. */
function ActionInfo({ info }: { info: ActionInfoDto }) {
  const hints = [info.annotations?.readOnlyHint ? 'read-only' : null, info.annotations?.destructiveHint ? 'destructive' : null].filter(
    Boolean,
  );
  return (
    <div className="action-info" data-testid="action-info">
      <p className="action-meta">
        <span className="tag tag-config" data-testid="action-kind">
          {info.kind === 'builtin' ? 'built-in' : info.kind}
        </span>
        {info.risk ? (
          <span className={`tag ${RISK_TAG[info.risk]}`} data-testid="action-risk">
            {info.risk} risk
          </span>
        ) : null}
        {hints.map((h) => (
          <span key={h} className="tag">
            {h}
          </span>
        ))}
        {info.quorum !== null ? (
          <span
            className="tag tag-config"
            data-testid="action-quorum"
            title="Each proposal needs this many distinct operator keys to approve it"
          >
            needs {info.quorum} operators
          </span>
        ) : null}
        <span className="muted">{info.description}</span>
      </p>
      <CodeBlock text={info.does.join('\n')} label="What it does" testId="action-does" />
      {info.payloadSchema ? (
        <details>
          <summary>Payload schema</summary>
          <CodeBlock text={info.payloadSchema} label="Payload schema" />
        </details>
      ) : null}
      {info.definitionHash ? (
        <p className="muted small">
          Definition sha256 <span className="mono">{info.definitionHash}</span>
        </p>
      ) : null}
    </div>
  );
}

export function ActionsView() {
  const status = useAllowListStore((s) => s.status);
  const error = useAllowListStore((s) => s.error);
  const list = useAllowListStore((s) => s.list);
  const busy = useAllowListStore((s) => s.busy);
  const changeErrors = useAllowListStore((s) => s.changeErrors);
  const load = useAllowListStore((s) => s.load);
  const setAllowed = useAllowListStore((s) => s.setAllowed);

  return (
    <ViewFrame
      view="allow-list"
      title="Actions"
      lead="Every action the boundary knows, what it does, and whether it may run"
      onOpen={load}
      onRefresh={load}
    >
      <Refreshable
        data={list}
        status={status}
        error={error}
        loadingLabel="Loading the actions…"
        errorTitle="Could not load the actions"
        onRetry={() => void load()}
      >
        {(list) => (
          <>
            {list.lockedByEnvironment ? (
              <p className="notice notice-info" data-testid="allow-list-locked">
                The allow-list is fixed by <code>OPENEXEC_ALLOWED_ACTIONS</code> in the environment, so it cannot be changed here. Change
                that variable and restart to change it.
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
              <ul className="toggles" aria-label="Actions" data-testid="allow-list">
                {list.entries.map((entry) => {
                  const id = `allow-${entry.action}`;
                  const disabled = list.lockedByEnvironment || busy.has(entry.action);
                  return (
                    <li key={entry.action} className="toggle-row" data-testid="allow-entry" data-action={entry.action}>
                      <label htmlFor={id} className="toggle-label">
                        <span className="mono action-name">{entry.action}</span>
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
                      {entry.info ? <ActionInfo info={entry.info} /> : null}
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
