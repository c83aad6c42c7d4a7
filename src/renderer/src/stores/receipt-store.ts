import { create } from 'zustand';
import type { KeyInfoDto, ReceiptWithNeighboursDto } from '../../../shared/console-dto';
import { ed25519PublicKeyFromPem, verifyReceipt, type ApproverPublicKey, type ReceiptVerification } from '../../../shared/verify-receipt';
import { callConsole, errorText } from '../bridge';
import type { LoadStatus } from './pending-store';

interface ReceiptState {
  seq: number | null;
  status: LoadStatus;
  error: string | null;
  detail: ReceiptWithNeighboursDto | null;
  verifying: boolean;
  verification: ReceiptVerification | null;
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
  return [operatorKey, ...(clawshieldKey ? [clawshieldKey] : [])].map((k) => ({ keyId: k.keyId, publicKey: ed25519PublicKeyFromPem(k.publicKeyPem) }));
}

export const useReceiptStore = create<ReceiptState>((set, get) => ({
  seq: null,
  status: 'idle',
  error: null,
  detail: null,
  verifying: false,
  verification: null,
  verifyError: null,
  key: null,

  open: async (seq) => {
    set({ seq, status: 'loading', error: null, detail: null, verification: null, verifyError: null, verifying: false });
    const result = await callConsole('getReceipt', { seq });
    if (get().seq !== seq) return;
    if (!result.ok) set({ status: 'error', error: errorText(result.error) });
    else set({ status: 'ready', detail: result.value });
  },

  close: () => set({ seq: null, status: 'idle', detail: null, verification: null, verifyError: null }),

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
    set({ verifying: true, verification: null, verifyError: null });
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
      if (get().seq !== seq) return;
      set({ verifying: false, verification, detail: fresh.value });
    } catch (err) {
      if (get().seq !== seq) return;
      set({ verifying: false, verifyError: err instanceof Error ? err.message : String(err) });
    }
  },
}));
