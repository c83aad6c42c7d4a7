import type { ChainCheckDto, ChainRangeDto, ReceiptCheckDto, ReceiptWithNeighboursDto } from '../../../../shared/console-dto.ts';
import { Refusal } from '../../errors.ts';
import { rangeVerdict, type RangeBreak } from '../../ledger/verify-ledger.ts';
import { BACKUP_RECEIPT_KIND } from '../../ledger/backup.ts';
import type { ApproverKeys } from '../../approval/check-evidence.ts';
import type { Ed25519Verifier } from '../../crypto/ed25519.ts';
import { sha256Hex } from '../../json/request-hash.ts';
import { GENESIS_PREV_HASH } from '../../ledger/receipt-body.ts';
import { RECEIPT_COLUMNS, type ReceiptRow } from '../../ledger/receipt-row.ts';
import type { ConfigReceipt, LastBackup, LedgerReads } from '../ledger-reads.ts';
import type { LedgerTransaction } from '../ledger-store.ts';
import { checkStoredReceipt } from './pg-receipt-check.ts';
import { registeredKey } from './pg-receipt-keys.ts';
import { RECEIPT_WITH_BODIES, receiptFromPgRow, type PgReceiptRow } from './pg-receipt-rows.ts';
import { sessionOf, type PgSession } from './pg-session.ts';
import { parsedBody } from './pg-verify.ts';
import { postgresSideTableProblems } from './pg-side-tables.ts';

type PgRow = Omit<ReceiptRow, 'seq'> & { seq: string; agent: string | null };

/** Registered keys already read during one walk, with the seq of their registration. */
type KeyCache = Map<string, { seq: number; verifier: Ed25519Verifier }>;

/** A config receipt's kind (`details.kind`), read as SQLite's json_extract reads it; only config bodies are parsed. */
const KIND = "(CASE WHEN event = 'config' THEN body::jsonb #>> '{details,kind}' END)";

/**
 * The ledger's reads on PostgreSQL, with the SQLite ledger's answers (ledger-reader.ts), over
 * a pool or, `within` a witnessed write, its connection. A receipt is verified with the key it
 * names, as registered in the ledger before it (pg-receipt-keys.ts): each instance signs with
 * its own. The registration is read through the store's index of them and checked again from
 * its receipt; only a whole-chain walk (verify-ledger, with pinned keys) holds the
 * registrations themselves to what a reviewer trusts.
 */
export class PostgresLedgerReads implements LedgerReads {
  constructor(private readonly db: PgSession) {}

  within(tx: LedgerTransaction): LedgerReads {
    return new PostgresLedgerReads(sessionOf(tx));
  }

  async withNeighbours(seq: number): Promise<ReceiptWithNeighboursDto | null> {
    const { rows } = await this.db.query<PgReceiptRow>(
      `SELECT ${RECEIPT_WITH_BODIES} FROM receipts r WHERE r.seq BETWEEN $1::bigint - 1 AND $1::bigint + 1 ORDER BY r.seq`,
      [seq],
    );
    const at = (s: number) => {
      const row = rows.find((r) => Number(r.seq) === s);
      return row ? receiptFromPgRow(row) : null;
    };
    const receipt = at(seq);
    return receipt ? { receipt, previous: at(seq - 1), next: at(seq + 1) } : null;
  }

  async verifyOne(seq: number, approvers: ApproverKeys | null): Promise<ReceiptCheckDto | null> {
    const { rows } = await this.db.query<PgRow>(
      `SELECT ${RECEIPT_COLUMNS}, agent FROM receipts WHERE seq BETWEEN $1::bigint - 1 AND $1::bigint ORDER BY seq`,
      [seq],
    );
    const found = rows.find((r) => Number(r.seq) === seq);
    if (found === undefined) return null;
    const previous = rows.find((r) => Number(r.seq) === seq - 1);
    const expectedPrev = seq === 1 ? GENESIS_PREV_HASH : (previous?.hash ?? null);
    return this.judge(found, expectedPrev, approvers, new Map());
  }

