/**
 * The proposals awaiting an operator and the operator keys that approved them (a quorum),
 * behind one asynchronous interface with the methods of the SQLite ProposalStore: the SQLite
 * adapter (./sqlite) and the PostgreSQL store (./postgres) implement it, and one contract
 * suite (test/core/store/records) holds both to the same results.
 */
import type { PreviousApprovedDto, QuorumDto } from '../../../shared/console-dto.ts';
import type { ProposalDecision, ProposalRow } from '../proposals/proposal-store.ts';
import type { JoinsWitness } from './joins-witness.ts';

export type { ProposalDecision, ProposalRow };

/** What a new proposal is stored with; it starts pending, undecided and unclaimed. */
export type NewProposal = Omit<
  ProposalRow,
  'status' | 'decided_at' | 'reason' | 'result' | 'exec_id' | 'approval_id' | 'receipt_seq' | 'purged_at'
>;

export interface ProposalRecords extends JoinsWitness<ProposalRecords> {
  get(id: string): Promise<ProposalRow | undefined>;
  findByNonce(nonce: string): Promise<ProposalRow | undefined>;
  /** Rejects with RecordConflict when the id or the nonce is taken: one proposal per nonce. */
  insert(row: NewProposal): Promise<void>;
  /** Closes a pending proposal; false when it was no longer pending (one decision per proposal). */
  decide(id: string, decision: ProposalDecision): Promise<boolean>;
  /** The operator keys whose approvals of a quorum proposal are recorded, in receipt order. */
  approvalKeys(id: string): Promise<string[]>;
  /** Those approvals as the console shows them: each one's operator, key and time, in receipt order. */
  approvalsOf(id: string): Promise<QuorumDto['approvals']>;
  /** Records one key's approval; rejects with RecordConflict when that key already approved. */
  recordApproval(id: string, keyId: string, operator: string, at: string, receiptSeq: number): Promise<void>;
  /** Marks a pending proposal as being executed; false if it was decided or claimed already. */
  claim(id: string, execId: string, approvalId: string | null): Promise<boolean>;
  listClaimedPending(): Promise<ProposalRow[]>;
  listPending(): Promise<ProposalRow[]>;
  dueForExpiry(nowIso: string): Promise<ProposalRow[]>;
  /** Moves a pending proposal's expiry from `before` to `expiresAt`; false if anything changed meanwhile. */
  extend(id: string, before: string, expiresAt: string): Promise<boolean>;
  lastExecuted(action: string, exceptId: string): Promise<PreviousApprovedDto | null>;
  countPending(): Promise<number>;
}
