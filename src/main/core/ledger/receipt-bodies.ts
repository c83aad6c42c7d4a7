import { createHash, randomBytes } from 'node:crypto';
import type { SqliteDatabase } from '../store/database.ts';
import { BODY_FIELDS, type BodyField, type ReceiptBodyDto } from '../../../shared/receipt-bodies.ts';

/** 256 random bits per body: a purged short body cannot be found by hashing guesses. */
export const SALT_BYTES = 32;

/** sha256 hex of the salt's bytes followed by the body's UTF-8 bytes (docs/receipts.md). */
export function saltedHash(salt: Uint8Array, text: string): string {
  return createHash('sha256').update(salt).update(text, 'utf8').digest('hex');
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

export const randomSalt: SaltSource = () => randomBytes(SALT_BYTES);

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
  private readonly insert;
  private readonly ofSeq;

  constructor(db: SqliteDatabase) {
    this.insert = db.prepare('INSERT INTO receipt_bodies (seq, field, salt, body) VALUES (?, ?, ?, ?)');
    this.ofSeq = db.prepare('SELECT seq, field, salt, body, purged_at, purge_seq FROM receipt_bodies WHERE seq = ?');
  }

  store(seq: number, sealed: readonly SealedBody[]): void {
    for (const b of sealed) this.insert.run(seq, b.field, b.salt, b.text);
  }

  /** The bodies of one receipt, in the order of BODY_FIELDS. */
  of(seq: number): ReceiptBodyDto[] {
    const rows = this.ofSeq.all(seq) as StoredBody[];
    return rows.sort((a, b) => BODY_FIELDS.indexOf(a.field) - BODY_FIELDS.indexOf(b.field)).map(bodyDto);
  }
}
