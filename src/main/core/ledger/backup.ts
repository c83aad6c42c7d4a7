import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqliteDatabase } from '../store/database.ts';
import type { Ed25519Verifier } from '../crypto/ed25519.ts';
import type { Ledger } from './ledger.ts';
import type { JsonObject } from '../json/json-value.ts';
import { Refusal } from '../errors.ts';
import { sha256Hex } from '../json/request-hash.ts';
import { verifyChain } from './verify-ledger.ts';
import { sideTableProblems } from './verify-side-tables.ts';
import type { BackupDto } from '../../../shared/hardening.ts';

export const BACKUP_RECEIPT_KIND = 'backup';

export interface LastBackup {
  receiptSeq: number;
  time: string;
  seq: number;
}

/** The last backup the ledger records, or null. */
export function lastBackup(db: SqliteDatabase): LastBackup | null {
  const row = db
    .prepare(
      `SELECT seq, time, json_extract(body, '$.details.seq') AS copied FROM receipts
       WHERE event = 'config' AND json_extract(body, '$.details.kind') = ? ORDER BY seq DESC LIMIT 1`,
    )
    .get(BACKUP_RECEIPT_KIND) as { seq: number; time: string; copied: number } | undefined;
  return row ? { receiptSeq: row.seq, time: row.time, seq: row.copied } : null;
}

/** The copy, checked as `verify-ledger` checks a ledger; its head. Throws when it does not hold. */
function verifyCopy(path: string, verifier: Ed25519Verifier): { seq: number; hash: string } {
  const copy = new Database(path);
  try {
    // One self-contained file: no -wal beside it to lose when it is moved.
    copy.pragma('journal_mode = DELETE');
    const chain = verifyChain(copy, verifier);
    if (!chain.valid) throw new Error(`the copy does not verify at receipt #${chain.firstBadSeq}: ${chain.problem}`);
    const side = sideTableProblems(copy, 1);
    if (side.length > 0) throw new Error(`the copy's side tables do not verify: ${side[0]}`);
    const head = copy.prepare('SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1').get() as
      { seq: number; hash: string } | undefined;
    return head ?? { seq: 0, hash: '0'.repeat(64) };
  } finally {
    copy.close();
  }
}

/**
 * An online, consistent copy through SQLite's backup API, taken by the connection that writes
 * the ledger (so writes during the copy are carried into it), verified, then recorded by a
 * `config` receipt naming the head it holds and the file's SHA-256. An existing file is refused;
 * the copy is created 0600. A copy that fails is removed.
 */
export async function backupLedger(db: SqliteDatabase, ledger: Ledger, verifier: Ed25519Verifier, path: string): Promise<BackupDto> {
  if (!existsSync(dirname(path))) throw new Refusal('not_found', `Backup directory ${dirname(path)} does not exist`);
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Refusal('conflict', `${path} already exists; a backup never overwrites a file`);
    throw new Refusal('bad_request', `Cannot create ${path}: ${code ?? String(err)}`);
  }
  let head: { seq: number; hash: string };
  let bytes: Buffer;
  try {
    await db.backup(path);
    head = verifyCopy(path, verifier);
    bytes = readFileSync(path);
  } catch (err) {
    for (const f of [path, `${path}-journal`, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    if (err instanceof Refusal) throw err;
    throw new Refusal('internal', `Backup failed and was removed: ${(err as Error).message}`);
  }
  const sha256 = sha256Hex(bytes);
  const details = Object.assign(Object.create(null) as JsonObject, {
    kind: BACKUP_RECEIPT_KIND,
    file: path,
    seq: BigInt(head.seq),
    hash: head.hash,
    sha256,
    bytes: BigInt(bytes.length),
  });
  const receiptSeq = ledger.witness(
    () => ledger.append({ event: 'config', reason: `backup: ${head.seq} receipts copied to ${path}`, details }).seq,
  );
  return { path, bytes: statSync(path).size, sha256, seq: head.seq, hash: head.hash, receiptSeq };
}