  async verifyRange(fromSeq: number, limit: number, approvers: ApproverKeys | null): Promise<ChainRangeDto> {
    const { rows: heads } = await this.db.query<{ last: string }>('SELECT coalesce(max(seq), 0) AS last FROM receipts');
    const lastSeq = Number(heads[0]?.last ?? 0);
    if (fromSeq > 1 && fromSeq > lastSeq) throw new Refusal('not_found', `No receipt ${fromSeq}: the ledger ends at ${lastSeq}`);
    // The predecessor comes with the chunk, so the first link is checked in the same snapshot.
    const { rows } = await this.db.query<PgRow>(
      `SELECT ${RECEIPT_COLUMNS}, agent FROM receipts WHERE seq >= $1::bigint ORDER BY seq LIMIT $2`,
      [Math.max(1, fromSeq - 1), fromSeq > 1 ? limit + 1 : limit],
    );
    let checked = 0;
    const result = (bad: RangeBreak | null, nextSeq: number | null) => rangeVerdict(fromSeq, lastSeq, checked, bad, nextSeq);
    let prevHash = GENESIS_PREV_HASH;
    if (fromSeq > 1) {
      const prev = rows.shift();
      if (prev === undefined || Number(prev.seq) !== fromSeq - 1) {
        return result({ seq: fromSeq - 1, problem: `sequence gap: receipt ${fromSeq - 1} is missing` }, null);
      }
      prevHash = prev.hash;
    }
    const keys: KeyCache = new Map();
    let expectedSeq = fromSeq;
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return result({ seq, problem: `sequence gap: expected ${expectedSeq}, found ${seq}` }, null);
      const check = await this.judge(row, prevHash, approvers, keys);
      if (!check.valid) return result({ seq, problem: check.problems.join('; ') }, null);
      checked++;
      expectedSeq++;
      prevHash = row.hash;
    }
    return result(null, checked === limit && expectedSeq <= lastSeq ? expectedSeq : null);
  }

  async verifyTail(count: number): Promise<ChainCheckDto> {
    const { rows } = await this.db.query<{ last: string }>('SELECT coalesce(max(seq), 0) AS last FROM receipts');
    const from = Math.max(1, Number(rows[0]?.last ?? 0) - count + 1);
    const range = await this.verifyRange(from, count, null);
    return { valid: range.valid, checked: range.checked, firstBadSeq: range.firstBadSeq, problem: range.problem };
  }

  async sideTableProblems(limit: number): Promise<string[]> {
    return postgresSideTableProblems(this.db, limit);
  }

  async lastBackup(): Promise<LastBackup | null> {
    const { rows } = await this.db.query<{ seq: string; time: string; copied: string | null }>(
      `SELECT seq, time, body::jsonb #>> '{details,seq}' AS copied FROM receipts
       WHERE event = 'config' AND ${KIND} = $1 ORDER BY seq DESC LIMIT 1`,
      [BACKUP_RECEIPT_KIND],
    );
    const row = rows[0];
    return row === undefined ? null : { receiptSeq: Number(row.seq), time: row.time, seq: Number(row.copied) };
  }

  /** One stored receipt judged on its own and by its link to `expectedPrev` (null: no predecessor stored). */
  private async judge(found: PgRow, expectedPrev: string | null, approvers: ApproverKeys | null, keys: KeyCache): Promise<ReceiptCheckDto> {
    const seq = Number(found.seq);
    const row: ReceiptRow = { ...found, seq };
    const key = await this.keyOf(row, keys);
    let hashValid: boolean;
    let signatureValid: boolean;
    let problems: string[];
    if (typeof key === 'string') {
      // No key to check the signature with: the receipt fails on that, and on its hash if it does.
      hashValid = sha256Hex(Buffer.from(row.body, 'utf8')) === row.hash;
      signatureValid = false;
      problems = [...(hashValid ? [] : ['hash does not match the receipt body']), key];
    } else {
      ({ hash: hashValid, signature: signatureValid, problems } = checkStoredReceipt(row, found.agent, key, approvers));
    }
    const linkValid = expectedPrev !== null && row.prev_hash === expectedPrev;
    if (!linkValid) problems.push("link broken: prev_hash is not the previous receipt's hash");
    return { seq, hashValid, signatureValid, linkValid, inLedger: true, valid: problems.length === 0, problems };
  }

  /**
   * The key a receipt must be signed by: the key it registers, or the key it names, registered
   * by an earlier receipt; the problem (the verifier's words, pg-ledger-keys.ts) otherwise.
   */
  private async keyOf(row: ReceiptRow, keys: KeyCache): Promise<Ed25519Verifier | string> {
    const body = parsedBody(row.body);
    if (body === null) return 'body is not a JSON object';
    const registering = registeredKey(body);
    if (typeof registering === 'string') return registering;
    const keyId = registering?.keyId ?? (typeof body['receipt_key_id'] === 'string' ? body['receipt_key_id'] : null);
    const cached = registering === null && keyId !== null ? keys.get(keyId) : undefined;
    if (cached !== undefined && cached.seq < row.seq) return cached.verifier;
    const { rows } = await this.db.query<{ seq: string; body: string }>(
      'SELECT k.seq, r.body FROM receipt_keys k JOIN receipts r ON r.seq = k.seq WHERE k.key_id = $1 AND k.seq < $2',
      [keyId, row.seq],
    );
    const earlier = rows[0];
    if (registering !== null) {
      return earlier === undefined ? registering : `receipt key ${registering.keyId} is registered twice (first at ${earlier.seq})`;
    }
    const registration = earlier === undefined ? null : parsedBody(earlier.body);
    const known = registration === null ? null : registeredKey(registration);
    if (known === null || typeof known === 'string' || known.keyId !== keyId || earlier === undefined) {
      return `signed by a receipt key that is not registered (${keyId ?? 'none named'})`;
    }
    keys.set(known.keyId, { seq: Number(earlier.seq), verifier: known });
    return known;
  }

  async latestConfig(kind: string): Promise<ConfigReceipt | null> {
    const { rows } = await this.db.query<{ seq: string; time: string; body: string }>(
      `SELECT seq, time, body FROM receipts WHERE event = 'config' AND ${KIND} = $1 ORDER BY seq DESC LIMIT 1`,
      [kind],
    );
    const row = rows[0];
    return row === undefined ? null : { seq: Number(row.seq), time: row.time, body: row.body };
  }

  async hasConfigBy(kind: string, approverKeyId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      `SELECT 1 FROM receipts WHERE event = 'config' AND approver_key_id = $1 AND ${KIND} = $2 LIMIT 1`,
      [approverKeyId, kind],
    );
    return rows.length > 0;
  }
}
