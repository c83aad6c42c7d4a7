import { useEffect, useState } from 'react';
import type { OperatorDto, QuorumDto } from '../../../../shared/console-dto';
import { callConsole, errorText } from '../../bridge';
import { shortHash } from '../../lib/format';

/** The operators that can sign, read when the dialog opens (a key added while running shows up). */
export function useOperators(): { operators: OperatorDto[] | null; error: string | null } {
  const [state, setState] = useState<{ operators: OperatorDto[] | null; error: string | null }>({ operators: null, error: null });
  useEffect(() => {
    let live = true;
    void callConsole('listOperators').then((result) => {
      if (live) setState(result.ok ? { operators: result.value, error: null } : { operators: null, error: errorText(result.error) });
    });
    return () => {
      live = false;
    };
  }, []);
  return state;
}

/** Whether `operator` has already approved: its key cannot count a second time. */
export function alreadyApproved(quorum: QuorumDto | undefined, operator: OperatorDto | undefined): boolean {
  return operator !== undefined && quorum !== undefined && quorum.approvals.some((a) => a.keyId === operator.keyId);
}

/**
 * Which operator's key signs the approval (the primary by default). Shown when there is more than
 * one; choosing one whose key has already approved this proposal is said plainly (the core would
 * refuse it: the same key counts once).
 */
export function OperatorChoice({
  operators,
  chosen,
  onChoose,
  quorum,
}: {
  operators: OperatorDto[];
  chosen: OperatorDto | undefined;
  onChoose: (name: string) => void;
  quorum: QuorumDto | undefined;
}) {
  const twice = alreadyApproved(quorum, chosen);
  return (
    <div className="operator-choice">
      <label className="field-label" htmlFor="sign-as">
        Sign as
      </label>{' '}
      <select id="sign-as" value={chosen?.name ?? ''} onChange={(e) => onChoose(e.target.value)} data-testid="sign-as">
        {operators.map((o) => (
          <option key={o.name} value={o.name}>
            {o.name} (key {shortHash(o.keyId, 16)}){o.primary ? ', primary' : ''}
            {alreadyApproved(quorum, o) ? ', has approved' : ''}
          </option>
        ))}
      </select>
      {twice && chosen ? (
        <p className="notice notice-warn" role="alert" data-testid="sign-as-twice">
          {chosen.name} (key {shortHash(chosen.keyId, 16)}) has already approved this proposal. The same operator key counts only once:
          choose another operator to add the next approval.
        </p>
      ) : null}
    </div>
  );
}
