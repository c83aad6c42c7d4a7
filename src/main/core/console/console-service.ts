import type { ConsoleApi } from '../../../shared/console-api.ts';
import type { HealthDto, ProposalDetailDto } from '../../../shared/console-dto.ts';
import type { OpenExecCore } from '../openexec-core.ts';
import type { ProposalService } from '../proposals/proposal-service.ts';
import type { EventHub } from '../events/event-hub.ts';
import { Refusal } from '../errors.ts';
import type { GrantService } from '../grants/grant-service.ts';
import type { SimilarGrantInput } from '../../../shared/grant-schemas.ts';
import type { BackupDto, HardeningReportDto } from '../../../shared/hardening.ts';
import { parseRetention, type PurgeInput } from '../../../shared/retention.ts';
import type { ExportQuery } from '../../../shared/console-schemas.ts';
import type { CloseOrphansInput, ClosedOrphansDto } from '../../../shared/orphans.ts';
import { guarded, keyInfo } from './console-guard.ts';
import { ConsoleLedger } from './console-ledger.ts';
import { ConsoleGrants } from './console-grants.ts';
import { ConsoleOperations } from './console-operations.ts';

type Input<M extends keyof ConsoleApi> = Parameters<ConsoleApi[M]>[0];

export interface ConsoleServiceInfo {
  version: string;
  apiAddress: () => string;
  /** The ledger's database as a URL with any password removed. */
  database: string;
  tenantId: string | null;
  warnings: () => readonly string[];
  /** The hardening checklist as the running server sees it (computed in src/main/app). */
  hardeningReport: () => Promise<HardeningReportDto>;
  /** Told of each backup once it is recorded (the app remembers the live head beside the database). */
  onBackup: (backup: BackupDto) => void;
}

/**
 * The operator's console contract, implemented once. Inputs arrive already validated by the
 * shared schemas (IPC dispatch, /console routes); this layer enforces the rules. Proposals and
 * health are answered here; the ledger, grants and configuration each have their own part.
 */
export class ConsoleService implements ConsoleApi {
  private readonly ledgerPart: ConsoleLedger;
  private readonly grantPart: ConsoleGrants;
  private readonly operationsPart: ConsoleOperations;

  constructor(
    private readonly core: OpenExecCore,
    private readonly proposals: ProposalService,
    events: EventHub,
    private readonly info: ConsoleServiceInfo,
    grants: GrantService,
  ) {
    this.ledgerPart = new ConsoleLedger(core, (b) => info.onBackup(b));
    this.grantPart = new ConsoleGrants(proposals, grants);
    this.operationsPart = new ConsoleOperations(core, events);
  }

  health() {
    return guarded(async (): Promise<HealthDto> => {
      const { core } = this;
      const checkpoints = await this.ledgerPart.checkpointStatus();
      const pending = await this.proposals.records.countPending();
      const { executionRecords: executions } = core;
      const [head, executed, approvals] = await Promise.all([
        core.ledgerStore.head(),
        executions.countExecuted(),
        executions.countApprovals(),
      ]);
      return {
        version: this.info.version,
        mode: core.engine.mode,
        signatureVerification: core.engine.mode === 'clawshield' ? 'enabled' : 'disabled',
        tenant: this.info.tenantId,
        apiAddress: this.info.apiAddress(),
        database: this.info.database,
        restriction: core.allowList.list() === null ? 'open' : 'restricted',
        receiptKey: keyInfo(core.receiptVerifier.publicKey, core.receiptVerifier.keyId),
        operatorKey: keyInfo(core.operatorSigner.publicKey, core.operatorSigner.keyId),
        clawshieldKey: core.clawshieldVerifier ? keyInfo(core.clawshieldVerifier.publicKey, core.clawshieldVerifier.keyId) : null,
        manifest: core.manifest
          ? { path: core.manifest.path, hash: core.manifest.hash, count: Object.keys(core.manifest.definitions).length }
          : null,
        counts: {
          pending,
          receipts: head.seq,
          executions: executed,
          approvals,
        },
        checkpoints,
        warnings: [...this.info.warnings()],
      };
    });
  }

  listPending() {
    return guarded(async () => Promise.all((await this.proposals.listPending()).map((r) => this.proposals.dto(r))));
  }

