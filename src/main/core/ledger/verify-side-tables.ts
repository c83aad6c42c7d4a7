import type { SqliteDatabase } from '../store/database.ts';
import { receiptBodyProblems } from './verify-receipt-bodies.ts';

/**
 * The side tables hold what the engine decides by (spent nonces, spent approvals); they are
 * not signed, so an edit to them (un-spending an approval, a second use of one) would pass a
 * chain check. Each spent nonce and approval must match exactly one signed receipt, and the
 * other way round. Returns every problem found, each naming the row.
 */
export function sideTableProblems(db: SqliteDatabase, limit = 20): string[] {
  const problems: string[] = [];
  const check = (sql: string, describe: (row: Record<string, unknown>) => string) => {
    if (problems.length >= limit) return;
    for (const row of db.prepare(`${sql} LIMIT ${limit - problems.length}`).all() as Record<string, unknown>[]) {
      problems.push(describe(row));
    }
  };
  const ENDINGS = "('executed', 'refused', 'failed')";

  // Every ended execution is witnessed by its own ending receipt, with its nonce and approval.
  check(
    `SELECT e.id, e.receipt_seq FROM executions e LEFT JOIN receipts r ON r.seq = e.receipt_seq
     WHERE e.status != 'started' AND (r.seq IS NULL OR r.exec_id IS NOT e.id OR r.event NOT IN ${ENDINGS}
       OR json_extract(r.body, '$.nonce') IS NOT e.nonce OR r.approval_id IS NOT e.approval_id)`,
    (r) => `execution ${String(r['id'])} does not match its receipt ${String(r['receipt_seq'] ?? '(none)')}`,
  );
  // …and every ending receipt names an execution that points back at it.
  check(
    `SELECT r.seq, r.exec_id FROM receipts r LEFT JOIN executions e ON e.id = r.exec_id
     WHERE r.event IN ${ENDINGS} AND r.exec_id IS NOT NULL AND (e.id IS NULL OR e.receipt_seq IS NOT r.seq)`,
    (r) => `receipt ${String(r['seq'])} ends execution ${String(r['exec_id'])}, which the executions table does not record as ended by it`,
  );
  // An approval an execution used is recorded as spent by exactly that execution.
  check(
    `SELECT e.id, e.approval_id FROM executions e LEFT JOIN approvals a ON a.approval_id = e.approval_id
     WHERE e.approval_id IS NOT NULL AND a.used_by_exec_id IS NOT e.id`,
    (r) => `approval ${String(r['approval_id'])} authorised execution ${String(r['id'])} but is not recorded as spent by it`,
  );
  check(
    `SELECT a.approval_id, a.used_by_exec_id FROM approvals a LEFT JOIN executions e ON e.id = a.used_by_exec_id
     WHERE a.used_by_exec_id IS NOT NULL AND e.approval_id IS NOT a.approval_id`,
    (r) => `approval ${String(r['approval_id'])} is recorded as spent by execution ${String(r['used_by_exec_id'])}, which did not use it`,
  );
  // One approval, and one signed message, authorise one execution.
  check(
    `SELECT approval_id, count(*) AS n FROM executions WHERE approval_id IS NOT NULL GROUP BY approval_id HAVING n > 1`,
    (r) => `approval ${String(r['approval_id'])} authorised ${String(r['n'])} executions`,
  );
  check(
    `SELECT approval_id, count(DISTINCT exec_id) AS n FROM receipts
     WHERE event IN ${ENDINGS} AND approval_id IS NOT NULL GROUP BY approval_id HAVING n > 1`,
    (r) => `approval ${String(r['approval_id'])} is named by the receipts of ${String(r['n'])} executions`,
  );
  check(
    `SELECT message_hash, count(*) AS n FROM approvals WHERE message_hash IS NOT NULL GROUP BY message_hash HAVING n > 1`,
    (r) => `one signed approval message is recorded under ${String(r['n'])} approval ids`,
  );
  // The bodies receipts commit to by salted hash, and what retention purged.
  if (problems.length < limit) problems.push(...receiptBodyProblems(db, limit - problems.length));
  return problems;
}
