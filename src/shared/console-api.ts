import type {
  AgentDto,
  AgentTokenDto,
  ToolPinDto,
  ToolPinStateDto,
  OperatorDto,
  AllowListDto,
  ApprovalDto,
  ChainCheckDto,
  CheckpointDto,
  InclusionProofDto,
  ChainRangeDto,
  ConsoleEvent,
  ExportBundleDto,
  HealthDto,
  KeyInfoDto,
  NotifyResultDto,
  ProposalDetailDto,
  ProposalDto,
  ReceiptCheckDto,
  ReceiptCountDto,
  ReceiptPage,
  ReceiptWithNeighboursDto,
} from './console-dto';
import type { BackupDto, HardeningReportDto } from './hardening';
import { purgeInput, type PurgeDto, type PurgeInput } from './retention';
import { closeOrphansInput, type ClosedOrphansDto, type CloseOrphansInput } from './orphans';
import type { ConsoleResult } from './console-result';
import type { GrantDto, GrantPreviewDto, SimilarApprovalDto } from './grant-dto';
import type { ListGrantsInput, RevokeGrantInput, SimilarGrantInput } from './grant-schemas';
import { listGrantsInput, revokeGrantInput, similarGrantInput } from './grant-schemas';
import type {
  ApproveInput,
  ChainRangeInput,
  AgentNameInput,
  ToolActionInput,
  DenyInput,
  BackupInput,
  ExportQuery,
  ExtendInput,
  PageInput,
  ProposalIdInput,
  ReceiptCountQuery,
  ReceiptQuery,
  ReceiptSeqInput,
  SetAllowedInput,
} from './console-schemas';
import {
  approveInput,
  chainRangeInput,
  backupInput,
  agentNameInput,
  toolActionInput,
  denyInput,
  emptyInput,
  exportQueryInput,
  extendInput,
  pageInput,
  proposalIdInput,
  receiptCountInput,
  receiptQueryInput,
  receiptSeqInput,
  setAllowedInput,
} from './console-schemas';

/**
 * The operator's contract: implemented once in the main process, exposed over Electron IPC
 * (preload) and over HTTP under /console/* for headless use. The renderer sees only this.
 */
export interface ConsoleApi {
  health(): Promise<ConsoleResult<HealthDto>>;
  listPending(): Promise<ConsoleResult<ProposalDto[]>>;
  getProposal(input: ProposalIdInput): Promise<ConsoleResult<ProposalDetailDto>>;
  /** Approves with an operator's key; for a quorum action, short of the quorum it stays pending. */
  approve(input: ApproveInput): Promise<ConsoleResult<ProposalDto>>;
  deny(input: DenyInput): Promise<ConsoleResult<ProposalDto>>;
  /** Moves a pending proposal's expiry later (bounded), witnessed by an `extended` receipt. */
  extend(input: ExtendInput): Promise<ConsoleResult<ProposalDto>>;
  listApprovals(input: PageInput): Promise<ConsoleResult<ApprovalDto[]>>;
  getAllowList(): Promise<ConsoleResult<AllowListDto>>;
  setAllowed(input: SetAllowedInput): Promise<ConsoleResult<AllowListDto>>;
  searchReceipts(input: ReceiptQuery): Promise<ConsoleResult<ReceiptPage>>;
  /**
   * How many receipts the search's filters match in all (searchReceipts' `total`), and through
   * which seq: the console shows a page first and asks this after, as it may take longer.
   */
  countReceipts(input: ReceiptCountQuery): Promise<ConsoleResult<ReceiptCountDto>>;
  getReceipt(input: ReceiptSeqInput): Promise<ConsoleResult<ReceiptWithNeighboursDto>>;
  verifyReceipt(input: ReceiptSeqInput): Promise<ConsoleResult<ReceiptCheckDto>>;
  verifyChain(): Promise<ConsoleResult<ChainCheckDto>>;
  /** One chunk of the whole-ledger check, so a caller can show progress and stop between chunks. */
  verifyChainRange(input: ChainRangeInput): Promise<ConsoleResult<ChainRangeDto>>;
  receiptPublicKey(): Promise<ConsoleResult<KeyInfoDto>>;
  /** Signs a checkpoint of the ledger as it is now (the latest one if nothing was added). */
  issueCheckpoint(): Promise<ConsoleResult<CheckpointDto>>;
  /**
   * The receipts a query matches as a bundle a reviewer verifies offline: ascending seq, a
   * signed checkpoint, each receipt's inclusion proof and result. `openexec export` calls this.
   */
  exportBundle(input: ExportQuery): Promise<ConsoleResult<ExportBundleDto>>;
  /** A receipt's inclusion proof against the latest checkpoint (one is issued if none covers it). */
  inclusionProof(input: ReceiptSeqInput): Promise<ConsoleResult<InclusionProofDto>>;
  /** The grant "Approve similar…" would sign for this proposal, for the operator to read first. */
  previewSimilar(input: SimilarGrantInput): Promise<ConsoleResult<GrantPreviewDto>>;
  /** Approves the proposal once and, if it executed, signs a grant for requests like it. */
  approveSimilar(input: SimilarGrantInput): Promise<ConsoleResult<SimilarApprovalDto<ProposalDto>>>;
  /** Live grants, or (`all`) the latest ones whatever their state. */
  listGrants(input: ListGrantsInput): Promise<ConsoleResult<GrantDto[]>>;
  /** Ends a live grant now, witnessed by a `config` receipt. */
  revokeGrant(input: RevokeGrantInput): Promise<ConsoleResult<GrantDto>>;
  /** The production hardening checklist, checked by the running server (`openexec doctor`). */
  hardeningReport(): Promise<ConsoleResult<HardeningReportDto>>;
  /** An online, verified copy of the database, recorded by a `config` receipt. */
  backup(input: BackupInput): Promise<ConsoleResult<BackupDto>>;
  /** Removes the bodies older than the period; every receipt still verifies (docs/receipts.md). */
  purge(input: PurgeInput): Promise<ConsoleResult<PurgeDto>>;
  /** Registers an agent; the answer holds its token, which is never shown again. */
  addAgent(input: AgentNameInput): Promise<ConsoleResult<AgentTokenDto>>;
  listAgents(): Promise<ConsoleResult<AgentDto[]>>;
  /** Its token stops working at once; the name stays in the ledger and is never reused. */
  revokeAgent(input: AgentNameInput): Promise<ConsoleResult<AgentDto>>;
  /** The operator keys that can sign approvals (the primary first); keys added while running are loaded. */
  listOperators(): Promise<ConsoleResult<OperatorDto[]>>;
  /** Pinned MCP tools, those whose upstream definition changed (and what to) first. */
  listToolPins(): Promise<ConsoleResult<ToolPinStateDto[]>>;
  /**
   * Accepts the changed upstream definition of an MCP tool; until then its calls are refused.
   * With `hash`, only that definition (refused if the upstream changed again since).
   */
  acceptToolDefinition(input: ToolActionInput): Promise<ConsoleResult<ToolPinDto>>;
  /**
   * PostgreSQL: closes as interrupted, each with a receipt this instance signs, the executions
   * an instance gone for good (receipt key `reservedBy`) left running, under a `config` receipt
   * that records the operator retiring that key. Refused for this instance's key, a key the
   * ledger never registered, while that instance is connected, and on SQLite.
   */
  closeOrphans(input: CloseOrphansInput): Promise<ConsoleResult<ClosedOrphansDto>>;
}

