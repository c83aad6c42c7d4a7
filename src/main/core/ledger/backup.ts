import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { SqliteDatabase } from '../store/database.ts';
import type { Ed25519Verifier } from '../crypto/ed25519.ts';
import type { Ledger } from './ledger.ts';
import type { JsonObject } from '../json/json-value.ts';
import { Refusal } from '../errors.ts';
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

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** Whether anything, a dangling symlink included, is at `path`. */
const lexists = (path: string) => lstatOrNull(path) !== null;

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
 * the copy is created 0600.
 *
 * The copy is built and verified in a private directory beside the database (the data
 * directory, which only OpenExec's user can write), then written to `path` through the one
 * descriptor that created it (O_EXCL: an existing file or symlink there is refused, never
 * followed) and synced. SQLite, the verification and the hash each open the copy by name; had
 * they opened `path`, someone who can write its directory could swap in a symlink between those
 * opens, so that the copy is written through it, or a forged ledger is verified and hashed in
 * its place. A copy that fails never appears at `path`. The data directory needs room for one
 * copy while it is taken.
 */
export async function backupLedger(db: SqliteDatabase, ledger: Ledger, verifier: Ed25519Verifier, path: string): Promise<BackupDto> {
  const dir = dirname(path);
  if (!existsSync(dir)) throw new Refusal('not_found', `Backup directory ${dir} does not exist`);
  // Said before the copy is taken; writeExclusive decides, whatever appears there meanwhile.
  if (lexists(path)) throw new Refusal('conflict', `${path} already exists; a backup never overwrites a file`);
  let work: string;
  try {
    work = mkdtempSync(join(dirname(db.name), 'backup-'));
  } catch (err) {
    throw new Refusal('internal', `Cannot prepare the copy in the data directory: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const copy = join(work, 'openexec.db');
    let head: { seq: number; hash: string };
    try {
      await db.backup(copy);
      head = verifyCopy(copy, verifier);
    } catch (err) {
      throw new Refusal('internal', `Backup failed and was removed: ${(err as Error).message}`);
    }
    const { sha256, bytes } = writeExclusive(copy, path);
    const details = Object.assign(Object.create(null) as JsonObject, {
      kind: BACKUP_RECEIPT_KIND,
      file: path,
      seq: BigInt(head.seq),
      hash: head.hash,
      sha256,
      bytes: BigInt(bytes),
    });
    const receiptSeq = ledger.witness(
      () => ledger.append({ event: 'config', reason: `backup: ${head.seq} receipts copied to ${path}`, details }).seq,
    );
    return { path, bytes, sha256, seq: head.seq, hash: head.hash, receiptSeq };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `from` copied to a new file at `path` (0600, never an existing file or a symlink) through the
 * descriptor that created it, synced; its SHA-256 and size. A copy cut short is removed.
 */
function writeExclusive(from: string, path: string): { sha256: string; bytes: number } {
  const input = openSync(from, 'r');
  let out: number;
  try {
    out = openSync(path, 'wx', 0o600);
  } catch (err) {
    closeSync(input);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Refusal('conflict', `${path} already exists; a backup never overwrites a file`);
    throw new Refusal('bad_request', `Cannot create ${path}: ${code ?? String(err)}`);
  }
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  try {
    for (let n; (n = readSync(input, chunk, 0, chunk.length, null)) > 0; bytes += n) {
      hash.update(chunk.subarray(0, n));
      for (let done = 0; done < n;) done += writeSync(out, chunk, done, n - done);
    }
    fsyncSync(out);
  } catch (err) {
    // Removed only while the name is still the file this descriptor created.
    const created = fstatSync(out);
    closeSync(out);
    const now = lstatOrNull(path);
    if (now !== null && now.dev === created.dev && now.ino === created.ino) rmSync(path, { force: true });
    throw new Refusal('internal', `Backup failed and was removed: ${(err as Error).message}`);
  } finally {
    closeSync(input);
  }
  closeSync(out);
  return { sha256: hash.digest('hex'), bytes };
}
