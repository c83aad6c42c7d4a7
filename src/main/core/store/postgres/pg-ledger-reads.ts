import type { ReceiptCheckDto, ReceiptWithNeighboursDto } from '../../../../shared/console-dto.ts';
import type { ApproverKeys } from '../../approval/check-evidence.ts';
import type { Ed25519Verifier } from '../../crypto/ed25519.ts';
import { sha256Hex } from '../../json/request-hash.ts';
import { GENESIS_PREV_HASH } from '../../ledger/receipt-body.ts';
import { RECEIPT_COLUMNS, type ReceiptRow } from '../../ledger/receipt-row.ts';
import type { ConfigReceipt, LedgerReads } from '../ledger-reads.ts';
import type { LedgerTransaction } from '../ledger-store.ts';
import { checkStoredReceipt } from './pg-receipt-check.ts';
import { registeredKey } from './pg-receipt-keys.ts';
import { RECEIPT_WITH_BODIES, receiptFromPgRow, type PgReceiptRow } from './pg-receipt-rows.ts';
import { sessionOf, type PgSession } from './pg-session.ts';
import { parsedBody } from './pg-verify.ts';

type PgRow = Omit<ReceiptRow, 'seq'> & { seq: string; agent: string | null };

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
    const row: ReceiptRow = { ...found, seq };
    const key = await this.keyOf(row);
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
    const previous = rows.find((r) => Number(r.seq) === seq - 1);
    const expectedPrev = seq === 1 ? GENESIS_PREV_HASH : previous?.hash;
    const linkValid = expectedPrev !== undefined && row.prev_hash === expectedPrev;
    if (!linkValid) problems.push("link broken: prev_hash is not the previous receipt's hash");
    return { seq, hashValid, signatureValid, linkValid, inLedger: true, valid: problems.length === 0, problems };
  }

  /**
   * The key a receipt must be signed by: the key it registers, or the key it names, registered
   * by an earlier receipt; the problem (the verifier's words, pg-ledger-keys.ts) otherwise.
   */
  private async keyOf(row: ReceiptRow): Promise<Ed25519Verifier | string> {
    const body = parsedBody(row.body);
    if (body === null) return 'body is not a JSON object';
    const registering = registeredKey(body);
    if (typeof registering === 'string') return registering;
    const keyId = registering?.keyId ?? (typeof body['receipt_key_id'] === 'string' ? body['receipt_key_id'] : null);
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
    if (known === null || typeof known === 'string' || known.keyId !== keyId) {
      return `signed by a receipt key that is not registered (${keyId ?? 'none named'})`;
    }
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
