import { join } from 'node:path';
import type { Synchronous } from './store/database.ts';
import type { Ledger } from './ledger/ledger.ts';
import type { PurgeDto } from '../../shared/retention.ts';
import type { BackupDto } from '../../shared/hardening.ts';
import { Checkpoints } from './ledger/checkpoint/checkpoints.ts';
import { LedgerProofs } from './ledger/proofs.ts';
import { Ed25519Verifier, type Ed25519Signer } from './crypto/ed25519.ts';
import { loadOrCreateSigningKey } from './crypto/key-file.ts';
import { sealRegistry, type ActionDefinition, type ActionHandler, type ActionRegistry } from './actions/action-registry.ts';
import { BUILTIN_ACTIONS } from './actions/builtin-actions.ts';
import { AllowList } from './engine/allow-list.ts';
import { Engine } from './engine/engine.ts';
import { recordCallbacks } from './engine/record-callbacks.ts';
import type { TrustedApprover } from './approval/validate-approval.ts';
import { systemClock, type Clock } from './clock.ts';
import type { ExecMode } from '../../shared/console-dto.ts';
import { sha256Hex } from './json/request-hash.ts';
import type { DeclaredManifest } from './actions/declared/manifest.ts';
import { recordManifest, type ManifestInForce } from './actions/declared/manifest-receipt.ts';
import { GrantAuthority } from './grants/grant-authority.ts';
import { newBootId } from './grants/boot-id.ts';
import { OperatorRegistry } from './approval/operator-registry.ts';
import { AgentRegistry } from './agents/agent-registry.ts';
import { ToolPins } from './actions/tool-pins.ts';
import type { LedgerStore } from './store/ledger-store.ts';
import type { ExecutionRecords } from './store/execution-records.ts';
import type { ProposalRecords } from './store/proposal-records.ts';
import type { CoreStorage, StorageEngine } from './store/core-storage.ts';
import { sqliteStorage } from './store/sqlite/sqlite-storage.ts';
import { postgresStorage } from './store/postgres/pg-storage.ts';
import { EngineSpecific, POSTGRES_BACKUP_INSTEAD } from './store/engine-specific.ts';

export interface CoreOptions {
  mode: ExecMode;
  dataDir: string;
  /** The SQLite file; null when the ledger is on PostgreSQL (`postgresUrl`). */
  dbPath: string | null;
  /** The PostgreSQL database's URL (the application role's), or null/absent for SQLite. */
  postgresUrl?: string | null;
  synchronous: Synchronous;
  clawshieldPublicKey: Uint8Array | null;
  tenantId: string | null;
  allowedActions: readonly string[] | null;
  clockSkewSeconds: number;
  clock?: Clock;
  /** Checkpoint cadence and witnessing (defaults: every 1,000 receipts or 60 s, no witness). */
  checkpointEvery?: number;
  checkpointIntervalSeconds?: number;
  witnessDir?: string | null;
  /** Handlers beyond the built-in echo and add; sealed with them at start-up. */
  extraActions?: Record<string, ActionDefinition | ActionHandler>;
  /** The manifest of declared actions (OPENEXEC_ACTIONS), already validated; null for none. */
  manifest?: LoadedManifest | null;
  /** Hears the storage's trouble after start (PostgreSQL: a lost connection, a failed read of others' receipts). */
  onStorageError?: (err: unknown) => void;
}

/** A validated manifest and where it was read from. */
export interface LoadedManifest extends DeclaredManifest {
  path: string;
}

export const RECEIPT_KEY_FILE = 'receipt-key.pem';
export const OPERATOR_KEY_FILE = 'operator-key.pem';

/**
 * The enforcement core, assembled: storage, keys, ledger, registry, allow-list and engine.
 * Plain Node; the HTTP API, the headless entry and the Electron shell all sit on top of it.
 */
