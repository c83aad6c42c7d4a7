import { useShallow } from 'zustand/react/shallow';
import type { ReceiptCheckId } from '../../../../shared/verify-receipt';
import { useReceiptStore } from '../../stores/receipt-store';

const CHECK_NAMES: Record<ReceiptCheckId, string> = {
  hash: 'Hash',
  body: 'Body',
  fields: 'Shown fields',
  key: 'Receipt key',
  link: 'Chain link (previous)',
  'next-link': 'Chain link (next)',
  signature: 'Signature',
  approval: 'Approval evidence',
  bodies: 'Payload, context and result',
};

/** Verification done here, in the window, with @noble/ed25519 — not the service's word. */
export function VerifyPanel() {
  const { verifying, verification, inclusion, verifyError, verify, key } = useReceiptStore(
    useShallow((s) => ({
      verifying: s.verifying,
      verification: s.verification,
      inclusion: s.inclusion,
      verifyError: s.verifyError,
      verify: s.verify,
      key: s.key,
    })),
  );

  return (
    <section className="verify" aria-labelledby="verify-heading">
      <div className="verify-head">
        <h3 id="verify-heading" className="section-title">
          Verification
        </h3>
        <button type="button" className="btn btn-primary" onClick={() => void verify()} disabled={verifying} data-testid="verify-button">
          {verifying ? 'Verifying…' : 'Verify'}
        </button>
      </div>
      <p className="muted small">
        Checks the hash, the chain link, the Ed25519 signature and the receipt's inclusion proof to the latest signed checkpoint inside this
        window, against the receipt public key{key ? ` ${key.keyId}` : ''}.
      </p>
      {verifyError ? (
        <p className="notice notice-error" role="alert" data-testid="verify-result" data-valid="false">
          Could not verify: {verifyError}
        </p>
      ) : null}
      {verification ? (
        <div aria-live="polite">
          <p
            className={verification.valid ? 'verdict verdict-valid' : 'verdict verdict-invalid'}
            data-testid="verify-result"
            data-valid={verification.valid ? 'true' : 'false'}
          >
            {verification.valid
              ? `Valid: receipt #${verification.seq} is intact, linked and signed.`
              : `Invalid: receipt #${verification.seq} does not hold.`}
          </p>
          <ul className="checks">
            {verification.checks.map((check) => (
              <li key={check.id} className={check.ok ? 'check check-ok' : 'check check-bad'} data-testid={`check-${check.id}`}>
                <span className="check-mark" aria-hidden="true">
                  {check.ok ? '✓' : '✗'}
                </span>
                <span className="check-name">{CHECK_NAMES[check.id]}</span>
                <span className="check-detail">
                  <span className="sr-only">{check.ok ? 'passed: ' : 'failed: '}</span>
                  {check.detail}
                </span>
              </li>
            ))}
            {inclusion ? (
              <li className={inclusion.ok ? 'check check-ok' : 'check check-bad'} data-testid="check-inclusion">
                <span className="check-mark" aria-hidden="true">
                  {inclusion.ok ? '✓' : '✗'}
                </span>
                <span className="check-name">In the Merkle log</span>
                <span className="check-detail">
                  <span className="sr-only">{inclusion.ok ? 'passed: ' : 'failed: '}</span>
                  {inclusion.detail}
                </span>
              </li>
            ) : null}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
