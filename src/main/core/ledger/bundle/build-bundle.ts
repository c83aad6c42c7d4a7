import type { ExportBundleDto } from '../../../../shared/console-dto.ts';
import { EXPORT_CAP, type ExportQuery } from '../../../../shared/console-schemas.ts';
import { publicKeyToPem } from '../../crypto/ed25519.ts';
import type { OpenExecCore } from '../../openexec-core.ts';
import type { ReceiptDto } from '../../../../shared/console-dto.ts';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  bundleText,
  type ApproverKey,
  type BundleBody,
  type BundleReceipt,
  type ReceiptBundle,
} from './bundle-format.ts';
import { purgedLabel, type BodyField, type ReceiptBodyDto } from '../../../../shared/receipt-bodies.ts';

const PAGE = 500;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** The approver keys this console trusts now: what a bundle's approval evidence is checked with. */
export function approverKeys(core: OpenExecCore): ApproverKey[] {
  // ClawShield's key first, then every operator key loaded so far (`operators add` ones too).
  return core.operators.approvers.map(({ kind, verifier: v }) => ({
    approver: kind,
    key_id: v.keyId,
    public_key_pem: publicKeyToPem(v.publicKey),
  }));
}

/** Each body kept (salt and text), or the words that stand in a purged one's place. */
function bundleBodies(bodies: readonly ReceiptBodyDto[]): Partial<Record<BodyField, BundleBody>> {
  const out: Partial<Record<BodyField, BundleBody>> = {};
  for (const b of bodies) {
    if (b.salt !== null && b.text !== null) out[b.field] = { salt: b.salt, text: b.text };
    else if (b.purgedAt !== null && b.purgeSeq !== null)
      out[b.field] = { purged: purgedLabel(b.purgedAt), purged_at: b.purgedAt, purge_seq: b.purgeSeq };
  }
  return out;
}

/** The receipts the query matches among the first `size`, newest first, up to the cap. */
async function matching(
  core: OpenExecCore,
  query: ExportQuery,
  size: number,
  cap: number,
): Promise<{ receipts: ReceiptDto[]; complete: boolean }> {
  const { fromSeq, toSeq, ...filters } = query;
  const lowest = fromSeq ?? 1;
  let beforeSeq = Math.min(size, toSeq ?? size) + 1;
  const receipts: ReceiptDto[] = [];
  while (beforeSeq > lowest) {
    const page = await core.ledgerStore.search({ ...filters, beforeSeq, limit: PAGE });
    for (const r of page.items) {
      if (r.seq < lowest) return { receipts, complete: true };
      if (receipts.length === cap) return { receipts, complete: false };
      receipts.push(r);
    }
    if (page.nextBeforeSeq === null) break;
    beforeSeq = page.nextBeforeSeq;
  }
  return { receipts, complete: true };
}

/**
 * The one place a bundle is made, for the window's Export and `openexec export` alike. It
 * signs a checkpoint of the ledger as it is now and exports only receipts that checkpoint
 * covers, each with its inclusion proof, so every receipt is tied to the whole ledger even
 * when the query picks a few. Every read after it is bounded by the checkpoint's size: receipts
 * appended meanwhile lie beyond it, so the bundle neither includes nor misses them.
 */
/** `cap`: at most this many receipts, the newest (a parameter so tests can reach it). */
export async function buildBundle(core: OpenExecCore, query: ExportQuery, cap = EXPORT_CAP): Promise<ExportBundleDto> {
  const checkpoint = await core.checkpoints.issue();
  const { receipts, complete } = await matching(core, query, checkpoint.size, cap);
  receipts.reverse();
  const entries: BundleReceipt[] = [];
  for (const r of receipts) {
    // Format 2 carries its result among its bodies; format 1 only a hash of it.
    const result =
      r.event === 'executed' && r.execId !== null && r.bodies === undefined
        ? (await core.executionRecords.executedResult(r.execId))?.result
        : null;
    entries.push({
      seq: r.seq,
      hash: r.hash,
      prev_hash: r.prevHash,
      body: r.body,
      signature: r.signature,
      ...(typeof result === 'string' ? { result } : {}),
      ...(r.bodies ? { bodies: bundleBodies(r.bodies) } : {}),
      inclusion_proof: (await core.proofs.inclusionIn(r.seq, checkpoint.size)).proof,
    });
  }
  const bundle: ReceiptBundle = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    public_key_pem: publicKeyToPem(core.receiptVerifier.publicKey),
    key_id: core.receiptVerifier.keyId,
    query,
    complete,
    count: entries.length,
    checkpoint: { size: checkpoint.size, root_hash: hex(checkpoint.root), note: checkpoint.note },
    approver_keys: approverKeys(core),
    receipts: entries,
  };
  return { text: bundleText(bundle), count: entries.length, complete, checkpointSize: checkpoint.size };
}
