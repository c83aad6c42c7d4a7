import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase, type Synchronous } from './store/database.ts';
import { Ledger } from './ledger/ledger.ts';
import { LedgerReader } from './ledger/ledger-reader.ts';
import { SettingsStore } from './store/settings-store.ts';
import { ExecutionStore, type ExecutionReads } from './engine/execution-store.ts';
import { ProposalStore } from './proposals/proposal-store.ts';
import type { PurgeDto } from '../../shared/retention.ts';
import { Checkpoints } from './ledger/checkpoint/checkpoints.ts';
import { LedgerProofs } from './ledger/proofs.ts';
import { Ed25519Verifier, type Ed25519Signer } from './crypto/ed25519.ts';
import { KeyFileError, loadOrCreateSigningKey } from './crypto/key-file.ts';
import { sealRegistry, type ActionDefinition, type ActionHandler, type ActionRegistry } from './actions/action-registry.ts';
import { BUILTIN_ACTIONS } from './actions/builtin-actions.ts';
import { AllowList } from './engine/allow-list.ts';
import { Engine } from './engine/engine.ts';
import { recordCallbacks } from './engine/record-callbacks.ts';
import { closeInterruptedAtStart } from './engine/close-at-start.ts';
import { SqliteLedgerStore } from './store/sqlite/sqlite-ledger-store.ts';
import { SqliteExecutionRecords } from './store/sqlite/sqlite-execution-records.ts';
import { SqliteMerkleTree } from './store/sqlite/sqlite-merkle-tree.ts';
import { WalCheckpointer } from './store/wal-checkpointer.ts';
import type { TrustedApprover } from './approval/validate-approval.ts';
import { systemClock, type Clock } from './clock.ts';
import type { ExecMode } from '../../shared/console-dto.ts';
import { sha256Hex } from './json/request-hash.ts';
import type { DeclaredManifest } from './actions/declared/manifest.ts';
import { recordManifest, type ManifestInForce } from './actions/declared/manifest-receipt.ts';
import { GrantAuthority } from './grants/grant-authority.ts';
import { GrantStore } from './grants/grant-store.ts';
import { OperatorRegistry } from './approval/operator-registry.ts';
import { AgentRegistry } from './agents/agent-registry.ts';
import { ToolPins } from './actions/tool-pins.ts';
import { ToolPinTable } from './actions/tool-pin-table.ts';
import { AgentTable } from './agents/agent-table.ts';
import type { LedgerStore } from './store/ledger-store.ts';
import type { ExecutionRecords } from './store/execution-records.ts';
import {
  SqliteAgentRecords,
  SqliteCheckpointRecords,
  SqliteGrantRecords,
  SqliteProposalRecords,
  SqliteSettingRecords,
  SqliteToolPinRecords,
} from './store/sqlite/sqlite-records.ts';
import type { ProposalRecords } from './store/proposal-records.ts';
import { CheckpointTable } from './ledger/checkpoint/checkpoint-table.ts';

export interface CoreOptions {
  mode: ExecMode;
  dataDir: string;
  dbPath: string;
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
   * The one connection, private: each table is read and written only through its store
   * (README, "Layout"; test/architecture/table-owners.test.ts), which the core constructs here.
   */
  private readonly db: SqliteDatabase;
  readonly ledger: Ledger;
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
  /** This process run: `until_restart` grants issued in another run are over. */
  readonly bootId = randomUUID();
  readonly checkpoints: Checkpoints;
  readonly proofs: LedgerProofs;
  readonly clock: Clock;
  /** The manifest of declared actions in force, or null. */
  readonly manifest: ManifestInForce | null;
  /** Registered agents and their (hashed) tokens. */
  readonly agents: AgentRegistry;
  /** Pinned tool definitions of upstream MCP servers (openexec mcp proxy). */
  readonly toolPins: ToolPins;
  /** Executions and the approvals they spent, to read: the engine (its own store) alone writes them. */
  readonly executionStore: ExecutionReads;
  /** The executions as the engine reads and ends them (within a witnessed write, `within(tx)`), and as the console, bundles and protocol §3 read them. */
  readonly executionRecords: ExecutionRecords;
  /** The same store with its writes, kept here for retention's purge. */
  private readonly executionWrites: ExecutionStore;
  /** Proposals and their quorum approvals (the proposal service writes them). */
  readonly proposalStore: ProposalStore;
  /** WAL checkpoints beside the event loop (SQLite). */
  private readonly checkpointer: WalCheckpointer;
  /** The same proposals behind ProposalRecords, which the proposal service reads and writes through. */
  readonly proposalRecords: ProposalRecords;
  /**
   * The ledger behind the asynchronous interface the engine and the services write through
   * (README, "PostgreSQL"), with the record stores they are given here.
   */
  readonly ledgerStore: LedgerStore;

  /**
   * Opens the core: constructs it, then writes what start-up witnesses (operator keys loaded for
   * the first time, grants that ended while it was stopped, the manifest in force when it
   * changed), which the LedgerStore does asynchronously.
   */
  static async open(options: CoreOptions): Promise<OpenExecCore> {
    const core = new OpenExecCore(options);
    try {
      await core.allowList.load();
      await core.operators.loadAll();
      // Grants that ended while OpenExec was stopped (expired, or valid until that restart).
      await core.ledgerStore.witness((tx) => core.grants.endDueWithin(tx));
      await recordManifest(core.ledgerStore, core.manifest);
    } catch (err) {
      core.close();
      throw err;
    }
    return core;
  }