export class OpenExecCore {
  /**
   * The database engine's stores, private: each table is read and written only through its store
   * (README, "One owner per table"; test/architecture/table-owners.test.ts).
   */
  private readonly storage: CoreStorage;
  readonly receiptVerifier: Ed25519Verifier;
  readonly operatorSigner: Ed25519Signer;
  /** Every operator's signing key by name: the first (`operator`) and those made by `operators add`, loaded when first named. */
  readonly operators: OperatorRegistry;
  readonly clawshieldVerifier: Ed25519Verifier | null;
  readonly registry: ActionRegistry;
  readonly allowList: AllowList;
  readonly engine: Engine;
  /** Operator grants, checked and spent at dispatch (src/main/core/grants). */
  readonly grants: GrantAuthority;
  /** This run of this instance (grants/boot-id.ts): `until_restart` grants issued in its earlier runs are over. */
  readonly bootId: string;
  readonly checkpoints: Checkpoints;
  readonly proofs: LedgerProofs;
  readonly clock: Clock;
  /** The manifest of declared actions in force, or null. */
  readonly manifest: ManifestInForce | null;
  /** Registered agents and their (hashed) tokens. */
  readonly agents: AgentRegistry;
  /** Pinned tool definitions of upstream MCP servers (openexec mcp proxy). */
  readonly toolPins: ToolPins;
  /** The executions as the engine reads and ends them (within a witnessed write, `within(tx)`), and as the console, bundles and protocol §3 read them. */
  readonly executionRecords: ExecutionRecords;
  /** Proposals and their quorum approvals, which the proposal service reads and writes through. */
  readonly proposalRecords: ProposalRecords;
  /**
   * The ledger behind the asynchronous interface the engine and the services write through
   * (README, "PostgreSQL"), with the record stores they are given here.
   */
  readonly ledgerStore: LedgerStore;

  /**
   * Opens the storage (`postgresUrl` or the SQLite `dbPath`) and the core on it, closes the
   * executions a stop interrupted, then writes what start-up witnesses (operator keys loaded
   * for the first time, grants that ended while it was stopped, the manifest in force when it
   * changed), which the LedgerStore does asynchronously.
   */
  static async open(options: CoreOptions): Promise<OpenExecCore> {
    const clock = options.clock ?? systemClock;
    const receiptKeyFile = join(options.dataDir, RECEIPT_KEY_FILE);
    let storage: CoreStorage;
    if (options.postgresUrl) {
      storage = await postgresStorage({
        url: options.postgresUrl,
        receiptKeyFile,
        clock,
        ...(options.onStorageError ? { onError: options.onStorageError } : {}),
      });
    } else {
      if (options.dbPath === null) throw new Error('OpenExecCore: neither a SQLite file nor a PostgreSQL URL was given');
      storage = sqliteStorage({ dbPath: options.dbPath, synchronous: options.synchronous, receiptKeyFile, clock });
    }
    let core: OpenExecCore;
    try {
      core = new OpenExecCore(options, storage, clock);
    } catch (err) {
      await storage.close();
      throw err;
    }
    try {
      // Before anything else is written: executions a stop left running end with a receipt.
      await storage.closeInterrupted(core.engine);
      await core.allowList.load();
      await core.operators.loadAll();
      // Other instances' consoles check this one's operator approvals against the keys the ledger records.
      if (storage.engine === 'postgres') await core.operators.recordPrimary();
      // Grants that ended while OpenExec was stopped (expired, or valid until that restart).
      await core.ledgerStore.witness((tx) => core.grants.endDueWithin(tx));
      await recordManifest(core.ledgerStore, core.manifest);
    } catch (err) {
      await core.close();
      throw err;
    }
    return core;
  }

