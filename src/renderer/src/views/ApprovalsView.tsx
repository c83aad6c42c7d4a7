import { useEffect } from 'react';
import { Empty, ErrorState, Loading } from '../components/StateView';
import { formatTime, shortHash } from '../lib/format';
import { APPROVALS_LIMIT, useApprovalsStore } from '../stores/approvals-store';

export function ApprovalsView() {
  const status = useApprovalsStore((s) => s.status);
  const error = useApprovalsStore((s) => s.error);
  const items = useApprovalsStore((s) => s.items);
  const load = useApprovalsStore((s) => s.load);

  useEffect(() => {
    void load();
  }, [load]);

  let body;
  if (status === 'idle' || (status === 'loading' && items.length === 0)) body = <Loading label="Loading approvals…" />;
  else if (status === 'error') {
    body = <ErrorState title="Could not load approvals" message={error ?? 'Unknown error'} onRetry={() => void load()} />;
  } else if (items.length === 0) {
    body = (
      <Empty title="No approvals yet">
        Every approval the boundary verifies — signed here by the operator or by ClawShield — is listed here.
      </Empty>
    );
  } else {
    body = (
      <div className="table-wrap">
        <table className="table" data-testid="approvals-table">
          <caption className="sr-only">Verified approval artifacts, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">Approver</th>
              <th scope="col">Key id</th>
              <th scope="col">Tenant</th>
              <th scope="col">Issued</th>
              <th scope="col">Expires</th>
              <th scope="col">Used</th>
              <th scope="col">Approval id</th>
            </tr>
          </thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.approvalId} data-testid="approval-row">
                <td>{a.action ?? <span className="muted">unknown</span>}</td>
                <td>
                  <span className={`tag tag-${a.approver}`}>{a.approver === 'operator' ? 'Operator' : 'ClawShield'}</span>
                </td>
                <td className="mono" title={a.approverKeyId}>
                  {shortHash(a.approverKeyId, 16)}
                </td>
                <td>{a.tenantId}</td>
                <td>{formatTime(a.issuedAt)}</td>
                <td>{formatTime(a.expiresAt)}</td>
                <td>
                  {a.usedByExecId ? (
                    <span className="tag tag-executed" title={`Execution ${a.usedByExecId}`}>
                      Used
                    </span>
                  ) : (
                    <span className="tag">Not used</span>
                  )}
                </td>
                <td className="mono" title={a.approvalId}>
                  {shortHash(a.approvalId, 13)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {items.length >= APPROVALS_LIMIT ? (
          <p className="muted table-note">Showing the newest {APPROVALS_LIMIT}. Search the ledger for older ones.</p>
        ) : null}
      </div>
    );
  }

  return (
    <section className="view" aria-labelledby="approvals-heading" data-testid="view-approvals">
      <header className="view-header">
        <h1 id="approvals-heading">Approvals</h1>
        <p className="muted">Verified approval artifacts: who signed, for what, and whether they were used</p>
        <button type="button" className="btn btn-ghost" onClick={() => void load()}>
          Refresh
        </button>
      </header>
      {body}
    </section>
  );
}