/** Request/response methods and the schema that validates each one's single argument. */
export const CONSOLE_METHODS = {
  health: emptyInput,
  listPending: emptyInput,
  getProposal: proposalIdInput,
  approve: approveInput,
  deny: denyInput,
  extend: extendInput,
  listApprovals: pageInput,
  getAllowList: emptyInput,
  setAllowed: setAllowedInput,
  searchReceipts: receiptQueryInput,
  countReceipts: receiptCountInput,
  getReceipt: receiptSeqInput,
  verifyReceipt: receiptSeqInput,
  verifyChain: emptyInput,
  verifyChainRange: chainRangeInput,
  receiptPublicKey: emptyInput,
  issueCheckpoint: emptyInput,
  exportBundle: exportQueryInput,
  inclusionProof: receiptSeqInput,
  previewSimilar: similarGrantInput,
  approveSimilar: similarGrantInput,
  listGrants: listGrantsInput,
  revokeGrant: revokeGrantInput,
  hardeningReport: emptyInput,
  backup: backupInput,
  purge: purgeInput,
  addAgent: agentNameInput,
  listAgents: emptyInput,
  revokeAgent: agentNameInput,
  listOperators: emptyInput,
  listToolPins: emptyInput,
  acceptToolDefinition: toolActionInput,
  closeOrphans: closeOrphansInput,
} as const satisfies Record<keyof ConsoleApi, unknown>;

export type ConsoleMethod = keyof ConsoleApi;
export const CONSOLE_METHOD_NAMES = Object.keys(CONSOLE_METHODS) as ConsoleMethod[];

/** Whether the bridge can reach the core right now. */
export type ConnectionState = 'connected' | 'disconnected';

/**
 * What the preload puts on `window.openexec`: the methods, an event subscription, the
 * connection signal and the desktop notification request, which exist only in a window.
 */
export interface ConsoleBridge extends ConsoleApi {
  /** Pushed proposal, receipt and allow-list changes. Returns an unsubscribe function. */
  onEvent(listener: (event: ConsoleEvent) => void): () => void;
  /** Told when the core goes away and when it is back. Returns an unsubscribe function. */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /**
   * Asks for an OS notification about a pending proposal. The main process writes the text
   * from the proposal itself and shows each proposal at most once.
   */
  notifyProposal(input: ProposalIdInput): Promise<ConsoleResult<NotifyResultDto>>;
}

/** The bridge's members beyond the request/response methods. */
export const BRIDGE_EXTRAS = ['onEvent', 'onConnection', 'notifyProposal'] as const;

export const BRIDGE_GLOBAL = 'openexec';
export const IPC_CHANNEL_PREFIX = 'console:';
export const IPC_EVENT_CHANNEL = 'console-event';
export const IPC_CONNECTION_CHANNEL = 'console-connection';
export const IPC_NOTIFY_CHANNEL = 'console-notify';
/** notifyProposal's argument, validated in the main process like every method's. */
export const NOTIFY_INPUT = proposalIdInput;
export type { ReceiptPage };
