import { hash, randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../store/database.ts';
import { BODY_FIELDS, type BodyField, type ReceiptBodyDto } from '../../../shared/receipt-bodies.ts';

/** 256 random bits per body: a purged short body cannot be found by hashing guesses. */
export const SALT_BYTES = 32;

/** sha256 hex of the salt's bytes followed by the body's UTF-8 bytes (docs/receipts.md). */
export function saltedHash(salt: Uint8Array, text: string): string {
  // One-shot over one buffer: no Hash object per body.
  return hash('sha256', Buffer.concat([salt, Buffer.from(text, 'utf8')]), 'hex');
}

/** A receipt_bodies row, as stored. */
export interface StoredBody {
  seq: number;
  field: BodyField;
  salt: Buffer | null;
  body: string | null;
  purged_at: string | null;
  purge_seq: number | null;
}

/** A body as its receipt commits to it: the text, its fresh salt and their salted hash. */
export interface SealedBody {
  field: BodyField;
  salt: Buffer;
  text: string;
  hash: string;
}

/** Where salts come from: fresh random bytes, except where a test must reproduce a ledger byte for byte. */
export type SaltSource = (field: BodyField, text: string) => Buffer;

/** How many salts one draw from the CSPRNG yields (a 4 KiB read instead of 128 small ones). */
const SALTS_PER_DRAW = 128;
let drawn = Buffer.alloc(0);
let taken = 0;

/**
 * A fresh salt: 32 bytes of a batch drawn from node:crypto's CSPRNG at once, since a call to
 * randomBytes costs about 3.5 µs however little it draws and a receipt takes two or more. Each
 * salt is handed out once, never again; a salt whose receipt rolled back is simply not used.
 */
export const randomSalt: SaltSource = () => {
  if (taken === drawn.length) {
    drawn = randomBytes(SALT_BYTES * SALTS_PER_DRAW);
    taken = 0;
  }
  return drawn.subarray(taken, (taken += SALT_BYTES));
};

/** A fresh salt for each body, and the salted hash the receipt body signs in its place. */
export function sealBodies(bodies: readonly (readonly [BodyField, string])[], salts: SaltSource = randomSalt): SealedBody[] {
  return bodies.map(([field, text]) => {
    const salt = salts(field, text);
    return { field, salt, text, hash: saltedHash(salt, text) };
  });
}

export function bodyDto(row: StoredBody): ReceiptBodyDto {
  return {
    field: row.field,
    salt: row.salt === null ? null : row.salt.toString('hex'),
    text: row.body,
    purgedAt: row.purged_at,
    purgeSeq: row.purge_seq,
  };
}

/**
 * The bodies receipts of format 2 commit to, owned by the ledger: written in the same
 * transaction as their receipt, cleared (body and salt) only by a purge.
 */
export class ReceiptBodies {
  /** The insert of n bodies at once, by n (at most one per field): one statement per receipt. */
  private readonly inserts = new Map<number, Statement>();
  private readonly ofSeq;

  constructor(private readonly db: SqliteDatabase) {
    this.ofSeq = db.prepare('SELECT seq, field, salt, body, purged_at, purge_seq FROM receipt_bodies WHERE seq = ?');
  }

  store(seq: number, sealed: readonly SealedBody[]): void {
    if (sealed.length === 0) return;
    let insert = this.inserts.get(sealed.length);
    if (insert === undefined) {
      const rows = Array.from(sealed, () => '(?, ?, ?, ?)').join(', ');
      insert = this.db.prepare(`INSERT INTO receipt_bodies (seq, field, salt, body) VALUES ${rows}`);
      this.inserts.set(sealed.length, insert);
    }
    insert.run(sealed.flatMap((b) => [seq, b.field, b.salt, b.text]));
  }

  /** The bodies of one receipt, in the order of BODY_FIELDS. */
  of(seq: number): ReceiptBodyDto[] {
    const rows = this.ofSeq.all(seq) as StoredBody[];
    return rows.sort((a, b) => BODY_FIELDS.indexOf(a.field) - BODY_FIELDS.indexOf(b.field)).map(bodyDto);
  }
}
