import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import type { LedgerStore } from '../../store/ledger-store.ts';
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

function lastRecorded(ledger: LedgerReader): Recorded | null {
  const body = ledger.latestConfig(MANIFEST_RECEIPT_KIND)?.body;
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
 * or null when nothing changed. The last one recorded is read with the ledger's own reader
 * (LedgerStore has no such read); the receipt is a witnessed write on the LedgerStore.
 */
export function recordManifest(ledger: LedgerReader, store: LedgerStore, manifest: ManifestInForce | null): Promise<ReceiptDto | null> {
  return store.witness(async (tx) => {
    const previous = lastRecorded(ledger);
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
