import type { SqliteDatabase } from '../store/database.ts';
import { decodeSignatureBase64, type Ed25519Verifier } from '../crypto/ed25519.ts';
import { parseJson } from '../json/parse.ts';
import { isJsonObject } from '../json/json-value.ts';
import { sha256Hex } from '../json/request-hash.ts';
import type { ChainCheckDto, ChainRangeDto, ReceiptCheckDto } from '../../../shared/console-dto.ts';
import { Refusal } from '../errors.ts';
import { GENESIS_PREV_HASH } from './receipt-body.ts';
import { RECEIPT_COLUMNS, type ReceiptRow } from './receipt-row.ts';

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
  'grant_id',
] as const satisfies readonly (keyof ReceiptRow)[];

/** Everything wrong with one stored receipt, judged on its own (not its link). */
function receiptProblems(row: ReceiptRow, verifier: Ed25519Verifier): { hash: boolean; signature: boolean; problems: string[] } {
  const problems: string[] = [];
  const bodyBytes = Buffer.from(row.body, 'utf8');
  const hash = sha256Hex(bodyBytes) === row.hash;
  if (!hash) problems.push('hash does not match the receipt body');
  const signatureBytes = decodeSignatureBase64(row.signature);
  const signature = signatureBytes !== null && verifier.verify(bodyBytes, signatureBytes);
  if (signatureBytes === null) problems.push('signature is not strict base64 of 64 bytes');
  else if (!signature) problems.push('signature does not verify with the receipt key');
  let body;
  try {
    body = parseJson(row.body);
  } catch {
    problems.push('body is not valid JSON');
    return { hash, signature, problems };
  }
  if (!isJsonObject(body)) {
    problems.push('body is not a JSON object');
    return { hash, signature, problems };
  }
  if (body['seq'] !== BigInt(row.seq)) problems.push('body seq differs from the stored sequence number');
  if (body['prev_hash'] !== row.prev_hash) problems.push('body prev_hash differs from the stored link');
  // Search, filters and the CLI read these columns, so each must say what the signed body says.
  for (const column of SIGNED_COLUMNS) {
    if ((body[column] ?? null) !== row[column]) problems.push(`stored ${column} differs from the signed body`);
  }
  if (body['receipt_key_id'] !== verifier.keyId) problems.push('signed by a different receipt key');
  return { hash, signature, problems };
}

/**
 * Checks `limit` receipts from `fromSeq` upwards: each one's hash, signature, signed columns,
 * sequence and link to the receipt before it. The link into the chunk is checked against the
 * stored hash of `fromSeq - 1`, which the chunk before verified (its hash is recomputed there
 * from its body), so chunks run one after the other add up to the whole chain.
 */
export function verifyChainRange(db: SqliteDatabase, verifier: Ed25519Verifier, fromSeq: number, limit: number): ChainRangeDto {
  const lastSeq = db.prepare('SELECT coalesce(max(seq), 0) FROM receipts').pluck().get() as number;
  if (fromSeq > 1 && fromSeq > lastSeq) throw new Refusal('not_found', `No receipt ${fromSeq}: the ledger ends at ${lastSeq}`);
  let checked = 0;
  const result = (bad: { seq: number; problem: string } | null, nextSeq: number | null): ChainRangeDto => ({
    fromSeq,
    checked,
    nextSeq: bad ? null : nextSeq,
    lastSeq,
    valid: bad === null,
    firstBadSeq: bad?.seq ?? null,
    problem: bad?.problem ?? null,
  });
  let prevHash = GENESIS_PREV_HASH;
  if (fromSeq > 1) {
    const prev = db.prepare('SELECT hash FROM receipts WHERE seq = ?').pluck().get(fromSeq - 1) as string | undefined;
    if (prev === undefined) return result({ seq: fromSeq - 1, problem: `sequence gap: receipt ${fromSeq - 1} is missing` }, null);
    prevHash = prev;
  }
  let expectedSeq = fromSeq;
  const rows = db
    .prepare(`SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE seq >= ? ORDER BY seq LIMIT ?`)
    .iterate(fromSeq, limit) as IterableIterator<ReceiptRow>;
  for (const row of rows) {
    const bad = (problem: string) => ({ seq: row.seq, problem });
    if (row.seq !== expectedSeq) return result(bad(`sequence gap: expected ${expectedSeq}, found ${row.seq}`), null);
    if (row.prev_hash !== prevHash) return result(bad('link broken: prev_hash is not the previous receipt\'s hash'), null);
    const { problems } = receiptProblems(row, verifier);
    if (problems.length > 0) return result(bad(problems.join('; ')), null);
    checked++;
    expectedSeq++;
    prevHash = row.hash;
  }
  return result(null, checked === limit && expectedSeq <= lastSeq ? expectedSeq : null);
}

/** Walks the whole chain in order and reports the first receipt that does not hold. */
export function verifyChain(db: SqliteDatabase, verifier: Ed25519Verifier): ChainCheckDto {
  let checked = 0;
  let from: number | null = 1;
  while (from !== null) {
    const chunk = verifyChainRange(db, verifier, from, 10_000);
    checked += chunk.checked;
    if (!chunk.valid) return { valid: false, checked, firstBadSeq: chunk.firstBadSeq, problem: chunk.problem };
    from = chunk.nextSeq;
  }
  return { valid: true, checked, firstBadSeq: null, problem: null };
}

export function verifyOneReceipt(db: SqliteDatabase, verifier: Ed25519Verifier, seq: number): ReceiptCheckDto | null {
  const select = db.prepare(`SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE seq = ?`);
  const row = select.get(seq) as ReceiptRow | undefined;
  if (!row) return null;
  const { hash, signature, problems } = receiptProblems(row, verifier);
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
