/**
 * The SQLite engine's implementation of the record interfaces: each wraps the table's owner
 * store (the synchronous one the core runs on today) and answers with promises. A store
 * shares the ledger's one connection, so a write is part of whatever transaction is open on
 * it: `within(tx)` returns the same records, which refuse every call once `tx`'s piece has
 * ended (assertOpenPiece), as PostgreSQL's do.
 */
import type { PreviousApprovedDto, QuorumDto } from '../../../../shared/console-dto.ts';
import type { ToolPinTable } from '../../actions/tool-pin-table.ts';
import type { AgentTable } from '../../agents/agent-table.ts';
import type { GrantStore } from '../../grants/grant-store.ts';
import type { CheckpointTable } from '../../ledger/checkpoint/checkpoint-table.ts';
import type { ProposalStore } from '../../proposals/proposal-store.ts';
import type { AgentRecords, AgentRow } from '../agent-records.ts';
import type { CheckpointRecords, StoredCheckpoint } from '../checkpoint-records.ts';
import type { GrantEnding, GrantRecords, GrantRow, NewGrant } from '../grant-records.ts';
import type { NewProposal, ProposalDecision, ProposalRecords, ProposalRow } from '../proposal-records.ts';
import { RecordConflict } from '../record-conflict.ts';
import { assertOpenPiece } from './sqlite-ledger-store.ts';
import type { SettingRecords } from '../setting-records.ts';
import type { LedgerTransaction } from '../ledger-store.ts';
import type { SettingsStore } from '../settings-store.ts';
import type { PinRow, ToolPinRecords } from '../tool-pin-records.ts';

/**
 * `records` for the piece `tx` of a SQLite witnessed write: each call first checks that the
 * piece is still open (and counts as its progress, see within-turn.ts).
 */
