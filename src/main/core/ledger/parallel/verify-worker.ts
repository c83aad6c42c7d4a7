import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Ed25519Verifier } from '../../crypto/ed25519.ts';
import { verifyChainRange } from '../verify-ledger.ts';

/** One verifier thread: its own read-only connection, ranges of the chain on request. */
export interface RangeRequest {
  fromSeq: number;
  limit: number;
}

const { dbPath, publicKey } = workerData as { dbPath: string; publicKey: Uint8Array };
const db = new Database(dbPath, { readonly: true, fileMustExist: true });
const verifier = new Ed25519Verifier(publicKey);

parentPort!.on('message', (request: RangeRequest | null) => {
  if (request === null) {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    parentPort!.postMessage({ ok: true, range: verifyChainRange(db, verifier, request.fromSeq, request.limit) });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
