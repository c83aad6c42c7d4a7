import type { JsonObject } from '../json/json-value.ts';
import type { ReceiptDraft } from './receipt-body.ts';
import type { PurgeDto } from '../../../shared/retention.ts';

export const PURGE_RECEIPT_KIND = 'purge';

/** What a purge found to remove, before it removes it. */
export type PurgeCounts = Pick<PurgeDto, 'fromSeq' | 'toSeq' | 'receipts' | 'bodies' | 'executions' | 'proposals'>;

/**
 * The `config` receipt of kind `purge` (docs/receipts.md "The purge config receipt"): the
 * cut-off, the range of receipts and the counts, never a body. The same on every engine.
 */
export function purgeReceiptDraft(counts: PurgeCounts, cutoffIso: string, trigger: 'retention' | 'operator'): ReceiptDraft {
  const { fromSeq, toSeq, receipts, bodies, executions, proposals } = counts;
  const details = Object.assign(Object.create(null) as JsonObject, {
    kind: PURGE_RECEIPT_KIND,
    trigger,
    cutoff: cutoffIso,
    ...(fromSeq === null || toSeq === null ? {} : { from_seq: BigInt(fromSeq), to_seq: BigInt(toSeq) }),
    receipts: BigInt(receipts),
    bodies: BigInt(bodies),
    executions: BigInt(executions),
    proposals: BigInt(proposals),
  });
  const span = fromSeq === null ? 'no receipt bodies' : `bodies of ${receipts} receipts (#${fromSeq}–#${toSeq})`;
  return {
    event: 'config',
    reason: `purge: ${span}, ${executions} execution results and ${proposals} proposals older than ${cutoffIso} removed by ${trigger}`,
    details,
  };
}
