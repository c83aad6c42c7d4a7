import type { ConsoleApi } from '../../../shared/console-api.ts';
import type {
  AllowListDto,
  ApprovalDto,
  CheckpointDto,
  CheckpointStatusDto,
  HealthDto,
  InclusionProofDto,
  KeyInfoDto,
  ProposalDetailDto,
} from '../../../shared/console-dto.ts';
import type { StoredCheckpoint } from '../ledger/checkpoint/checkpoints.ts';
import { fail, ok, type ConsoleResult } from '../../../shared/console-result.ts';
import { consoleCodeOf } from '../../../shared/error-codes.ts';
import type { OpenExecCore } from '../openexec-core.ts';
import type { ProposalService } from '../proposals/proposal-service.ts';
import type { EventHub } from '../events/event-hub.ts';
import { Refusal } from '../errors.ts';
import { storageFullDetail } from '../store/storage-full.ts';
import { Ed25519Verifier, publicKeyToPem } from '../crypto/ed25519.ts';
import { approverKeyMap } from '../approval/check-evidence.ts';
import { receiptWithNeighbours, searchReceipts } from '../ledger/receipt-search.ts';
import { verifyChain, verifyChainRange, verifyOneReceipt } from '../ledger/verify-ledger.ts';
import { sideTableProblems } from '../ledger/verify-side-tables.ts';
import type { JsonObject } from '../json/json-value.ts';
import type { GrantRequest, GrantService } from '../grants/grant-service.ts';
import { similarScope } from '../grants/similar-grant.ts';
import { payloadOf } from '../proposals/proposal-store.ts';
import type { SimilarGrantInput } from '../../../shared/grant-schemas.ts';
import type { BackupDto, HardeningReportDto } from '../../../shared/hardening.ts';
import { backupLedger } from '../ledger/backup.ts';
import { purgeOlderThan } from '../ledger/purge.ts';
import { parseRetention, type PurgeInput } from '../../../shared/retention.ts';
import type { ExportQuery } from '../../../shared/console-schemas.ts';
import { buildBundle } from '../ledger/bundle/build-bundle.ts';

interface ApprovalRow {
  seq: number;
  approval_id: string;
  tenant_id: string;
  action_hash: string;
  issued_at: string;
  expires_at: string;
  approver: ApprovalDto['approver'];
  approver_key_id: string;
  verified_at: string;
  action: string | null;
  used_by_exec_id: string | null;
}

export interface ConsoleServiceInfo {
  version: string;
  apiAddress: () => string;
  /** The ledger's database as a URL with any password removed. */
  database: string;
  tenantId: string | null;
  warnings: () => readonly string[];
  /** The hardening checklist as the running server sees it (computed in src/main/app). */
  hardeningReport: () => HardeningReportDto;
  /** Told of each backup once it is recorded (the app remembers the live head beside the database). */
  onBackup: (backup: BackupDto) => void;
}

