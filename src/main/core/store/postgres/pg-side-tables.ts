import type { PgSession } from './pg-session.ts';

const ENDINGS = "('executed', 'refused', 'failed')";

/** A purge receipt `p` that covers receipt `b.seq`: written when the row says, cut-off after the receipt. */
const COVERED_BY_PURGE = `p.event = 'config' AND p.body::jsonb #>> '{details,kind}' = 'purge' AND p.time = b.purged_at
  AND r.time < p.body::jsonb #>> '{details,cutoff}' AND b.seq <= (p.body::jsonb #>> '{details,to_seq}')::bigint`;

/** A side-table row marked purged must be marked with the time of a purge whose cut-off it is older than. */
const purgeReceiptAt = (purgedAt: string, createdAt: string) =>
  `NOT EXISTS (SELECT 1 FROM receipts p WHERE p.event = 'config' AND p.time = ${purgedAt}
     AND p.body::jsonb #>> '{details,kind}' = 'purge' AND ${createdAt} < p.body::jsonb #>> '{details,cutoff}')`;

/** Each check: a query, and the words for one row it finds. */
const CHECKS: readonly [string, (row: Record<string, unknown>) => string][] = [
  // Every ended execution is witnessed by its own ending receipt, with its nonce and approval.
  [
    `SELECT e.id, e.receipt_seq FROM executions e LEFT JOIN receipts r ON r.seq = e.receipt_seq
     WHERE e.status <> 'started' AND (r.seq IS NULL OR r.exec_id IS DISTINCT FROM e.id OR r.event NOT IN ${ENDINGS}
       OR r.body::jsonb ->> 'nonce' IS DISTINCT FROM e.nonce OR r.approval_id IS DISTINCT FROM e.approval_id)`,
    (r) => `execution ${String(r['id'])} does not match its receipt ${String(r['receipt_seq'] ?? '(none)')}`,
  ],
  // …and every ending receipt names an execution that points back at it.
  [
    `SELECT r.seq, r.exec_id FROM receipts r LEFT JOIN executions e ON e.id = r.exec_id
     WHERE r.event IN ${ENDINGS} AND r.exec_id IS NOT NULL AND (e.id IS NULL OR e.receipt_seq IS DISTINCT FROM r.seq)`,
    (r) => `receipt ${String(r['seq'])} ends execution ${String(r['exec_id'])}, which the executions table does not record as ended by it`,
  ],
  // An approval an execution used is recorded as spent by exactly that execution.
  [
    `SELECT e.id, e.approval_id FROM executions e LEFT JOIN approvals a ON a.approval_id = e.approval_id
     WHERE e.approval_id IS NOT NULL AND a.used_by_exec_id IS DISTINCT FROM e.id`,
    (r) => `approval ${String(r['approval_id'])} authorised execution ${String(r['id'])} but is not recorded as spent by it`,
  ],
  [
    `SELECT a.approval_id, a.used_by_exec_id FROM approvals a LEFT JOIN executions e ON e.id = a.used_by_exec_id
     WHERE e.approval_id IS DISTINCT FROM a.approval_id`,
    (r) => `approval ${String(r['approval_id'])} is recorded as spent by execution ${String(r['used_by_exec_id'])}, which did not use it`,
  ],
  // One approval, and one signed message, authorise one execution.
  [
    `SELECT approval_id, count(*) AS n FROM executions WHERE approval_id IS NOT NULL GROUP BY approval_id HAVING count(*) > 1`,
    (r) => `approval ${String(r['approval_id'])} authorised ${String(r['n'])} executions`,
  ],
  [
    `SELECT approval_id, count(DISTINCT exec_id) AS n FROM receipts
     WHERE event IN ${ENDINGS} AND approval_id IS NOT NULL GROUP BY approval_id HAVING count(DISTINCT exec_id) > 1`,
    (r) => `approval ${String(r['approval_id'])} is named by the receipts of ${String(r['n'])} executions`,
  ],
  // What retention purged must have been purged by a purge receipt that covers it (the kept
  // bodies themselves are checked against their salted hashes in the walk, pg-ledger-walk.ts).
  [
    `SELECT b.seq, b.field FROM receipt_bodies b JOIN receipts r ON r.seq = b.seq LEFT JOIN receipts p ON p.seq = b.purge_seq
     WHERE b.purged_at IS NOT NULL AND (p.seq IS NULL OR NOT (${COVERED_BY_PURGE}))`,
    (r) => `receipt ${String(r['seq'])}'s ${String(r['field'])} body is gone, but no purge receipt covers it`,
  ],
  [
    `SELECT e.id, e.receipt_seq FROM executions e JOIN receipt_bodies b ON b.seq = e.receipt_seq AND b.field = 'result'
     WHERE b.body IS NOT NULL AND e.result IS DISTINCT FROM b.body`,
    (r) => `execution ${String(r['id'])} keeps a result other than the one its receipt ${String(r['receipt_seq'])} commits to`,
  ],
  [
    `SELECT e.id FROM executions e WHERE e.purged_at IS NOT NULL AND ${purgeReceiptAt('e.purged_at', 'e.created_at')}`,
    (r) => `execution ${String(r['id'])} is marked purged, but no purge receipt was written then`,
  ],
  [
    `SELECT id FROM proposals WHERE purged_at IS NOT NULL AND ${purgeReceiptAt('proposals.purged_at', 'proposals.created_at')}`,
    (r) => `proposal ${String(r['id'])} is marked purged, but no purge receipt was written then`,
  ],
];

/**
 * The side tables on PostgreSQL held to the receipts, as on SQLite (verify-side-tables.ts):
 * the tables the engine decides by (spent nonces, spent approvals) are not signed, so each
 * spent nonce and approval must match exactly one signed receipt, and the other way round.
 * (The approvals table's unique message hash already refuses one message under two ids.)
 * Returns up to `limit` problems, each naming the row.
 */
export async function postgresSideTableProblems(client: PgSession, limit = 20): Promise<string[]> {
  const problems: string[] = [];
  for (const [sql, describe] of CHECKS) {
    if (problems.length >= limit) break;
    const { rows } = await client.query<Record<string, unknown>>(`${sql} LIMIT ${limit - problems.length}`);
    problems.push(...rows.map(describe));
  }
  return problems;
}
