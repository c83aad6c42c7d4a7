import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Ed25519Verifier } from '../../crypto/ed25519.ts';
import { verifyChainRange } from '../verify-ledger.ts';
import { approverKeyMap } from '../../approval/check-evidence.ts';

/** One verifier thread: its own read-only connection, ranges of the chain on request. */
export interface RangeRequest {
  fromSeq: number;
  limit: number;
}

const { dbPath, publicKey, approverKeys } = workerData as { dbPath: string; publicKey: Uint8Array; approverKeys: Uint8Array[] | null };
const db = new Database(dbPath, { readonly: true, fileMustExist: true });
const verifier = new Ed25519Verifier(publicKey);
const approvers = approverKeys === null ? null : approverKeyMap(approverKeys.map((k) => new Ed25519Verifier(k)));

parentPort!.on('message', (request: RangeRequest | null) => {
  if (request === null) {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    parentPort!.postMessage({ ok: true, range: verifyChainRange(db, verifier, request.fromSeq, request.limit, approvers) });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