  private constructor(
    readonly options: CoreOptions,
    storage: CoreStorage,
    clock: Clock,
  ) {
    this.storage = storage;
    this.clock = clock;
    const receiptKey = storage.receiptKey;
    this.operatorSigner = loadOrCreateSigningKey(join(options.dataDir, OPERATOR_KEY_FILE)).signer;
    this.receiptVerifier = new Ed25519Verifier(receiptKey.publicKey);
    this.clawshieldVerifier = options.clawshieldPublicKey ? new Ed25519Verifier(options.clawshieldPublicKey) : null;
    this.ledgerStore = storage.ledgerStore;
    this.bootId = newBootId(storage.ledgerStore.keyId);
    this.checkpoints = new Checkpoints(storage.checkpoints, this.ledgerStore, storage.tree, receiptKey, this.operatorSigner, this.clock, {
      every: options.checkpointEvery ?? 1000,
      intervalMs: (options.checkpointIntervalSeconds ?? 60) * 1000,
      witnessDir: options.witnessDir ?? null,
    });
    this.proofs = new LedgerProofs(storage.tree, this.checkpoints);
    this.agents = new AgentRegistry(storage.agents, this.ledgerStore, this.clock);
    this.toolPins = new ToolPins(storage.toolPins, this.ledgerStore, this.clock);
    this.registry = sealRegistry({ ...BUILTIN_ACTIONS, ...options.extraActions, ...options.manifest?.actions });
    this.allowList = new AllowList(storage.settings, this.registry, options.allowedActions);
    this.proposalRecords = storage.proposals;
    const clawshield: TrustedApprover[] = this.clawshieldVerifier ? [{ kind: 'clawshield', verifier: this.clawshieldVerifier }] : [];
    this.operators = new OperatorRegistry(options.dataDir, this.operatorSigner, this.ledgerStore, clawshield);
    // Operator keys added while running join this array: the policy reads it at every decision.
    const approvers = this.operators.approvers;
    this.grants = new GrantAuthority(storage.grants, (id) => this.operators.verifier(id), this.clock, this.bootId);
    this.executionRecords = storage.executions;
    this.engine = new Engine(this.ledgerStore, this.executionRecords, this.registry, this.allowList, this.clock, {
      mode: options.mode,
      approvalPolicy: { approvers, tenantId: options.tenantId, clockSkewMs: options.clockSkewSeconds * 1000 },
      grants: this.grants,
      // Each reads within the decision's transaction (on PostgreSQL, on its connection).
      ...recordCallbacks(this.proposalRecords, storage.toolPins),
    });
    const m = options.manifest;
    this.manifest = m ? { path: m.path, hash: m.hash, definitions: m.definitions } : null;
  }

  /** Which database engine the ledger is on. */
  get storageEngine(): StorageEngine {
    return this.storage.engine;
  }

  /**
   * The synchronous SQLite ledger, which only tests and benchmarks read now (the services, the
   * console and the API go through ledgerStore). On PostgreSQL there is none: refused.
   */
  get ledger(): Ledger {
    const ledger = this.storage.sqliteLedger;
    if (ledger === null) throw new EngineSpecific('the synchronous ledger', 'SQLite', 'read the ledger through core.ledgerStore');
    return ledger;
  }

  /**
   * protocol §3, stronger: valid only for an execution recorded here whose stored result hashes
   * to the receipt, and only when the caller's result text (`json.dumps(result, sort_keys=True)`,
   * as the receipt hashed it) is that same text.
   */
  async verifyLegacyReceipt(execId: string, resultJson: string, receipt: string): Promise<boolean> {
    const stored = await this.legacyReceiptOf(execId);
    return stored !== null && stored === receipt && sha256Hex(`${execId}:${resultJson}`) === receipt;
  }

  /** The protocol §3 `receipt` of an execution recorded here, or null when there is none. */
  async legacyReceiptOf(execId: string): Promise<string | null> {
    const stored = await this.executionRecords.executedResult(execId);
    // The stored text is exactly what was hashed when the receipt was issued; retention clears it.
    return stored === null || stored.legacyJson === null ? null : sha256Hex(`${execId}:${stored.legacyJson}`);
  }

  /**
   * A SQLite ledger's backup: the file copied, verified and recorded by a receipt. On PostgreSQL
   * refused with what to use instead (pg_dump or the server's own backups, which copy a
   * database several instances write consistently).
   */
  backup(path: string): Promise<BackupDto> {
    const ledger = this.storage.sqliteLedger;
    if (ledger === null) return Promise.reject(new EngineSpecific('backup', 'SQLite', POSTGRES_BACKUP_INSTEAD));
    return ledger.backup(this.receiptVerifier, path);
  }

  /**
   * Retention (docs/receipts.md): the bodies of receipts, executions' results and decided
   * proposals older than `cutoff` go, under one `purge` config receipt; every receipt still verifies.
   */
  purgeOlderThan(cutoff: number, trigger: 'retention' | 'operator'): Promise<PurgeDto> {
    return this.ledgerStore.purgeOlderThan(cutoff, trigger);
  }

  /**
   * Stops the engine's threads and closes the storage. On SQLite the connection is closed before
   * this returns (callers that do not await it rely on that); PostgreSQL's pools end when the
   * promise settles, after the writes already submitted.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.engine.close();
    this.closing = this.storage.close();
    return this.closing;
  }

  private closing: Promise<void> | null = null;
}
