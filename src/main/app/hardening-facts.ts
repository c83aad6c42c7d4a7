import type { OpenExecCore } from '../core/openexec-core.ts';
import { MANIFEST_RECEIPT_KIND } from '../core/actions/declared/manifest-receipt.ts';
import type { ServerFacts } from './hardening-checks.ts';

/** How many of the newest receipts doctor re-verifies (the whole chain is verify-ledger's job). */
export const TAIL_RECEIPTS = 1000;

export interface ServingFacts {
  boundHost: string;
  boundPort: number;
  logging: ServerFacts['logging'];
  metrics: boolean;
}

/** What the running server knows about itself, for the hardening report. */
export async function gatherServerFacts(core: OpenExecCore, serving: ServingFacts): Promise<ServerFacts> {
  const definitions = core.manifest?.definitions ?? {};
  const recordedSeq = (await core.ledgerStore.reads.latestConfig(MANIFEST_RECEIPT_KIND))?.seq ?? null;
  const reads = core.ledgerStore.reads;
  return {
    ...serving,
    allowList: core.allowList.list(),
    allowListLocked: core.allowList.locked,
    actions: core.registry.names().map((name) => ({ name, definitionHash: definitions[name] ?? null })),
    manifest: core.manifest ? { path: core.manifest.path, hash: core.manifest.hash, recordedSeq } : null,
    tail: await reads.verifyTail(TAIL_RECEIPTS),
    lastBackup: await reads.lastBackup(),
  };
}
