import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { BackupDto } from '../../shared/hardening.ts';

/**
 * The live ledger's length when the last backup was recorded, kept beside the database in the
 * data directory. The backup's own receipt cannot warn about a restore (it is in the live
 * ledger, after the copy); this file can, as long as it survives the restore.
 */
export const BACKUP_MARKER_FILE = 'last-backup.json';

const marker = z.object({ receiptSeq: z.int().positive(), copiedSeq: z.int().nonnegative(), path: z.string(), at: z.string() });

export function writeBackupMarker(dataDir: string, b: BackupDto, at: string): void {
  const file = join(dataDir, BACKUP_MARKER_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify({ receiptSeq: b.receiptSeq, copiedSeq: b.seq, path: b.path, at }) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // The backup itself is made and recorded; only this early warning is lost.
    rmSync(tmp, { force: true });
  }
}

/** One line when the ledger is shorter than it was at the last backup: it was restored from a copy. */
export function restoredLedgerNotice(dataDir: string, ledgerSize: number): string | null {
  let m: z.infer<typeof marker>;
  try {
    m = marker.parse(JSON.parse(readFileSync(join(dataDir, BACKUP_MARKER_FILE), 'utf8')));
  } catch {
    return null;
  }
  if (ledgerSize >= m.receiptSeq) return null;
  return (
    `the ledger has ${ledgerSize} receipts, but it had ${m.receiptSeq} when the backup to ${m.path} was recorded (${m.at}): ` +
    `it was restored from an older copy, and receipts ${ledgerSize + 1} to ${m.receiptSeq} are not in it`
  );
}
