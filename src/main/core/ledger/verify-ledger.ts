import type { SqliteDatabase } from '../store/database.ts';
import { decodeSignatureBase64, type Ed25519Verifier } from '../crypto/ed25519.ts';
import { parseJson } from '../json/parse.ts';
import { isJsonObject } from '../json/json-value.ts';
import { sha256Hex } from '../json/request-hash.ts';
import type { ChainCheckDto, ReceiptCheckDto } from '../../../shared/console-dto.ts';
import { GENESIS_PREV_HASH } from './receipt-body.ts';
import { RECEIPT_COLUMNS, type ReceiptRow } from './receipt-row.ts';
import { evidenceProblem, type ApproverKeys } from '../approval/check-evidence.ts';

const SIGNED_COLUMNS = [
  'event',
  'time',
  'action',
  'reason',
  'exec_id',
  'proposal_id',
  'approval_id',
  'approver_key_id',
  'request_hash',
] as const satisfies readonly (keyof ReceiptRow)[];

/** A receipt as stored or exported: the fields its signature and hash cover. */
export interface SignedReceipt {
  seq: number;
  hash: string;
  prev_hash: string;
  body: string;
  signature: string;
}

export interface SignedReceiptCheck {
  hash: boolean;
  signature: boolean;
  problems: string[];
  /** The parsed body, or null when it is not a JSON object. */
  body: Record<string, unknown> | null;
  /** True when the receipt names an approval but keeps no evidence of it. */
  evidenceAbsent: boolean;
}

/**
 * Everything wrong with one receipt judged on its own (not its link): its hash, its
 * signature by the receipt key, its body's seq and prev_hash, and its approval evidence
 * (its signature only when approver keys are given: null checks the evidence's form alone).
 */
export function checkSignedReceipt(r: SignedReceipt, verifier: Ed25519Verifier, approvers: ApproverKeys | null): SignedReceiptCheck {
  const problems: string[] = [];
  const bodyBytes = Buffer.from(r.body, 'utf8');
  const hash = sha256Hex(bodyBytes) === r.hash;
  if (!hash) problems.push('hash does not match the receipt body');
  const signatureBytes = decodeSignatureBase64(r.signature);
  const signature = signatureBytes !== null && verifier.verify(bodyBytes, signatureBytes);
  if (signatureBytes === null) problems.push('signature is not strict base64 of 64 bytes');
  else if (!signature) problems.push('signature does not verify with the receipt key');
  let body;
  try {
    body = parseJson(r.body);
  } catch {
    problems.push('body is not valid JSON');
    return { hash, signature, problems, body: null, evidenceAbsent: false };
  }
  if (!isJsonObject(body)) {
    problems.push('body is not a JSON object');
    return { hash, signature, problems, body: null, evidenceAbsent: false };
  }
  if (body['seq'] !== BigInt(r.seq)) problems.push('body seq differs from the stored sequence number');
  if (body['prev_hash'] !== r.prev_hash) problems.push('body prev_hash differs from the stored link');
  if (body['receipt_key_id'] !== verifier.keyId) problems.push('signed by a different receipt key');
  const evidence = evidenceProblem(body, approvers);
  if (evidence.problem !== null) problems.push(evidence.problem);
  return { hash, signature, problems, body, evidenceAbsent: evidence.absent };
}

/** Everything wrong with one stored receipt, judged on its own (not its link). */
function receiptProblems(row: ReceiptRow, verifier: Ed25519Verifier, approvers: ApproverKeys | null): SignedReceiptCheck {
  const check = checkSignedReceipt(row, verifier, approvers);
  const { body } = check;
  // Search, filters and the CLI read these columns, so each must say what the signed body says.
  if (body) {
    for (const column of SIGNED_COLUMNS) {
      if ((body[column] ?? null) !== row[column]) check.problems.push(`stored ${column} differs from the signed body`);
    }
  }
  return check;
}

export interface ChainVerdict extends ChainCheckDto {
  /** Receipts that name an approval but keep no evidence of it (see evidenceProblem). */
  approvalsWithoutEvidence: number;
}

/** Walks the whole chain in order and reports the first receipt that does not hold. */
export function verifyChain(db: SqliteDatabase, verifier: Ed25519Verifier, approvers: ApproverKeys | null = null): ChainVerdict {
  let expectedSeq = 1;
  let prevHash = GENESIS_PREV_HASH;
  let checked = 0;
  let approvalsWithoutEvidence = 0;
  const rows = db.prepare(`SELECT ${RECEIPT_COLUMNS} FROM receipts ORDER BY seq`).iterate() as IterableIterator<ReceiptRow>;
  for (const row of rows) {
    const bad = (problem: string): ChainVerdict => ({ valid: false, checked, firstBadSeq: row.seq, problem, approvalsWithoutEvidence });
    if (row.seq !== expectedSeq) return bad(`sequence gap: expected ${expectedSeq}, found ${row.seq}`);
    if (row.prev_hash !== prevHash) return bad('link broken: prev_hash is not the previous receipt\'s hash');
    const { problems, evidenceAbsent } = receiptProblems(row, verifier, approvers);
    if (problems.length > 0) return bad(problems.join('; '));
    if (evidenceAbsent) approvalsWithoutEvidence++;
    checked++;
    expectedSeq++;
    prevHash = row.hash;
  }
  return { valid: true, checked, firstBadSeq: null, problem: null, approvalsWithoutEvidence };
}

export function verifyOneReceipt(db: SqliteDatabase, verifier: Ed25519Verifier, seq: number, approvers: ApproverKeys | null = null): ReceiptCheckDto | null {
  const select = db.prepare(`SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE seq = ?`);
  const row = select.get(seq) as ReceiptRow | undefined;
  if (!row) return null;
  const { hash, signature, problems } = receiptProblems(row, verifier, approvers);
  const prev = seq > 1 ? (select.get(seq - 1) as ReceiptRow | undefined) : undefined;
  const expectedPrev = seq === 1 ? GENESIS_PREV_HASH : prev?.hash;
  const linkValid = expectedPrev !== undefined && row.prev_hash === expectedPrev;
  if (!linkValid) problems.push('link broken: prev_hash is not the previous receipt\'s hash');
  return {
    seq,
    hashValid: hash,
    signatureValid: signature,
    linkValid,
    inLedger: true,
    valid: problems.length === 0,
    problems,
  };
}
