import type { ReceiptBodyDto } from '../../../../shared/receipt-bodies';
import { purgedLabel } from '../../../../shared/receipt-bodies';
import { prettyCanonical } from '../../../../shared/canonical-pretty';
import { CodeBlock } from '../../components/CodeBlock';

const TITLES: Record<ReceiptBodyDto['field'], string> = {
  payload: 'Payload',
  context: 'Context (the agent’s own words, unverified)',
  preview: 'Preview (the start of a large request)',
  result: 'Result',
};

/**
 * The bodies a receipt of format 2 commits to by salted hash, kept beside it: each shown whole,
 * or, once retention removed it, the words that say when (docs/receipts.md).
 */
export function ReceiptBodies({ bodies }: { bodies: readonly ReceiptBodyDto[] }) {
  return (
    <section aria-label="Payload, context and result" data-testid="receipt-bodies">
      {bodies.map((b) => (
        <div key={b.field}>
          <h3 className="section-title">{TITLES[b.field]}</h3>
          {b.text === null ? (
            <p className="muted" data-testid={`receipt-body-${b.field}`}>
              {b.purgedAt === null ? 'not kept' : purgedLabel(b.purgedAt)}
              {b.purgeSeq === null ? null : ` (receipt #${b.purgeSeq})`}
            </p>
          ) : (
            <CodeBlock
              text={b.field === 'context' ? b.text : prettyCanonical(b.text)}
              label={TITLES[b.field]}
              testId={`receipt-body-${b.field}`}
            />
          )}
        </div>
      ))}
    </section>
  );
}
