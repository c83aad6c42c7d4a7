import type { Finding } from '../../../../shared/suspicious-text';
import type { ProposalFindings } from '../../../../shared/proposal-summary';

const WHERE: [keyof ProposalFindings, string][] = [
  ['action', 'the action'],
  ['payload', 'the payload'],
  ['context', 'the agent’s note'],
];

function describe(findings: Finding[]): string {
  const bidi = findings.filter((f) => f.kind === 'bidi').length;
  const invisible = findings.filter((f) => f.kind === 'invisible').length;
  const mixed = findings.filter((f) => f.kind === 'mixed').map((f) => f.text);
  return [
    bidi ? `${bidi} text-direction control${bidi > 1 ? 's' : ''}` : '',
    invisible ? `${invisible} invisible character${invisible > 1 ? 's' : ''}` : '',
    mixed.length ? `mixed-script word${mixed.length > 1 ? 's' : ''} ${mixed.map((w) => `“${w}”`).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** Said above the request whenever something in it could hide or disguise text. */
export function SpoofWarning({ findings }: { findings: ProposalFindings }) {
  const parts = WHERE.filter(([key]) => findings[key].length > 0);
  if (parts.length === 0) return null;
  return (
    <div className="notice notice-error spoof-warning" role="alert" data-testid="spoof-warning">
      <strong>Characters that can hide or disguise text.</strong> They are shown as marked boxes below; read the marked places with care.
      <ul>
        {parts.map(([key, where]) => (
          <li key={key}>
            In {where}: {describe(findings[key])}
          </li>
        ))}
      </ul>
    </div>
  );
}