function onPiece<R extends object>(records: R, tx: LedgerTransaction): R {
  assertOpenPiece(tx);
  return new Proxy(records, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== 'function' || key === 'within') return value;
      return (...args: unknown[]): unknown => {
        try {
          assertOpenPiece(tx);
        } catch (err) {
          return Promise.reject(err);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Runs `write`, reporting a broken PRIMARY KEY or UNIQUE constraint as RecordConflict. */
function unique<T>(table: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
      throw new RecordConflict(table, (err as Error).message);
    throw err;
  }
}

export class SqliteProposalRecords implements ProposalRecords {
  constructor(private readonly store: ProposalStore) {}
  within(tx: LedgerTransaction): ProposalRecords {
    return onPiece<ProposalRecords>(this, tx);
  }
  async get(id: string): Promise<ProposalRow | undefined> {
    return this.store.get(id);
  }
  async findByNonce(nonce: string): Promise<ProposalRow | undefined> {
    return this.store.findByNonce(nonce);
  }
  async insert(row: NewProposal): Promise<void> {
    unique('proposals', () => this.store.insert(row));
  }
  async decide(id: string, decision: ProposalDecision): Promise<boolean> {
    return this.store.decide(id, decision);
  }
  async approvalKeys(id: string): Promise<string[]> {
    return this.store.approvalKeys(id);
  }
  async approvalsOf(id: string): Promise<QuorumDto['approvals']> {
    return this.store.approvalsOf(id);
  }
  async recordApproval(id: string, keyId: string, operator: string, at: string, receiptSeq: number): Promise<void> {
    unique('proposal_approvals', () => this.store.recordApproval(id, keyId, operator, at, receiptSeq));
  }
  async claim(id: string, execId: string, approvalId: string | null): Promise<boolean> {
    return this.store.claim(id, execId, approvalId);
  }
  async listClaimedPending(): Promise<ProposalRow[]> {
    return this.store.listClaimedPending();
  }
  async listPending(): Promise<ProposalRow[]> {
    return this.store.listPending();
  }
  async dueForExpiry(nowIso: string): Promise<ProposalRow[]> {
    return this.store.dueForExpiry(nowIso);
  }
  async extend(id: string, before: string, expiresAt: string): Promise<boolean> {
    return this.store.extend(id, before, expiresAt);
  }
  async lastExecuted(action: string, exceptId: string): Promise<PreviousApprovedDto | null> {
    return this.store.lastExecuted(action, exceptId);
  }
  async countPending(): Promise<number> {
    return this.store.countPending();
  }
}

export class SqliteGrantRecords implements GrantRecords {
  constructor(private readonly store: GrantStore) {}
  within(tx: LedgerTransaction): GrantRecords {
    return onPiece<GrantRecords>(this, tx);
  }
  async insert(row: NewGrant): Promise<void> {
    unique('grants', () => this.store.insert(row));
  }
  async get(id: string): Promise<GrantRow | undefined> {
    return this.store.get(id);
  }
  async live(action?: string): Promise<GrantRow[]> {
    return this.store.live(action);
  }
  async latest(limit: number): Promise<GrantRow[]> {
    return this.store.latest(limit);
  }
  async spend(id: string, spentBefore: number): Promise<boolean> {
    return this.store.spend(id, spentBefore);
  }
  async end(id: string, reason: GrantEnding, at: string, seq: number): Promise<boolean> {
    return this.store.end(id, reason, at, seq);
  }
}

export class SqliteAgentRecords implements AgentRecords {
  constructor(private readonly table: AgentTable) {}
  within(tx: LedgerTransaction): AgentRecords {
    return onPiece<AgentRecords>(this, tx);
  }
  async liveNameOf(tokenHash: string): Promise<string | null> {
    return this.table.liveNameOf(tokenHash);
  }
  async get(name: string): Promise<AgentRow | undefined> {
    return this.table.get(name);
  }
  async list(): Promise<AgentRow[]> {
    return this.table.list();
  }
  async insert(name: string, tokenHash: string, createdAt: string): Promise<void> {
    unique('agents', () => this.table.insert(name, tokenHash, createdAt));
  }
  async revoke(name: string, at: string): Promise<boolean> {
    return this.table.revoke(name, at);
  }
}

export class SqliteToolPinRecords implements ToolPinRecords {
  constructor(private readonly table: ToolPinTable) {}
  within(tx: LedgerTransaction): ToolPinRecords {
    return onPiece<ToolPinRecords>(this, tx);
  }
  async get(action: string): Promise<PinRow | undefined> {
    return this.table.get(action);
  }
  async list(): Promise<PinRow[]> {
    return this.table.list();
  }
  async insert(action: string, hash: string, definition: string, pinnedAt: string): Promise<void> {
    unique('mcp_tool_pins', () => this.table.insert(action, hash, definition, pinnedAt));
  }
  async markPending(action: string, hash: string, definition: string): Promise<boolean> {
    return this.table.markPending(action, hash, definition);
  }
  async accept(action: string, pendingHash: string, at: string): Promise<boolean> {
    return this.table.accept(action, pendingHash, at);
  }
}

export class SqliteSettingRecords implements SettingRecords {
  constructor(private readonly store: SettingsStore) {}
  within(tx: LedgerTransaction): SettingRecords {
    return onPiece<SettingRecords>(this, tx);
  }
  async get(key: string): Promise<string | null> {
    return this.store.get(key);
  }
  async put(key: string, value: string): Promise<void> {
    this.store.put(key, value);
  }
}

export class SqliteCheckpointRecords implements CheckpointRecords {
  constructor(private readonly table: CheckpointTable) {}
  within(tx: LedgerTransaction): CheckpointRecords {
    return onPiece<CheckpointRecords>(this, tx);
  }
  async latest(): Promise<StoredCheckpoint | null> {
    return this.table.latest();
  }
  async at(size: number): Promise<StoredCheckpoint | null> {
    return this.table.at(size);
  }
  async insert(checkpoint: StoredCheckpoint): Promise<void> {
    unique('checkpoints', () => this.table.insert(checkpoint));
  }
}
