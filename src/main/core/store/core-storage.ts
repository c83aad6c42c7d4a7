/**
 * What OpenExecCore needs from a database engine (README, "PostgreSQL"): the ledger and every
 * record store behind their interfaces, the Merkle tree the proofs and checkpoints read, the key
 * this instance signs receipts with, and the start-up close of executions a stop interrupted.
 * `sqliteStorage` (./sqlite/sqlite-storage.ts) and `postgresStorage`
 * (./postgres/pg-storage.ts) build one; the core builds its services on either alike.
 */
import type { Ed25519Signer } from '../crypto/ed25519.ts';
import type { Engine } from '../engine/engine.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { MerkleTreeReads } from '../ledger/merkle/merkle-tree-reads.ts';
import type { AgentRecords } from './agent-records.ts';
import type { CheckpointRecords } from './checkpoint-records.ts';
import type { ExecutionRecords } from './execution-records.ts';
import type { GrantRecords } from './grant-records.ts';
import type { LedgerStore } from './ledger-store.ts';
import type { ProposalRecords } from './proposal-records.ts';
import type { SettingRecords } from './setting-records.ts';
import type { ToolPinRecords } from './tool-pin-records.ts';

export type StorageEngine = 'sqlite' | 'postgres';

export interface CoreStorage {
  readonly engine: StorageEngine;
  readonly ledgerStore: LedgerStore;
  readonly executions: ExecutionRecords;
  readonly proposals: ProposalRecords;
  readonly grants: GrantRecords;
  readonly agents: AgentRecords;
  readonly toolPins: ToolPinRecords;
  readonly settings: SettingRecords;
  readonly checkpoints: CheckpointRecords;
  /** The receipts' RFC 9162 tree, for inclusion and consistency proofs and signed checkpoints. */
  readonly tree: MerkleTreeReads;
  /**
   * The key this instance signs receipts with. SQLite: the ledger's one key, fixed by its first
   * receipt (a missing or different key file stops start-up). PostgreSQL: this instance's own,
   * from its data directory, registered by a `config` receipt when it first appends.
   */
  readonly receiptKey: Ed25519Signer;
  /**
   * The synchronous SQLite ledger, for what still reads it directly (tests, benchmarks); null on
   * PostgreSQL.
   */
  readonly sqliteLedger: Ledger | null;
  /**
   * Closes, each with a receipt, the executions a stop left `started`; call once at start,
   * before anything else runs on the core. SQLite has one writer and closes every one;
   * PostgreSQL closes only this instance's (reserved under its receipt key), through `engine`:
   * another instance's may still be running.
   */
  closeInterrupted(engine: Engine): Promise<number>;
  /** Waits for the writes already submitted, then closes the connections. */
  close(): Promise<void>;
}
