import { useEffect, useRef, useState, type FormEvent } from 'react';
import { sha256Hex } from '../../../../shared/crypto/ed25519-verify';
import { usePendingStore } from '../../stores/pending-store';
import { useStatusStore } from '../../stores/status-store';

type HashCheck = 'checking' | 'match' | 'mismatch';

/**
 * The confirmation for Approve and Deny. It shows exactly what an approval signs over: the
 * canonical request text and its sha256, recomputed here so the screen does not just repeat
 * what the main process says. Enter confirms, Esc cancels.
 */
export function DecisionDialog() {
  const dialog = usePendingStore((s) => s.dialog);
  const proposal = usePendingStore((s) => s.items.find((p) => p.id === s.dialog?.id) ?? null);
  const deciding = usePendingStore((s) => s.deciding);
  const decisionError = usePendingStore((s) => s.decisionError);
  const closeDialog = usePendingStore((s) => s.closeDialog);
  const decide = usePendingStore((s) => s.decide);
  const operatorKeyId = useStatusStore((s) => s.health?.operatorKey.keyId ?? null);
  const ref = useRef<HTMLDialogElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const reasonRef = useRef<HTMLInputElement>(null);
  const [reason, setReason] = useState('');
  const [hashCheck, setHashCheck] = useState<HashCheck>('checking');
  const [reasonMissing, setReasonMissing] = useState(false);

  const open = dialog !== null && proposal !== null;
  const kind = dialog?.kind ?? 'approve';

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (open && !el.open) {
      el.showModal();
      setReason('');
      setReasonMissing(false);
      (kind === 'deny' ? reasonRef.current : confirmRef.current)?.focus();
    } else if (!open && el.open) {
      el.close();
    }
  }, [open, kind]);

  useEffect(() => {
    if (!proposal) return;
    let live = true;
    setHashCheck('checking');
    sha256Hex(proposal.requestCanonical).then(
      (hash) => live && setHashCheck(hash === proposal.requestHash ? 'match' : 'mismatch'),
      () => live && setHashCheck('mismatch'),
    );
    return () => {
      live = false;
    };
  }, [proposal]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (deciding || !proposal || hashCheck === 'mismatch') return;
    if (kind === 'deny' && !reason.trim()) {
      setReasonMissing(true);
      reasonRef.current?.focus();
      return;
    }
    void decide(kind === 'deny' ? reason.trim() : undefined);
  };

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="decision-title"
      data-testid="decision-dialog"
      onCancel={(event) => {
        event.preventDefault();
        closeDialog();
      }}
    >
      {proposal ? (
        <form onSubmit={onSubmit} className="dialog-form">
          <h2 id="decision-title" className={kind === 'approve' ? 'dialog-title approve' : 'dialog-title deny'}>
            {kind === 'approve' ? 'Approve and execute' : 'Deny'} <code>{proposal.action}</code>?
          </h2>
          <p className="dialog-lead">
            {kind === 'approve'
              ? `The console will sign a single-use approval with the operator key${operatorKeyId ? ` ${operatorKeyId}` : ''} for exactly this request, and the boundary will execute it at once.`
              : 'The proposal will be closed without running, and your reason written to the ledger.'}
          </p>
          <p className="field-label" id="signed-request-label">
            {kind === 'approve' ? 'Request — canonical JSON, exactly what is hashed and signed' : 'Request being denied — canonical JSON'}
          </p>
          <pre className="code code-exact" aria-labelledby="signed-request-label" data-testid="dialog-request">
            {proposal.requestCanonical}
          </pre>
          <p className="field-label" id="signed-hash-label">
            {kind === 'approve' ? 'Request hash (sha256) — the approval’s action_hash' : 'Request hash (sha256)'}
          </p>
          <p className="hash-line">
            <code aria-labelledby="signed-hash-label" data-testid="dialog-hash">
              {proposal.requestHash}
            </code>
            <span className={`hash-check hash-${hashCheck}`} data-testid="dialog-hash-check">
              {hashCheck === 'checking'
                ? 'checking…'
                : hashCheck === 'match'
                  ? '✓ recomputed here: matches'
                  : '✗ does not match the request — do not sign'}
            </span>
          </p>
          {kind === 'deny' ? (
            <div className="form-row">
              <label htmlFor="deny-reason">Reason (required, written to the ledger)</label>
              <input
                id="deny-reason"
                ref={reasonRef}
                value={reason}
                maxLength={2000}
                onChange={(e) => {
                  setReason(e.target.value);
                  setReasonMissing(false);
                }}
                aria-invalid={reasonMissing}
                aria-describedby={reasonMissing ? 'deny-reason-error' : undefined}
                data-testid="deny-reason"
              />
              {reasonMissing ? (
                <p id="deny-reason-error" className="field-error">
                  Say why, so the ledger records it.
                </p>
              ) : null}
            </div>
          ) : null}
          {decisionError ? (
            <p className="notice notice-error" role="alert" data-testid="decision-error">
              {decisionError}
            </p>
          ) : null}
          <div className="dialog-buttons">
            <button type="button" className="btn" onClick={closeDialog} disabled={deciding}>
              Cancel <kbd>Esc</kbd>
            </button>
            <button
              ref={confirmRef}
              type="submit"
              className={kind === 'approve' ? 'btn btn-approve' : 'btn btn-deny'}
              disabled={deciding || hashCheck === 'mismatch'}
              data-testid="confirm-decision"
            >
              {deciding ? 'Working…' : kind === 'approve' ? 'Sign and approve' : 'Deny'} <kbd>Enter</kbd>
            </button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
}
