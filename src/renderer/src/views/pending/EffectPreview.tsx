import type { ActionPreview } from '../../../../shared/console-dto';
import { RevealText } from '../../components/RevealText';

const KIND_WORDS: Record<ActionPreview['kind'], string> = {
  builtin: 'Built-in action',
  run: 'Runs this command',
  write_file: 'Writes this file',
  http: 'Sends this request',
};

/** What a declared action will do, as the main process rendered it from the payload. */
export function EffectPreview({ preview }: { preview: ActionPreview | null | undefined }) {
  if (!preview) return null;
  return (
    <section className="effect" aria-labelledby="effect-heading" data-testid="effect-preview">
      <h3 id="effect-heading" className="section-title">
        {KIND_WORDS[preview.kind]}
        {preview.risk ? <span className={`tag tag-risk-${preview.risk}`}>{preview.risk} risk</span> : null}
      </h3>
      <pre className="code effect-lines" tabIndex={0} data-testid="effect-preview-lines">
        {preview.lines.map((line, i) => (
          <span key={i} className="j-line">
            <RevealText text={line} />
          </span>
        ))}
      </pre>
      {preview.definitionHash ? (
        <p className="muted small mono definition-hash" data-testid="definition-hash">
          definition sha256 {preview.definitionHash}
        </p>
      ) : null}
    </section>
  );
}
