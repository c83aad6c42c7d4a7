import { useCallback, useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ProposalDto } from '../../../../shared/console-dto';
import { sha256Hex } from '../../../../shared/crypto/ed25519-verify';
import { CanonicalLines } from '../../components/CanonicalLines';
import { useConnectionStore } from '../../stores/connection-store';
import { proposalById, usePendingStore, type DecisionKind, type SimilarTerms as Terms } from '../../stores/pending-store';
import { useStatusStore } from '../../stores/status-store';
import { DenyReasons, presetForKey } from './DenyReasons';
import { EffectPreview } from './EffectPreview';
import { ExpiryWarning } from './ExpiryWarning';
import { ProposalOutcome } from './ProposalOutcome';
import { ProposedBy } from './ProposedBy';
import { useRequestFacts } from './request-facts';
import { alreadyApproved, OperatorChoice, useOperators } from './OperatorChoice';
import { QuorumStatus } from './QuorumStatus';
import { SimilarTerms } from './SimilarTerms';
import { SpoofWarning } from './SpoofWarning';
import { useSeenCoverage } from './use-seen-coverage';

type HashCheck = 'checking' | 'match' | 'mismatch';

const isField = (el: EventTarget): boolean => el instanceof HTMLElement && ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);

/**
 * The confirmation for Approve and Deny. It shows exactly what an approval signs over (the
 * canonical request and its sha256, recomputed here), and Sign stays disabled until every line
 * of the request has been on screen: the request box has the focus and scrolls by keyboard.
 * Enter confirms once that holds, Esc cancels, E shows the exact escaped bytes, X extends.
 */
export function DecisionDialog() {
  const dialog = usePendingStore((s) => s.dialog);
  const proposal = usePendingStore((s) => proposalById(s, s.dialog?.id));
  const closeDialog = usePendingStore((s) => s.closeDialog);
  const ref = useRef<HTMLDialogElement>(null);
  const open = dialog !== null && proposal !== null;

  // A layout effect, so the dialog is modal before the form's own effect moves the focus.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (open && !el.open) el.showModal();
    else if (!open && el.open) el.close();
  }, [open]);

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
      {dialog && proposal ? <DecisionForm key={`${dialog.kind}:${dialog.id}`} proposal={proposal} kind={dialog.kind} /> : null}
    </dialog>
  );
}

