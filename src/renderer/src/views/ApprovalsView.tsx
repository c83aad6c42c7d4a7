import { useShallow } from 'zustand/react/shallow';
import { Refreshable } from '../components/Refreshable';
import { Empty } from '../components/StateView';
import { Time } from '../components/Time';
import { ViewFrame } from '../components/ViewFrame';
import { shortHash } from '../lib/format';
import { useRowKeys } from '../lib/use-row-keys';
import { APPROVALS_LIMIT, useApprovalsStore } from '../stores/approvals-store';
import type { ApprovalDto } from '../../../shared/console-dto';

function ApprovalsTable({ items }: { items: ApprovalDto[] }) {
  const { onKeyDown, rowProps } = useRowKeys(items.length);
  return (
    <div className="table-wrap">
      <table className="table" data-testid="approvals-table" onKeyDown={onKeyDown}>
        <caption className="sr-only">Verified approval artifacts, newest first. Arrow keys move between rows.</caption>
        <thead>
          <tr>
            <th scope="col">Action</th>
            <th scope="col">Approver</th>
            <th scope="col">Issued / expires</th>
            <th scope="col">Used</th>
            <th scope="col">Approval id / key id</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a, index) => (
            <tr key={a.approvalId} data-testid="approval-row" {...rowProps(index)}>
              <td className="cell-wrap">{a.action ?? <span className="muted">unknown</span>}</td>
              <td>
                <span className={`tag tag-${a.approver}`}>{a.approver === 'operator' ? 'Operator' : 'ClawShield'}</span>
                <span className="cell-line cell-line-wrap muted small">tenant {a.tenantId}</span>
              </td>
              <td>
                <Time iso={a.issuedAt} />
                <span className="cell-line small muted">
                  expires <Time iso={a.expiresAt} />
                </span>
              </td>
              <td>
                {a.usedByExecId ? (
                  <span className="tag tag-executed" title={`Execution ${a.usedByExecId}`}>
                    Used<span className="sr-only"> by execution {a.usedByExecId}</span>
                  </span>
                ) : (
                  <span className="tag">Not used</span>
                )}
              </td>
              <td className="mono small">
                <span title={a.approvalId}>{shortHash(a.approvalId, 13)}</span>
                <span className="cell-line muted" title={a.approverKeyId}>
                  key {shortHash(a.approverKeyId, 13)}
                </span>
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

export function ApprovalsView() {
  const { status, error, items, load } = useApprovalsStore(
    useShallow((s) => ({ status: s.status, error: s.error, items: s.items, load: s.load })),
  );
  return (
    <ViewFrame
      view="approvals"
      title="Approvals"
      lead="Verified approval artifacts: who signed, for what, and whether they were used"
      onOpen={load}
      onRefresh={load}
    >
      <Refreshable
        data={items}
        status={status}
        error={error}
        loadingLabel="Loading approvals…"
        errorTitle="Could not load approvals"
        onRetry={() => void load()}
      >
        {(items) =>
          items.length === 0 ? (
            <Empty title="No approvals yet">
              Every approval the boundary verifies — signed here by the operator or by ClawShield — is listed here.
            </Empty>
          ) : (
            <ApprovalsTable items={items} />
          )
        }
      </Refreshable>
    </ViewFrame>
  );
}