/** Turns thrown refusals into typed values; anything else is an internal error. */
async function guarded<T>(work: () => T | Promise<T>): Promise<ConsoleResult<T>> {
  try {
    return ok(await work());
  } catch (err) {
    if (err instanceof Refusal) return fail(consoleCodeOf(err.code), err.detail);
    const full = storageFullDetail(err);
    if (full !== null) return fail('unavailable', full);
    process.stderr.write(`openexec: console error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return fail('internal', 'Internal error; see the OpenExec log');
  }
}

function keyInfo(raw: Uint8Array, keyId: string): KeyInfoDto {
  return { keyId, publicKeyPem: publicKeyToPem(raw) };
}

/**
 * The operator's console contract, implemented once. Inputs arrive already validated by the
 * shared schemas (IPC dispatch, /console routes); this layer enforces the rules.
 */
export class ConsoleService implements ConsoleApi {
  constructor(
    private readonly core: OpenExecCore,
    private readonly proposals: ProposalService,
    private readonly events: EventHub,
    private readonly info: ConsoleServiceInfo,
    private readonly grants: GrantService,
  ) {}

  health() {
    return guarded((): HealthDto => {
      const { core } = this;
      const count = (sql: string) => core.db.prepare(sql).pluck().get() as number;
      return {
        version: this.info.version,
        mode: core.engine.mode,
        signatureVerification: core.engine.mode === 'clawshield' ? 'enabled' : 'disabled',
        tenant: this.info.tenantId,
        apiAddress: this.info.apiAddress(),
        database: this.info.database,
        restriction: core.allowList.list() === null ? 'open' : 'restricted',
        receiptKey: keyInfo(core.ledger.publicKey, core.ledger.keyId),
        operatorKey: keyInfo(core.operatorSigner.publicKey, core.operatorSigner.keyId),
        clawshieldKey: core.clawshieldVerifier ? keyInfo(core.clawshieldVerifier.publicKey, core.clawshieldVerifier.keyId) : null,
        manifest: core.manifest
          ? { path: core.manifest.path, hash: core.manifest.hash, count: Object.keys(core.manifest.definitions).length }
          : null,
        counts: {
          pending: this.proposals.store.countPending(),
          receipts: count('SELECT coalesce(max(seq), 0) FROM receipts'),
          executions: count("SELECT count(*) FROM executions WHERE status = 'executed'"),
          approvals: count('SELECT count(*) FROM approvals'),
        },
        checkpoints: this.checkpointStatus(),
        warnings: [...this.info.warnings()],
      };
    });
  }

  private checkpointStatus(): CheckpointStatusDto {
    const { checkpoints } = this.core;
    const latest = checkpoints.latest();
    const witnessed = checkpoints.latestWitnessed();
    return {
      latest: latest && { size: latest.size, rootHash: Buffer.from(latest.root).toString('hex'), createdAt: latest.createdAt },
      witnessDir: checkpoints.witnessDir,
      witnessed: witnessed && { size: witnessed.size, file: witnessed.file },
      witnessProblem: checkpoints.witnessProblem(),
    };
  }

  listPending() {
    return guarded(() => this.proposals.listPending().map((r) => this.proposals.dto(r)));
  }

  getProposal(input: { id: string }) {
    return guarded((): ProposalDetailDto => {
      const { id } = input;
      const row = this.proposals.get(id);
      if (!row) throw new Refusal('not_found', `No proposal ${id}`);
      return { ...this.proposals.dto(row), previousApproved: this.proposals.store.lastExecuted(row.action, row.id) };
    });
  }

  extend(input: { id: string; seconds: number }) {
    return guarded(() => this.proposals.dto(this.proposals.extend(input.id, input.seconds)));
  }

  approve(input: { id: string; operator?: string | undefined }) {
    return guarded(async () => this.proposals.dto(await this.proposals.approve(input.id, input.operator)));
  }

  /** The grant for requests like a pending proposal: its payload with `vary` let free. */
  private similarRequest(input: SimilarGrantInput): GrantRequest {
    const row = this.proposals.get(input.id);
    if (!row) throw new Refusal('not_found', `No proposal ${input.id}`);
    if (row.status !== 'pending') throw new Refusal('conflict', `Proposal ${input.id} is already ${row.status}`);
    return {
      action: row.action,
      ...similarScope(payloadOf(row), input.vary),
      uses: input.uses ?? null,
      forSeconds: input.forSeconds ?? null,
      untilRestart: input.untilRestart ?? false,
      reason: input.reason || `requests like proposal ${row.id}`,
      proposalId: row.id,
    };
  }

  previewSimilar(input: SimilarGrantInput) {
    return guarded(() => this.grants.preview(this.similarRequest(input)));
  }

  approveSimilar(input: SimilarGrantInput) {
    return guarded(async () => {
      const request = this.similarRequest(input);
      // Refused terms stop here, before the proposal is approved.
      this.grants.preview(request);
      const approved = await this.proposals.approve(input.id);
      if (approved.status !== 'executed') {
        throw new Refusal(
          'conflict',
          `Proposal ${input.id} was approved but ${approved.status}: ${approved.reason ?? ''}; no grant was issued`,
        );
      }
      return { proposal: this.proposals.dto(approved), grant: this.grants.issue(request) };
    });
  }

  listGrants(input: { all?: boolean | undefined }) {
    return guarded(() => this.grants.list(input.all === true));
  }

  revokeGrant(input: { id: string; reason: string }) {
    return guarded(() => this.grants.revoke(input.id, input.reason));
  }

  deny(input: { id: string; reason: string }) {
    return guarded(() => this.proposals.dto(this.proposals.deny(input.id, input.reason)));
  }

  listApprovals(input: { limit?: number | undefined; beforeSeq?: number | undefined }) {
    return guarded((): ApprovalDto[] => {
      const { limit, beforeSeq } = input;
      const rows = this.core.db
        .prepare(
          `SELECT rowid AS seq, * FROM approvals ${beforeSeq === undefined ? '' : 'WHERE rowid < @beforeSeq'}
           ORDER BY rowid DESC LIMIT @limit`,
        )
        .all({ limit: limit ?? 100, ...(beforeSeq === undefined ? {} : { beforeSeq }) }) as ApprovalRow[];
      return rows.map((r) => ({
        seq: r.seq,
        approvalId: r.approval_id,
        tenantId: r.tenant_id,
        actionHash: r.action_hash,
        issuedAt: r.issued_at,
        expiresAt: r.expires_at,
        approver: r.approver,
        approverKeyId: r.approver_key_id,
        verifiedAt: r.verified_at,
        action: r.action,
        usedByExecId: r.used_by_exec_id,
      }));
    });
  }

  getAllowList() {
    return guarded(() => this.core.allowList.snapshot());
  }

  setAllowed(input: { action: string; allowed: boolean }) {
    return guarded((): AllowListDto => {
      const { action, allowed } = input;
      const { allowList, registry, db, ledger } = this.core;
      if (allowList.locked) {
        throw new Refusal('locked', 'The allow-list is fixed by OPENEXEC_ALLOWED_ACTIONS; change it there and restart');
      }
      if (!registry.has(action)) throw new Refusal('unknown_action', `Unknown action: ${action}`);
      const before = allowList.list();
      let after: string[] | null = before;
      let changed = false;
      try {
        db.transaction(() => {
          ({ changed, list: after } = allowList.set(action, allowed));
          if (!changed) return;
          const details = Object.create(null) as JsonObject;
          details['before'] = before;
          details['after'] = after;
          ledger.append({ event: 'config', action, reason: `allow-list: ${allowed ? 'allowed' : 'disallowed'} ${action}`, details });
        }).immediate();
      } catch (err) {
        ledger.discardUncommitted();
        throw err;
      }
      if (changed) {
        allowList.adopt(after);
        ledger.publishCommitted();
      }
      const snapshot = allowList.snapshot();
      if (changed) this.events.emit({ type: 'allow-list', allowList: snapshot });
      return snapshot;
    });
  }

  searchReceipts(query: Parameters<ConsoleApi['searchReceipts']>[0]) {
    return guarded(() => searchReceipts(this.core.db, query));
  }

  getReceipt(input: { seq: number }) {
    return guarded(() => {
      const { seq } = input;
      const found = receiptWithNeighbours(this.core.db, seq);
      if (!found) throw new Refusal('not_found', `No receipt ${seq}`);
      return found;
    });
  }

  verifyReceipt(input: { seq: number }) {
    return guarded(() => {
      const { seq } = input;
      const check = verifyOneReceipt(this.core.db, this.core.receiptVerifier, seq, this.approvers());
      if (!check) throw new Refusal('not_found', `No receipt ${seq}`);
      return check;
    });
  }

  verifyChain() {
    return guarded(() => {
      const chain = verifyChain(this.core.db, this.core.receiptVerifier, this.approvers());
      const side = chain.valid ? sideTableProblems(this.core.db, 1) : [];
      return side.length === 0 ? chain : { ...chain, valid: false, problem: `side tables: ${side[0]}` };
    });
  }

  verifyChainRange(input: { fromSeq: number; limit: number }) {
    return guarded(() => {
      const range = verifyChainRange(this.core.db, this.core.receiptVerifier, input.fromSeq, input.limit, this.approvers());
      // The last chunk of a whole-ledger check also holds the side tables to the receipts.
      const side = range.valid && range.nextSeq === null ? sideTableProblems(this.core.db, 1) : [];
      return side.length === 0 ? range : { ...range, valid: false, problem: `side tables: ${side[0]}` };
    });
  }

  receiptPublicKey() {
    return guarded(() => keyInfo(this.core.ledger.publicKey, this.core.ledger.keyId));
  }

  addAgent(input: { name: string }) {
    return guarded(() => {
      const { agent, token } = this.core.agents.add(input.name);
      return { name: agent.name, token };
    });
  }

  listAgents() {
    return guarded(() => this.core.agents.list());
  }

  revokeAgent(input: { name: string }) {
    return guarded(() => this.core.agents.revoke(input.name));
  }

  acceptToolDefinition(input: { action: string }) {
    return guarded(() => this.core.toolPins.accept(input.action));
  }

  issueCheckpoint() {
    return guarded((): CheckpointDto => this.checkpointDto(this.core.checkpoints.issue()));
  }

  inclusionProof(input: { seq: number }) {
    return guarded((): InclusionProofDto => {
      const { core } = this;
      if (!(input.seq >= 1 && input.seq <= core.ledger.size())) throw new Refusal('not_found', `No receipt ${input.seq}`);
      const latest = core.checkpoints.latest();
      const checkpoint = latest !== null && latest.size >= input.seq ? latest : core.checkpoints.issue();
      const p = core.proofs.inclusion(input.seq, checkpoint.size);
      return {
        checkpoint: this.checkpointDto(checkpoint),
        leafIndex: p.leaf_index,
        treeSize: p.tree_size,
        receiptHash: p.receipt_hash,
        proof: p.proof,
        rootHash: p.root_hash,
      };
    });
  }

  /** The approver keys receipts' approval evidence must verify with. */
  private approvers() {
    return approverKeyMap([this.core.clawshieldVerifier, new Ed25519Verifier(this.core.operatorSigner.publicKey)]);
  }

  exportBundle(query: ExportQuery) {
    return guarded(() => buildBundle(this.core, query));
  }

  private checkpointDto(checkpoint: StoredCheckpoint): CheckpointDto {
    const c = this.core.proofs.checkpointView(checkpoint);
    return { origin: c.origin, size: c.size, rootHash: c.root_hash, createdAt: c.created_at, note: c.note };
  }

  hardeningReport() {
    return guarded(() => this.info.hardeningReport());
  }

  backup(input: { path: string }) {
    return guarded(async () => {
      const b = await backupLedger(this.core.db, this.core.ledger, this.core.receiptVerifier, input.path);
      // A checkpoint now covers the backup receipt; with OPENEXEC_WITNESS_DIR its copy outside
      // the data directory makes a later start on the (shorter) restored copy refuse.
      try {
        this.core.checkpoints.issue();
      } catch {
        // Issued again on the next receipt or tick; the backup stands.
      }
      this.info.onBackup(b);
      return b;
    });
  }

  /** Retention on demand: what `OPENEXEC_RETENTION` does daily (docs/receipts.md). */
  purge(input: PurgeInput) {
    return guarded(() => {
      const period = parseRetention(input.olderThan);
      if (!period.ok) throw new Refusal('bad_request', `olderThan ${period.problem}`);
      return purgeOlderThan(this.core.db, this.core.ledger, this.core.clock.now() - period.ms, 'operator');
    });
  }
}
