import type { ApproverKeys } from '../../approval/check-evidence.ts';
import type { Ed25519Verifier } from '../../crypto/ed25519.ts';
import type { ReceiptRow } from '../../ledger/receipt-row.ts';
import { checkSignedReceipt, type SignedReceiptCheck } from '../../ledger/verify-ledger.ts';

/**
 * The columns PostgreSQL's receipts table keeps beside the signed body (SQLite generates them
 * from the body instead: receipts-layout.ts): search, filters and the CLI read them, so each
 * must say what the signed body says.
 */
const COPIED_COLUMNS = [
  'event',
  'time',
  'action',
  'reason',
  'exec_id',
  'proposal_id',
  'approval_id',
  'approver_key_id',
  'request_hash',
  'grant_id',
] as const satisfies readonly (keyof ReceiptRow)[];

/** Everything wrong with one stored receipt, judged on its own (not its link). */
function receiptProblems(row: ReceiptRow, verifier: Ed25519Verifier, approvers: ApproverKeys | null): SignedReceiptCheck {
  const check = checkSignedReceipt(row, verifier, approvers);
  if (check.body) {
    for (const column of COPIED_COLUMNS) {
      if ((check.body[column] ?? null) !== row[column]) check.problems.push(`stored ${column} differs from the signed body`);
    }
  }
  return check;
}

/**
 * One stored receipt judged on its own (not its link) with the key it must be signed by: what
 * the SQLite ledger checks, plus the `agent` column, which search and the console's filters read
 * too (a column of its own on PostgreSQL).
 */
export function checkStoredReceipt(
  row: ReceiptRow,
  agent: string | null,
  verifier: Ed25519Verifier,
  approvers: ApproverKeys | null,
): SignedReceiptCheck {
  const check = receiptProblems(row, verifier, approvers);
  if (check.body !== null && (check.body['agent'] ?? null) !== agent) check.problems.push('stored agent differs from the signed body');
  return check;
}

/** A receipt as stored, with the `agent` column and the id of the registered key it must be signed by. */
export interface CheckRow {
  row: ReceiptRow;
  agent: string | null;
  keyId: string;
}

/** Receipts in seq order, with the public keys (PEM) of the keys they name. */
export interface ReceiptBatch {
  keys: [keyId: string, publicKeyPem: string][];
  rows: CheckRow[];
}

export interface BatchVerdict {
  /** The first receipt of the batch that does not hold. */
  bad: { seq: number; problem: string } | null;
  /** Receipts that held before it (all of them when none failed). */
  checked: number;
  /** Of those, how many name an approval but keep no evidence of it. */
  evidenceAbsent: number;
}

/**
 * Each receipt judged on its own, as the SQLite walk judges it (hash, signature by its key,
 * body seq and link, the stored columns against the signed body, approval evidence), plus the
 * `agent` column PostgreSQL keeps. The costly part of verification (Ed25519), run on the
 * verifier threads (pg-receipt-check-worker.ts).
 */
export function checkBatch(
  rows: readonly CheckRow[],
  verifierOf: (keyId: string) => Ed25519Verifier,
  approvers: ApproverKeys | null,
): BatchVerdict {
  let evidenceAbsent = 0;
  for (const [i, { row, agent, keyId }] of rows.entries()) {
    const check = checkStoredReceipt(row, agent, verifierOf(keyId), approvers);
    if (check.problems.length > 0) return { bad: { seq: row.seq, problem: check.problems.join('; ') }, checked: i, evidenceAbsent };
    if (check.evidenceAbsent) evidenceAbsent++;
  }
  return { bad: null, checked: rows.length, evidenceAbsent };
}
