/**
 * The disk (or the database's size limit) is full: nothing can be recorded, so nothing may be
 * decided. Requests that write are answered 503 with a `detail` saying so; reads go on; the
 * next write after space returns succeeds, because every failed transaction was rolled back.
 */
export const STORAGE_FULL_DETAIL = 'Storage full: OpenExec cannot record receipts; nothing was executed or changed';

/** Raised where a plain storage error would tell the caller less than the truth. */
export class StorageFull extends Error {
  override name = 'StorageFull';
  constructor(readonly detail: string) {
    super(detail);
  }
}

/** SQLITE_FULL from better-sqlite3 (SQLite's answer to ENOSPC too), ENOSPC or EDQUOT from fs. */
export function isStorageFull(err: unknown): boolean {
  if (err instanceof StorageFull) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
}

/** The `detail` to answer with, or null when `err` is not about storage. */
export function storageFullDetail(err: unknown): string | null {
  if (err instanceof StorageFull) return err.detail;
  return isStorageFull(err) ? STORAGE_FULL_DETAIL : null;
}
