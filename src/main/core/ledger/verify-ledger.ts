import type { SqliteDatabase } from '../store/database.ts';
import { decodeSignatureBase64, type Ed25519Verifier } from '../crypto/ed25519.ts';
import { parseJson } from '../json/parse.ts';
import { isJsonObject } from '../json/json-value.ts';
import { sha256Hex } from '../json/request-hash.ts';
import type { ChainCheckDto, ChainRangeDto, ReceiptCheckDto } from '../../../shared/console-dto.ts';
import { Refusal } from '../errors.ts';
import { GENESIS_PREV_HASH } from './receipt-body.ts';
import { GENERATED_BODY_FIELDS, STORED_BODY_FIELDS } from './receipts-layout.ts';
import { rowFromStored, STORED_RECEIPT_COLUMNS, type StoredReceiptRow } from './receipt-row.ts';
import { evidenceProblem, type ApproverKeys } from '../approval/check-evidence.ts';

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

/**
 * What a stored receipt is judged by: what the table stores (receipts-layout.ts), the body's
 * prev_hash (read by rowFromStored), and every column search, filters and the side-table checks
 * read. OpenExec's table generates all but the event and the action from the body, but whoever
 * rewrites the file can rebuild the table with plain columns that say something else (an
 * approval un-spent in the side tables and in the receipts' approval_id alike), so each one is
 * held to the signed body here whatever the schema says.
 */
const JUDGED_COLUMNS = [...STORED_BODY_FIELDS, ...GENERATED_BODY_FIELDS] as const;
const STORED_RECEIPT = `${STORED_RECEIPT_COLUMNS}, ${JUDGED_COLUMNS.join(', ')}`;

type JudgedColumn = (typeof JUDGED_COLUMNS)[number];
type StoredRow = StoredReceiptRow & Record<JudgedColumn, unknown>;

interface StoredReceipt extends SignedReceipt {
  columns: Record<JudgedColumn, unknown>;
}

/** Read with no generated column, so a body that is not JSON is reported, not an error. */
function storedReceipt(row: StoredRow): StoredReceipt {
  const { seq, hash, prev_hash, body, signature } = rowFromStored(row);
  const columns = Object.fromEntries(JUDGED_COLUMNS.map((c) => [c, row[c]])) as Record<JudgedColumn, unknown>;
  return { seq, hash, prev_hash, body, signature, columns };
}

/** Everything wrong with one stored receipt, judged on its own (not its link). */
function receiptProblems(row: StoredReceipt, verifier: Ed25519Verifier, approvers: ApproverKeys | null): SignedReceiptCheck {
  const check = checkSignedReceipt(row, verifier, approvers);
  // Search, filters and the side-table checks read these columns, so each must say what the signed body says.
  if (check.body) {
    for (const column of JUDGED_COLUMNS) {
      if ((check.body[column] ?? null) !== row.columns[column]) check.problems.push(`stored ${column} differs from the signed body`);
    }
  }
  return check;
}

/**
 * Receipts that name the approval that authorised an ending but keep no evidence of it
 * (written before evidence was recorded, or closing an interrupted execution).
 */
export function approvalsWithoutEvidence(db: SqliteDatabase): number {
  return db
    .prepare(
      `SELECT count(*) FROM receipts WHERE event IN ('executed', 'failed', 'refused')
         AND approval_id IS NOT NULL AND json_extract(body, '$.approval') IS NULL`,
    )
    .pluck()
    .get() as number;
}

/** Where a chunk of the chain stopped holding, and why. */
export interface RangeBreak {
  seq: number;
  problem: string;
}

/** A chunk's verdict: `nextSeq` only when it held and the ledger goes on past it (either engine's walk). */
export function rangeVerdict(
  fromSeq: number,
  lastSeq: number,
  checked: number,
  bad: RangeBreak | null,
  nextSeq: number | null,
): ChainRangeDto {
  return {
    fromSeq,
    checked,
    nextSeq: bad ? null : nextSeq,
    lastSeq,
    valid: bad === null,
    firstBadSeq: bad?.seq ?? null,
    problem: bad?.problem ?? null,
  };
}

/**
 * Checks `limit` receipts from `fromSeq` upwards: each one's hash, signature, signed columns,
 * sequence and link to the receipt before it. The link into the chunk is checked against the
 * stored hash of `fromSeq - 1`, which the chunk before verified (its hash is recomputed there
 * from its body), so chunks run one after the other add up to the whole chain.
 */
