import type { LedgerStore } from '../../store/ledger-store.ts';
import type { ConfigReceipt } from '../../store/ledger-reads.ts';
import type { JsonObject } from '../../json/json-value.ts';
import type { ReceiptDto } from '../../../../shared/console-dto.ts';

/** The manifest in force: where it was read from, its hash and each action's definition hash. */
export interface ManifestInForce {
  path: string;
  hash: string;
  definitions: Readonly<Record<string, string>>;
}

export const MANIFEST_RECEIPT_KIND = 'actions-manifest';

interface Recorded {
  hash: string | null;
  definitions: Record<string, string>;
}

function recorded(latest: ConfigReceipt | null): Recorded | null {
  const body = latest?.body;
  if (body === undefined) return null;
  const details = (JSON.parse(body) as { details: { manifest_hash: string | null; actions: Record<string, string> } }).details;
  return { hash: details.manifest_hash, definitions: details.actions };
}

function obj(entries: Record<string, unknown>): JsonObject {
  return Object.assign(Object.create(null) as JsonObject, entries);
}

/**
 * At start-up: when the manifest differs from the one the ledger last recorded (or appears or
 * goes away), a `config` receipt says which one is now in force and what changed. Returns it,
 * or null when nothing changed. The last one recorded is read inside the witnessed write that
 * records the new one, so the comparison and the receipt are one step.
 */
export function recordManifest(store: LedgerStore, manifest: ManifestInForce | null): Promise<ReceiptDto | null> {
  return store.witness(async (tx) => {
    const previous = recorded(await store.reads.within(tx).latestConfig(MANIFEST_RECEIPT_KIND));
    const hash = manifest?.hash ?? null;
    if ((previous?.hash ?? null) === hash) return null;
    const before = previous?.definitions ?? {};
    const after = manifest?.definitions ?? {};
    const added = Object.keys(after)
      .filter((n) => !(n in before))
      .sort();
    const removed = Object.keys(before)
      .filter((n) => !(n in after))
      .sort();
    const changed = Object.keys(after)
      .filter((n) => n in before && before[n] !== after[n])
      .sort();
    const parts = [
      ...(added.length ? [`added ${added.join(', ')}`] : []),
      ...(removed.length ? [`removed ${removed.join(', ')}`] : []),
      ...(changed.length ? [`changed ${changed.join(', ')}`] : []),
    ];
    const what = manifest ? `${manifest.path} (${Object.keys(after).length} actions)` : 'none';
    return tx.append({
      event: 'config',
      reason: `actions manifest: ${what}${parts.length ? `; ${parts.join('; ')}` : ''}`,
      details: obj({
        kind: MANIFEST_RECEIPT_KIND,
        manifest: manifest?.path ?? null,
        manifest_hash: hash,
        previous_hash: previous?.hash ?? null,
        actions: obj(after),
        added,
        removed,
        changed,
      }),
    });
  });
}