  private constructor(readonly options: CoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.db = openDatabase(options.dbPath, { synchronous: options.synchronous });
    try {
      const receiptKey = loadReceiptKey(new LedgerReader(this.db).signedBy(), join(options.dataDir, RECEIPT_KEY_FILE));
      this.operatorSigner = loadOrCreateSigningKey(join(options.dataDir, OPERATOR_KEY_FILE)).signer;
      this.receiptVerifier = new Ed25519Verifier(receiptKey.publicKey);
      this.clawshieldVerifier = options.clawshieldPublicKey ? new Ed25519Verifier(options.clawshieldPublicKey) : null;
      this.ledger = new Ledger(this.db, receiptKey, this.clock);
      this.executionWrites = new ExecutionStore(this.db);
      this.proposalStore = new ProposalStore(this.db);
      this.ledgerStore = new SqliteLedgerStore(this.db, this.ledger, this.executionWrites, this.proposalStore);
      const checkpointRecords = new SqliteCheckpointRecords(new CheckpointTable(this.db));
      const tree = new SqliteMerkleTree(this.ledger);
      this.checkpoints = new Checkpoints(checkpointRecords, this.ledgerStore, tree, receiptKey, this.operatorSigner, this.clock, {
        every: options.checkpointEvery ?? 1000,
        intervalMs: (options.checkpointIntervalSeconds ?? 60) * 1000,
        witnessDir: options.witnessDir ?? null,
      });
      this.proofs = new LedgerProofs(tree, this.checkpoints);
      this.agents = new AgentRegistry(new SqliteAgentRecords(new AgentTable(this.db)), this.ledgerStore, this.clock);
      const pinRecords = new SqliteToolPinRecords(new ToolPinTable(this.db));
      this.toolPins = new ToolPins(pinRecords, this.ledgerStore, this.clock);
      this.registry = sealRegistry({ ...BUILTIN_ACTIONS, ...options.extraActions, ...options.manifest?.actions });
      this.allowList = new AllowList(new SqliteSettingRecords(new SettingsStore(this.db)), this.registry, options.allowedActions);
      this.executionStore = this.executionWrites;
      this.proposalRecords = new SqliteProposalRecords(this.proposalStore);
      const clawshield: TrustedApprover[] = this.clawshieldVerifier ? [{ kind: 'clawshield', verifier: this.clawshieldVerifier }] : [];
      this.operators = new OperatorRegistry(options.dataDir, this.operatorSigner, this.ledgerStore, clawshield);
      // Operator keys added while running join this array: the policy reads it at every decision.
      const approvers = this.operators.approvers;
      this.grants = new GrantAuthority(
        new SqliteGrantRecords(new GrantStore(this.db)),
        (id) => this.operators.verifier(id),
        this.clock,
        this.bootId,
      );
      this.checkpointer = new WalCheckpointer(this.db);
      // Executions a stop left running are closed before anything starts on this core.
      closeInterruptedAtStart(this.ledger, this.executionWrites);
      this.executionRecords = new SqliteExecutionRecords(this.executionWrites, this.ledger.read);
      this.engine = new Engine(this.ledgerStore, this.executionRecords, this.registry, this.allowList, this.clock, {
        mode: options.mode,
        approvalPolicy: { approvers, tenantId: options.tenantId, clockSkewMs: options.clockSkewSeconds * 1000 },
        grants: this.grants,
        // Each reads within the decision's transaction (on PostgreSQL, on its connection).
        ...recordCallbacks(this.proposalRecords, pinRecords),
      });
      const m = options.manifest;
      this.manifest = m ? { path: m.path, hash: m.hash, definitions: m.definitions } : null;
    } catch (err) {
      this.db.close();
      throw err;
    }
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
   * Retention (docs/receipts.md): the bodies of receipts, executions' results and decided
   * proposals older than `cutoff` go, under one `purge` config receipt; every receipt still verifies.
   */
  purgeOlderThan(cutoff: number, trigger: 'retention' | 'operator'): Promise<PurgeDto> {
    return this.ledgerStore.purgeOlderThan(cutoff, trigger);
  }

  close(): void {
    this.engine.close();
    this.checkpointer.close();
    if (this.db.open) this.db.close();
  }
}

/**
 * The receipt key, created only for an empty ledger: a new key over existing receipts would
 * make every earlier signature unverifiable, so a missing or different key stops start-up.
 */
function loadReceiptKey(signedBy: string | null, file: string): Ed25519Signer {
  if (signedBy === null) return loadOrCreateSigningKey(file).signer;
  let signer: Ed25519Signer;
  try {
    signer = loadOrCreateSigningKey(file, { mayCreate: false }).signer;
  } catch (err) {
    if (err instanceof KeyFileError && /is missing$/.test(err.message)) {
      throw new KeyFileError(`${file} is missing, but the ledger is signed by receipt key ${signedBy}: restore that key file`);
    }
    throw err;
  }
  if (signer.keyId !== signedBy) {
    throw new KeyFileError(
      `${file} holds key ${signer.keyId}, but the ledger is signed by receipt key ${signedBy}: restore the original key file`,
    );
  }
  return signer;
}