export function verifyChainRange(
  db: SqliteDatabase,
  verifier: Ed25519Verifier,
  fromSeq: number,
  limit: number,
  approvers: ApproverKeys | null = null,
): ChainRangeDto {
  const lastSeq = db.prepare('SELECT coalesce(max(seq), 0) FROM receipts').pluck().get() as number;
  if (fromSeq > 1 && fromSeq > lastSeq) throw new Refusal('not_found', `No receipt ${fromSeq}: the ledger ends at ${lastSeq}`);
  let checked = 0;
  const result = (bad: RangeBreak | null, nextSeq: number | null) => rangeVerdict(fromSeq, lastSeq, checked, bad, nextSeq);
  let prevHash = GENESIS_PREV_HASH;
  // seq is an INTEGER PRIMARY KEY and INSERT is not refused by the append-only triggers, so a
  // row can be put at 0 or below, where a walk from 1 never looks but search still shows it.
  const below =
    fromSeq === 1
      ? (db.prepare('SELECT seq FROM receipts WHERE seq < 1 ORDER BY seq LIMIT 1').pluck().get() as number | undefined)
      : undefined;
  if (below !== undefined) return result({ seq: below, problem: `receipt ${below} is outside the chain: seq must not be below 1` }, null);
  if (fromSeq > 1) {
    const prev = db
      .prepare('SELECT hash FROM receipts WHERE seq = ?')
      .pluck()
      .get(fromSeq - 1) as string | undefined;
    if (prev === undefined) return result({ seq: fromSeq - 1, problem: `sequence gap: receipt ${fromSeq - 1} is missing` }, null);
    prevHash = prev;
  }
  let expectedSeq = fromSeq;
  const rows = db
    .prepare(`SELECT ${STORED_RECEIPT} FROM receipts WHERE seq >= ? ORDER BY seq LIMIT ?`)
    .iterate(fromSeq, limit) as IterableIterator<StoredRow>;
  try {
    for (const stored of rows) {
      const row = storedReceipt(stored);
      const bad = (problem: string) => ({ seq: row.seq, problem });
      if (row.seq !== expectedSeq) return result(bad(`sequence gap: expected ${expectedSeq}, found ${row.seq}`), null);
      if (row.prev_hash !== prevHash) return result(bad("link broken: prev_hash is not the previous receipt's hash"), null);
      const { problems } = receiptProblems(row, verifier, approvers);
      if (problems.length > 0) return result(bad(problems.join('; ')), null);
      checked++;
      expectedSeq++;
      prevHash = row.hash;
    }
  } catch (err) {
    // Only a body in this range explains an error in it.
    const notJson = firstBodyNotJson(db, expectedSeq);
    if (notJson === null || notJson >= fromSeq + limit) throw err;
    return result({ seq: notJson, problem: BODY_NOT_JSON }, null);
  }
  return result(null, checked === limit && expectedSeq <= lastSeq ? expectedSeq : null);
}

/**
 * Why a receipt whose body SQLite cannot parse stops the walk. OpenExec's table computes its
 * columns from the body on every write, so it cannot hold one; a table rebuilt around such a
 * row (columns added afterwards are not checked against existing rows) can, and reading any of
 * those columns of that row is then an SQLite error rather than a value to compare.
 */
export const BODY_NOT_JSON = 'body is not valid JSON, so none of its columns can be read: the receipts table was rebuilt around it';

/** The first receipt from `fromSeq` whose body is not JSON (reading seq and body only), or null. */
export function firstBodyNotJson(db: SqliteDatabase, fromSeq = Number.MIN_SAFE_INTEGER): number | null {
  return (
    (db.prepare('SELECT seq FROM receipts WHERE seq >= ? AND NOT json_valid(body) ORDER BY seq LIMIT 1').pluck().get(fromSeq) as
      number | undefined) ?? null
  );
}

/** Walks the whole chain in order and reports the first receipt that does not hold. */
export function verifyChain(db: SqliteDatabase, verifier: Ed25519Verifier, approvers: ApproverKeys | null = null): ChainCheckDto {
  let checked = 0;
  let from: number | null = 1;
  while (from !== null) {
    const chunk = verifyChainRange(db, verifier, from, 10_000, approvers);
    checked += chunk.checked;
    if (!chunk.valid) return { valid: false, checked, firstBadSeq: chunk.firstBadSeq, problem: chunk.problem };
    from = chunk.nextSeq;
  }
  return { valid: true, checked, firstBadSeq: null, problem: null };
}

export function verifyOneReceipt(
  db: SqliteDatabase,
  verifier: Ed25519Verifier,
  seq: number,
  approvers: ApproverKeys | null = null,
): ReceiptCheckDto | null {
  const select = db.prepare(`SELECT ${STORED_RECEIPT} FROM receipts WHERE seq = ?`);
  const read = (s: number) => {
    const stored = select.get(s) as StoredRow | undefined;
    return stored ? storedReceipt(stored) : undefined;
  };
  let row: StoredReceipt | undefined;
  try {
    row = read(seq);
  } catch (err) {
    // Its columns are read out of its body; one SQLite cannot parse is this receipt's verdict.
    if (firstBodyNotJson(db, seq) !== seq) throw err;
    const bad = { hashValid: false, signatureValid: false, linkValid: false, inLedger: true, valid: false };
    return { seq, ...bad, problems: [BODY_NOT_JSON] };
  }
  if (!row) return null;
  const { hash, signature, problems } = receiptProblems(row, verifier, approvers);
  let prev: StoredReceipt | undefined;
  let prevUnreadable = false;
  try {
    prev = seq > 1 ? read(seq - 1) : undefined;
  } catch (err) {
    if (firstBodyNotJson(db, seq - 1) !== seq - 1) throw err;
    prevUnreadable = true;
  }
  const expectedPrev = seq === 1 ? GENESIS_PREV_HASH : prev?.hash;
  const linkValid = expectedPrev !== undefined && row.prev_hash === expectedPrev;
  if (prevUnreadable) problems.push(`link not checked: receipt ${seq - 1}'s ${BODY_NOT_JSON}`);
  else if (!linkValid) problems.push("link broken: prev_hash is not the previous receipt's hash");
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

/**
 * The last `count` receipts, each judged and linked to the one before it (the first of them
 * to its stored predecessor): a quick check for doctor, not a substitute for `verifyChain`.
 */
export function verifyTail(db: SqliteDatabase, verifier: Ed25519Verifier, count: number): ChainCheckDto {
  const head = db.prepare('SELECT coalesce(max(seq), 0) FROM receipts').pluck().get() as number;
  const from = Math.max(1, head - count + 1);
  const range = verifyChainRange(db, verifier, from, count);
  return { valid: range.valid, checked: range.checked, firstBadSeq: range.firstBadSeq, problem: range.problem };
}