function DecisionForm({ proposal, kind }: { proposal: ProposalDto; kind: DecisionKind }) {
  const deciding = usePendingStore((s) => s.deciding);
  const decisionError = usePendingStore((s) => s.decisionError);
  const escaped = usePendingStore((s) => s.escaped);
  const toggleEscaped = usePendingStore((s) => s.toggleEscaped);
  const extend = usePendingStore((s) => s.extend);
  const closeDialog = usePendingStore((s) => s.closeDialog);
  const decide = usePendingStore((s) => s.decide);
  const connected = useConnectionStore((s) => s.connected);
  const operatorKeyId = useStatusStore((s) => s.health?.operatorKey.keyId ?? null);
  const facts = useRequestFacts(proposal);
  const requestRef = useRef<HTMLPreElement>(null);
  const reasonRef = useRef<HTMLInputElement>(null);
  const [reason, setReason] = useState('');
  const [hashCheck, setHashCheck] = useState<HashCheck>('checking');
  const [reasonMissing, setReasonMissing] = useState(false);
  const [similar, setSimilar] = useState(false);
  const [terms, setTerms] = useState<Terms | null>(null);
  const onTerms = useCallback((t: Terms | null) => setTerms(t), []);
  const unseen = useSeenCoverage(requestRef, true, `${proposal.id}:${escaped}`);
  const { operators } = useOperators();
  const [operatorName, setOperatorName] = useState<string | null>(null);
  // The primary unless the operator chose another; grants ("Approve similar…") are signed by the primary.
  const signer = operators?.find((o) => (operatorName === null || similar ? o.primary : o.name === operatorName));
  const signsTwice = kind === 'approve' && alreadyApproved(proposal.quorum, signer);

  // The request has the focus, never the confirm button: reading comes before signing.
  useEffect(() => requestRef.current?.focus(), []);

  useEffect(() => {
    let live = true;
    setHashCheck('checking');
    sha256Hex(proposal.requestCanonical).then(
      (hash) => live && setHashCheck(hash === proposal.requestHash ? 'match' : 'mismatch'),
      () => live && setHashCheck('mismatch'),
    );
    return () => {
      live = false;
    };
  }, [proposal.requestCanonical, proposal.requestHash]);

  const pending = proposal.status === 'pending';
  const seenAll = unseen === 0;
  const canConfirm =
    pending &&
    connected &&
    !deciding &&
    hashCheck === 'match' &&
    (kind === 'deny' || seenAll) &&
    (!similar || terms !== null) &&
    !signsTwice;

  const submit = (): void => {
    if (!canConfirm) return;
    if (kind === 'deny' && !reason.trim()) {
      setReasonMissing(true);
      reasonRef.current?.focus();
      return;
    }
    void decide(
      kind === 'deny' ? reason.trim() : undefined,
      kind === 'approve' && similar && terms ? terms : undefined,
      kind === 'approve' && !similar && signer && !signer.primary ? signer.name : undefined,
    );
  };

  const onSubmit = (event: FormEvent): void => {
    event.preventDefault();
    submit();
  };

  const onKeyDown = (event: KeyboardEvent): void => {
    if (event.altKey || event.ctrlKey || event.metaKey || isField(event.target)) return;
    const preset = kind === 'deny' ? presetForKey(event.key) : null;
    if (event.key === 'Enter') {
      // On a button, Enter presses that button (Cancel, a preset); elsewhere it confirms.
      if (event.target instanceof HTMLButtonElement) return;
      submit();
    } else if (event.key === 'e' || event.key === 'E') {
      toggleEscaped();
    } else if (event.key === 'x' || event.key === 'X') {
      if (pending && connected) void extend();
    } else if (preset) {
      setReason(preset);
      setReasonMissing(false);
    } else {
      return;
    }
    event.preventDefault();
  };

  return (
    <form onSubmit={onSubmit} onKeyDown={onKeyDown} className="dialog-form">
      <h2 id="decision-title" className={kind === 'approve' ? 'dialog-title approve' : 'dialog-title deny'}>
        {kind === 'approve' ? 'Approve and execute' : 'Deny'} <code data-testid="dialog-action">{proposal.action}</code>?
      </h2>
      <p className="dialog-lead">
        {kind === 'approve'
          ? proposal.quorum
            ? `The console will sign a single-use approval with ${signer ? `${signer.name}'s key ${signer.keyId}` : 'the operator key'} for exactly this request; the boundary executes it once ${proposal.quorum.needed} distinct operator keys have approved.`
            : `The console will sign a single-use approval with ${signer && !signer.primary ? `${signer.name}'s key ${signer.keyId}` : `the operator key${operatorKeyId ? ` ${operatorKeyId}` : ''}`} for exactly this request, and the boundary will execute it at once.`
          : 'The proposal will be closed without running, and your reason written to the ledger and given to the agent.'}
      </p>
      <p className="dialog-agent" data-testid="dialog-agent">
        Proposed by agent: <ProposedBy agent={proposal.agent} />
      </p>
      <ProposalOutcome proposal={proposal} />
      {!connected ? (
        <p className="notice notice-error" role="alert">
          Disconnected from OpenExec: nothing can be decided until it is back.
        </p>
      ) : null}
      <SpoofWarning findings={facts.findings} />
      <EffectPreview preview={proposal.preview} />
      <p className="field-label" id="signed-request-label">
        {escaped
          ? 'Request — the exact canonical bytes that are hashed and signed'
          : 'Request — laid out for reading (E shows the exact canonical bytes that are hashed and signed)'}
      </p>
      {!escaped && facts.marks.size > 0 ? (
        <p className="muted small dialog-marks" data-testid="dialog-marks-legend">
          Lines marked at the left are new or changed since the last <code>{proposal.action}</code> that ran.
        </p>
      ) : null}
      <pre
        ref={requestRef}
        className="code code-exact request-box"
        aria-labelledby="signed-request-label"
        aria-describedby="request-seen"
        data-testid="dialog-request"
        tabIndex={0}
      >
        {escaped ? proposal.requestCanonical : <CanonicalLines text={proposal.requestCanonical} marks={facts.marks} pathPrefix="payload" />}
      </pre>
      <p id="request-seen" className={seenAll ? 'seen-line seen-all' : 'seen-line'} aria-live="polite" data-testid="request-seen">
        {unseen === null
          ? 'Measuring…'
          : seenAll
            ? '✓ The whole request has been on screen.'
            : `Scroll to read the rest: ${Math.max(1, Math.round(unseen * 100))}% unseen (↓, PageDown or the mouse).`}
      </p>
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
      {pending ? <ExpiryWarning proposal={proposal} always /> : null}
      {proposal.quorum ? <QuorumStatus quorum={proposal.quorum} /> : null}
      {kind === 'approve' && pending && operators && operators.length > 1 && !similar ? (
        <OperatorChoice operators={operators} chosen={signer} onChoose={setOperatorName} quorum={proposal.quorum} />
      ) : null}
      {kind === 'approve' && pending && !proposal.quorum ? (
        <fieldset className="similar-fieldset">
          <legend className="field-label">Approve</legend>
          <label className="similar-choice">
            <input type="radio" name="approve-scope" checked={!similar} onChange={() => setSimilar(false)} data-testid="approve-once" />{' '}
            Once: this request only
          </label>
          <label className="similar-choice">
            <input type="radio" name="approve-scope" checked={similar} onChange={() => setSimilar(true)} data-testid="approve-similar" />{' '}
            Similar…: this request, and sign a grant for requests like it
          </label>
        </fieldset>
      ) : null}
      {kind === 'approve' && pending && similar ? (
        <SimilarTerms proposalId={proposal.id} payloadCanonical={proposal.payloadCanonical} onTerms={onTerms} />
      ) : null}
      {kind === 'deny' ? (
        <DenyReasons
          reason={reason}
          reasonMissing={reasonMissing}
          inputRef={reasonRef}
          onReason={(text) => {
            setReason(text);
            setReasonMissing(false);
          }}
        />
      ) : null}
      {decisionError ? (
        <p className="notice notice-error" role="alert" data-testid="decision-error">
          {decisionError}
        </p>
      ) : null}
      <div className="dialog-buttons">
        <button type="button" className="btn" onClick={closeDialog} disabled={deciding}>
          {pending ? 'Cancel' : 'Close'} <kbd>Esc</kbd>
        </button>
        <button
          type="submit"
          className={kind === 'approve' ? 'btn btn-approve' : 'btn btn-deny'}
          disabled={!canConfirm}
          data-testid="confirm-decision"
        >
          {deciding ? 'Working…' : kind === 'approve' ? (similar ? 'Sign, approve and grant' : 'Sign and approve') : 'Deny'}{' '}
          <kbd>Enter</kbd>
        </button>
      </div>
    </form>
  );
}
