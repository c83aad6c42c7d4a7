import { useShallow } from 'zustand/react/shallow';
import { Countdown } from '../components/Countdown';
import { Refreshable } from '../components/Refreshable';
import { Empty } from '../components/StateView';
import { Time } from '../components/Time';
import { ViewFrame } from '../components/ViewFrame';
import { shortHash } from '../lib/format';
import { useRowKeys } from '../lib/use-row-keys';
import { useGrantsStore } from '../stores/grants-store';
import type { GrantDto } from '../../../shared/grant-dto';

const ENDED: Record<Exclude<GrantDto['status'], 'live'>, string> = {
  revoked: 'Revoked',
  expired: 'Expired',
  exhausted: 'Used up',
  restart: 'Ended at restart',
};

function Limit({ g }: { g: GrantDto }) {
  return (
    <>
      {g.uses !== null ? (
        <span className="cell-line" data-testid="grant-uses-left">
          {g.uses - g.usesSpent} of {g.uses} uses left
        </span>
      ) : (
        <span className="cell-line" data-testid="grant-uses-left">
          no use limit, {g.usesSpent} used
        </span>
      )}
      {g.until !== null ? (
        <span className="cell-line small" data-testid="grant-time-left">
          {g.status === 'live' ? (
            <>
              <Countdown expiresAt={g.until} /> left
            </>
          ) : (
            <>
              time limit <Time iso={g.until} />
            </>
          )}
        </span>
      ) : null}
      {g.untilRestart ? <span className="cell-line small muted">until restart</span> : null}
    </>
  );
}

function GrantsTable({ items }: { items: GrantDto[] }) {
  const { onKeyDown, rowProps } = useRowKeys(items.length);
  const revoking = useGrantsStore((s) => s.revoking);
  const revoke = useGrantsStore((s) => s.revoke);
  return (
    <div className="table-wrap">
      <table className="table" data-testid="grants-table" onKeyDown={onKeyDown}>
        <caption className="sr-only">Grants, oldest first. Arrow keys move between rows.</caption>
        <thead>
          <tr>
            <th scope="col">Action</th>
            <th scope="col">Fixed / may vary</th>
            <th scope="col">Left</th>
            <th scope="col">Reason / grant id</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {items.map((g, index) => (
            <tr key={g.id} data-testid="grant-row" {...rowProps(index)}>
              <td className="cell-wrap">
                <code>{g.action}</code>
                {g.agent ? <span className="cell-line small muted">agent {g.agent}</span> : null}
              </td>
              <td className="cell-wrap">
                <code className="mono small">{g.fixed}</code>
                <span className="cell-line small muted">{g.varying.length ? `may vary: ${g.varying.join(', ')}` : 'nothing may vary'}</span>
              </td>
              <td>
                <Limit g={g} />
              </td>
              <td className="cell-wrap">
                {g.reason}
                <span className="cell-line mono small muted" title={g.id}>
                  {shortHash(g.id, 13)} · <Time iso={g.issuedAt} />
                </span>
              </td>
              <td>
                {g.status === 'live' ? (
                  <button
                    type="button"
                    className="btn btn-deny"
                    disabled={revoking !== null}
                    onClick={() => void revoke(g.id)}
                    data-testid="revoke-grant"
                    aria-label={`Revoke the grant for ${g.action} (${shortHash(g.id, 13)})`}
                  >
                    {revoking === g.id ? 'Revoking…' : 'Revoke'}
                  </button>
                ) : (
                  <span className="tag">{ENDED[g.status]}</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function GrantsView() {
  const { status, error, items, load, showEnded, setShowEnded, revokeError } = useGrantsStore(
    useShallow((s) => ({
      status: s.status,
      error: s.error,
      items: s.items,
      load: s.load,
      showEnded: s.showEnded,
      setShowEnded: s.setShowEnded,
      revokeError: s.revokeError,
    })),
  );
  return (
    <ViewFrame
      view="grants"
      title="Grants"
      lead="Kinds of request approved for a while or a number of uses; the ledger's id search finds each grant's receipts"
      onOpen={load}
      onRefresh={load}
      actions={
        <label className="similar-choice">
          <input type="checkbox" checked={showEnded} onChange={(e) => setShowEnded(e.target.checked)} data-testid="grants-show-ended" />{' '}
          Show ended
        </label>
      }
    >
      {revokeError ? (
        <p className="notice notice-error" role="alert">
          {revokeError}
        </p>
      ) : null}
      <Refreshable
        data={items}
        status={status}
        error={error}
        loadingLabel="Loading grants…"
        errorTitle="Could not load grants"
        onRetry={() => void load()}
      >
        {(items) =>
          items.length === 0 ? (
            <Empty title={showEnded ? 'No grants yet' : 'No live grants'}>
              “Approve similar…” in the decision dialog signs a grant: requests like the one approved then run without a new decision,
              within its limit.
            </Empty>
          ) : (
            <GrantsTable items={items} />
          )
        }
      </Refreshable>
    </ViewFrame>
  );
}
