import { parentPort, workerData } from 'node:worker_threads';
import { approverKeyMap } from '../../approval/check-evidence.ts';
import { Ed25519Verifier, parsePublicKeyPem } from '../../crypto/ed25519.ts';
import { checkBatch, type ReceiptBatch } from './pg-receipt-check.ts';

/** One verifier thread of `verify-ledger --db-url`: batches of receipts in, one verdict each out, in order. */
const { approverKeys } = workerData as { approverKeys: Uint8Array[] | null };
const approvers = approverKeys === null ? null : approverKeyMap(approverKeys.map((k) => new Ed25519Verifier(k)));
const verifiers = new Map<string, Ed25519Verifier>();

parentPort!.on('message', (batch: ReceiptBatch | null) => {
  if (batch === null) {
    parentPort!.close();
    return;
  }
  try {
    for (const [keyId, pem] of batch.keys) if (!verifiers.has(keyId)) verifiers.set(keyId, new Ed25519Verifier(parsePublicKeyPem(pem)));
    parentPort!.postMessage({ ok: true, verdict: checkBatch(batch.rows, (keyId) => verifiers.get(keyId)!, approvers) });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
