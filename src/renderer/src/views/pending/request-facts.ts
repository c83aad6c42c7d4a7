import { useMemo } from 'react';
import { diffCanonical, type PayloadDiff } from '../../../../shared/canonical-tree';
import type { PreviousApprovedDto, ProposalDto } from '../../../../shared/console-dto';
import { proposalFindings, type ProposalFindings } from '../../../../shared/proposal-summary';
import type { ChangeMark } from '../../components/CanonicalLines';
import { usePendingStore } from '../../stores/pending-store';

export interface RequestFacts {
  findings: ProposalFindings;
  /** undefined: not known yet; null: this action never ran before. */
  previous: PreviousApprovedDto | null | undefined;
  diff: PayloadDiff | null;
  marks: ReadonlyMap<string, ChangeMark>;
}

/** What the operator should be told about a request before reading it: look-alikes, and what changed. */
export function useRequestFacts(proposal: ProposalDto): RequestFacts {
  const previous = usePendingStore((s) => s.previous[proposal.id]);
  return useMemo(() => {
    const diff = previous ? diffCanonical(proposal.payloadCanonical, previous.payload) : null;
    const marks = new Map<string, ChangeMark>();
    for (const path of diff?.changed ?? []) marks.set(path, 'changed');
    for (const path of diff?.added ?? []) marks.set(path, 'added');
    return { findings: proposalFindings(proposal), previous, diff, marks };
  }, [proposal, previous]);
}