  getProposal(input: { id: string }) {
    return guarded(async (): Promise<ProposalDetailDto> => {
      const { id } = input;
      const row = await this.proposals.get(id);
      if (!row) throw new Refusal('not_found', `No proposal ${id}`);
      return { ...(await this.proposals.dto(row)), previousApproved: await this.proposals.records.lastExecuted(row.action, row.id) };
    });
  }

  extend(input: { id: string; seconds: number }) {
    return guarded(async () => this.proposals.dto(await this.proposals.extend(input.id, input.seconds)));
  }

  approve(input: { id: string; operator?: string | undefined }) {
    return guarded(async () => this.proposals.dto(await this.proposals.approve(input.id, input.operator)));
  }

  deny(input: { id: string; reason: string }) {
    return guarded(async () => this.proposals.dto(await this.proposals.deny(input.id, input.reason)));
  }

  hardeningReport() {
    return guarded(() => this.info.hardeningReport());
  }

  /** A retired instance's executions closed, with the proposals they had claimed (ProposalService.closeOrphans). */
  closeOrphans(input: CloseOrphansInput) {
    return guarded(async (): Promise<ClosedOrphansDto> => {
      const { orphans, settled } = await this.proposals.closeOrphans(input.reservedBy);
      return { reservedBy: input.reservedBy, configSeq: orphans.configSeq, closed: orphans.closed, proposalsSettled: settled };
    });
  }

  // Grants (console-grants.ts).
  previewSimilar(input: SimilarGrantInput) {
    return this.grantPart.previewSimilar(input);
  }

  approveSimilar(input: SimilarGrantInput) {
    return this.grantPart.approveSimilar(input);
  }

  listGrants(input: Input<'listGrants'>) {
    return this.grantPart.listGrants(input);
  }

  revokeGrant(input: Input<'revokeGrant'>) {
    return this.grantPart.revokeGrant(input);
  }

  // Configuration (console-operations.ts).
  listApprovals(input: Input<'listApprovals'>) {
    return this.operationsPart.listApprovals(input);
  }

  getAllowList() {
    return this.operationsPart.getAllowList();
  }

  setAllowed(input: Input<'setAllowed'>) {
    return this.operationsPart.setAllowed(input);
  }

  addAgent(input: Input<'addAgent'>) {
    return this.operationsPart.addAgent(input);
  }

  listAgents() {
    return this.operationsPart.listAgents();
  }

  revokeAgent(input: Input<'revokeAgent'>) {
    return this.operationsPart.revokeAgent(input);
  }

  acceptToolDefinition(input: Input<'acceptToolDefinition'>) {
    return this.operationsPart.acceptToolDefinition(input);
  }

  listOperators() {
    return this.operationsPart.listOperators();
  }

  listToolPins() {
    return this.operationsPart.listToolPins();
  }

  // The ledger (console-ledger.ts).
  searchReceipts(query: Input<'searchReceipts'>) {
    return this.ledgerPart.searchReceipts(query);
  }

  countReceipts(query: Input<'countReceipts'>) {
    return this.ledgerPart.countReceipts(query);
  }

  getReceipt(input: Input<'getReceipt'>) {
    return this.ledgerPart.getReceipt(input);
  }

  verifyReceipt(input: Input<'verifyReceipt'>) {
    return this.ledgerPart.verifyReceipt(input);
  }

  verifyChain() {
    return this.ledgerPart.verifyChain();
  }

  verifyChainRange(input: Input<'verifyChainRange'>) {
    return this.ledgerPart.verifyChainRange(input);
  }

  receiptPublicKey() {
    return this.ledgerPart.receiptPublicKey();
  }

  issueCheckpoint() {
    return this.ledgerPart.issueCheckpoint();
  }

  inclusionProof(input: Input<'inclusionProof'>) {
    return this.ledgerPart.inclusionProof(input);
  }

  exportBundle(query: ExportQuery) {
    return this.ledgerPart.exportBundle(query);
  }

  backup(input: Input<'backup'>) {
    return this.ledgerPart.backup(input);
  }

  /** Retention on demand: what `OPENEXEC_RETENTION` does daily (docs/receipts.md). */
  purge(input: PurgeInput) {
    return guarded(() => {
      const period = parseRetention(input.olderThan);
      if (!period.ok) throw new Refusal('bad_request', `olderThan ${period.problem}`);
      return this.core.purgeOlderThan(this.core.clock.now() - period.ms, 'operator');
    });
  }
}
