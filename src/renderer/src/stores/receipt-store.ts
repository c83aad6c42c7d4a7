import { create } from 'zustand';
import type { KeyInfoDto, ReceiptWithNeighboursDto } from '../../../shared/console-dto';
import { ed25519PublicKeyFromPem, verifyReceipt, type ApproverPublicKey, type ReceiptVerification } from '../../../shared/verify-receipt';
import { verifyCheckpointNote } from '../../../shared/checkpoint-verify';
import { merkleLeafHash, verifyInclusion } from '../../../shared/merkle-verify';
import { hexToBytes } from '../../../shared/crypto/ed25519-verify';
import { callConsole, errorText } from '../bridge';
import type { Loadable } from './view-load';

interface ReceiptState extends Loadable {
  seq: number | null;
  detail: ReceiptWithNeighboursDto | null;
  verifying: boolean;
  verification: ReceiptVerification | null;
  /** The receipt's inclusion in the latest signed checkpoint, checked in this window. */
  inclusion: { ok: boolean; detail: string } | null;
  verifyError: string | null;
  key: KeyInfoDto | null;
  open: (seq: number) => Promise<void>;
  close: () => void;
  verify: () => Promise<void>;
  /** The receipt public key, fetched once. */
  loadKey: () => Promise<KeyInfoDto | string>;
}

/** The approver keys the console runs with (ClawShield's, the operator's), for approval evidence. */
async function approverKeys(): Promise<ApproverPublicKey[]> {
  const health = await callConsole('health');
  if (!health.ok) throw new Error(`Could not get the approver keys: ${errorText(health.error)}`);
  const { operatorKey, clawshieldKey } = health.value;
  return [operatorKey, ...(clawshieldKey ? [clawshieldKey] : [])].map((k) => ({
    keyId: k.keyId,
    publicKey: ed25519PublicKeyFromPem(k.publicKeyPem),
  }));
}

export const useReceiptStore = create<ReceiptState>((set, get) => ({
  seq: null,
  status: 'idle',
  error: null,
  detail: null,
  verifying: false,
  verification: null,
  inclusion: null,
  verifyError: null,
  key: null,

  open: async (seq) => {
    set({ seq, status: 'loading', error: null, detail: null, verification: null, inclusion: null, verifyError: null, verifying: false });
    const result = await callConsole('getReceipt', { seq });
    if (get().seq !== seq) return;
    if (!result.ok) set({ status: 'error', error: errorText(result.error) });
    else set({ status: 'ready', detail: result.value });
  },

  close: () => set({ seq: null, status: 'idle', detail: null, verification: null, inclusion: null, verifyError: null }),

  loadKey: async () => {
    const cached = get().key;
    if (cached) return cached;
    const result = await callConsole('receiptPublicKey');
    if (!result.ok) return errorText(result.error);
    set({ key: result.value });
    return result.value;
  },

  verify: async () => {
    const { detail, seq } = get();
    if (!detail || seq === null) return;
    set({ verifying: true, verification: null, inclusion: null, verifyError: null });
    const key = await get().loadKey();
    if (typeof key === 'string') {
      set({ verifying: false, verifyError: `Could not get the receipt public key: ${key}` });
      return;
    }
    try {
      const publicKey = ed25519PublicKeyFromPem(key.publicKeyPem);
      // Verify what the ledger holds now, with its neighbours, not what we showed earlier.
      const fresh = await callConsole('getReceipt', { seq });
      if (!fresh.ok) throw new Error(errorText(fresh.error));
      const verification = await verifyReceipt({ ...fresh.value, publicKey, keyId: key.keyId, approverKeys: await approverKeys() });
      const inclusion = await checkInclusion(seq, fresh.value.receipt.hash, publicKey, key.keyId);
      if (get().seq !== seq) return;
      set({ verifying: false, verification, inclusion, detail: fresh.value });
    } catch (err) {
      if (get().seq !== seq) return;
      set({ verifying: false, verifyError: err instanceof Error ? err.message : String(err) });
    }
  },
}));

/**
 * Asks for the receipt's audit path and checks all of it here: the checkpoint's signature by
 * the receipt key, and the path from this receipt's hash to the root the checkpoint signs.
 */
async function checkInclusion(
  seq: number,
  receiptHash: string,
  publicKey: Uint8Array,
  keyId: string,
): Promise<{ ok: boolean; detail: string }> {
  const answer = await callConsole('inclusionProof', { seq });
  if (!answer.ok) return { ok: false, detail: `no proof: ${errorText(answer.error)}` };
  const p = answer.value;
  const note = await verifyCheckpointNote(p.checkpoint.note, publicKey, keyId);
  if (!note.ok) return { ok: false, detail: `the checkpoint does not verify: ${note.problem}` };
  const entry = hexToBytes(receiptHash);
  const path = p.proof.map(hexToBytes);
  const proven =
    entry !== null &&
    path.every((h) => h !== null) &&
    p.leafIndex === seq - 1 &&
    p.treeSize === note.checkpoint.size &&
    (await verifyInclusion(p.leafIndex, p.treeSize, await merkleLeafHash(entry), path as Uint8Array[], note.checkpoint.root));
  return proven
    ? { ok: true, detail: `in the signed checkpoint of ${p.treeSize} receipts (${p.proof.length} hashes checked here)` }
    : { ok: false, detail: `the proof does not lead to the root of the signed checkpoint of ${note.checkpoint.size} receipts` };
}
