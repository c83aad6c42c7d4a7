import { useEffect, useMemo, useState } from 'react';
import type { GrantPreviewDto } from '../../../../shared/grant-dto';
import { callConsole, errorText } from '../../bridge';
import type { SimilarTerms as Terms } from '../../stores/pending-store';

type Preset = '5m' | '1h' | 'restart' | 'uses';
const PRESETS: { value: Preset; label: string }[] = [
  { value: '5m', label: '5 minutes' },
  { value: '1h', label: '1 hour' },
  { value: 'restart', label: 'Until OpenExec restarts' },
  { value: 'uses', label: 'A number of uses' },
];

function limitOf(preset: Preset, uses: number): Pick<Terms, 'forSeconds' | 'untilRestart' | 'uses'> {
  if (preset === '5m') return { forSeconds: 300 };
  if (preset === '1h') return { forSeconds: 3600 };
  if (preset === 'restart') return { untilRestart: true };
  return { uses };
}

function limitText(p: GrantPreviewDto): string {
  const parts: string[] = [];
  if (p.uses !== null) parts.push(`${p.uses} more ${p.uses === 1 ? 'request' : 'requests'}`);
  if (p.forSeconds !== null)
    parts.push(`requests in the next ${p.forSeconds >= 3600 ? `${p.forSeconds / 3600} h` : `${p.forSeconds / 60} min`}`);
  if (p.untilRestart) parts.push('requests until OpenExec restarts');
  return parts.join(', and ');
}

/**
 * "Approve similar…": which payload fields may vary and for how long or how many uses, and the
 * exact terms the server will sign for that (fixed values, the schema of the varying fields, the
 * limit), fetched from it so that what is shown is what is signed. `onTerms` gets the request
 * once its terms are on screen, null while they are not.
 */
export function SimilarTerms({
  proposalId,
  payloadCanonical,
  onTerms,
}: {
  proposalId: string;
  payloadCanonical: string;
  onTerms: (terms: Terms | null) => void;
}) {
  const fields = useMemo(() => {
    try {
      return Object.keys(JSON.parse(payloadCanonical) as Record<string, unknown>);
    } catch {
      return [];
    }
  }, [payloadCanonical]);
  const [vary, setVary] = useState<string[]>([]);
  const [preset, setPreset] = useState<Preset>('5m');
  const [uses, setUses] = useState(5);
  const [preview, setPreview] = useState<GrantPreviewDto | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const terms: Terms = { vary, ...limitOf(preset, uses) };
    onTerms(null);
    setPreview(null);
    setError(null);
    void callConsole('previewSimilar', { id: proposalId, ...terms }).then((result) => {
      if (!live) return;
      if (result.ok) {
        setPreview(result.value);
        onTerms(terms);
      } else setError(errorText(result.error));
    });
    return () => {
      live = false;
    };
  }, [proposalId, vary, preset, uses, onTerms]);

  return (
    <div className="similar-terms" data-testid="similar-terms">
      <fieldset className="similar-fieldset">
        <legend className="field-label">Fields that may vary (every other field must be exactly as in this request)</legend>
        {fields.length === 0 ? <p className="muted small">The payload has no fields: only this exact request.</p> : null}
        {fields.map((field) => (
          <label key={field} className="similar-choice">
            <input
              type="checkbox"
              checked={vary.includes(field)}
              data-testid={`vary-${field}`}
              onChange={(e) => setVary((v) => (e.target.checked ? [...v, field] : v.filter((f) => f !== field)))}
            />{' '}
            <code>{field}</code>
          </label>
        ))}
      </fieldset>
      <fieldset className="similar-fieldset">
        <legend className="field-label">For how long</legend>
        {PRESETS.map((p) => (
          <label key={p.value} className="similar-choice">
            <input
              type="radio"
              name="grant-limit"
              value={p.value}
              checked={preset === p.value}
              data-testid={`preset-${p.value}`}
              onChange={() => setPreset(p.value)}
            />{' '}
            {p.label}
          </label>
        ))}
        {preset === 'uses' ? (
          <label className="similar-choice">
            Uses{' '}
            <input
              type="number"
              min={1}
              max={10000}
              value={uses}
              data-testid="grant-uses"
              onChange={(e) => setUses(Math.max(1, Math.min(10000, Math.trunc(Number(e.target.value)) || 1)))}
            />
          </label>
        ) : null}
      </fieldset>
      {error ? (
        <p className="notice notice-error" role="alert" data-testid="similar-error">
          {error}
        </p>
      ) : null}
      {preview ? (
        <div data-testid="grant-preview">
          <p className="field-label">
            The grant you will sign: without a new decision, OpenExec will run {limitText(preview)} for <code>{preview.action}</code>{' '}
            <span data-testid="grant-agent">
              {preview.agent !== null ? (
                <>
                  from agent <code>{preview.agent}</code> only (verified by its token)
                </>
              ) : (
                'from any agent (this request came without an agent token)'
              )}
            </span>{' '}
            whose payload has
          </p>
          <p className="field-label" id="grant-fixed-label">
            exactly these fields and values
          </p>
          <pre className="code code-exact" aria-labelledby="grant-fixed-label" data-testid="grant-fixed" tabIndex={0}>
            {preview.fixed}
          </pre>
          <p className="field-label" id="grant-schema-label">
            {preview.varying.length
              ? `and ${preview.varying.join(', ')} as this schema allows (any value of the same JSON type)`
              : 'and no other field'}
          </p>
          {preview.varying.length ? (
            <pre className="code code-exact" aria-labelledby="grant-schema-label" data-testid="grant-schema" tabIndex={0}>
              {preview.schema}
            </pre>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
