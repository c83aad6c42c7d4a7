import type {
  AllowListDto,
  ApprovalDto,
  ChainCheckDto,
  ChainRangeDto,
  ConsoleEvent,
  HealthDto,
  KeyInfoDto,
  ProposalDto,
  ReceiptCheckDto,
  ReceiptPage,
  ReceiptWithNeighboursDto,
} from './console-dto';
import type { ConsoleResult } from './console-result';
import type {
  ChainRangeInput,
  DenyInput,
  PageInput,
  ProposalIdInput,
  ReceiptQuery,
  ReceiptSeqInput,
  SetAllowedInput,
} from './console-schemas';
import {
  chainRangeInput,
  denyInput,
  emptyInput,
  pageInput,
  proposalIdInput,
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
  getProposal(input: ProposalIdInput): Promise<ConsoleResult<ProposalDto>>;
  approve(input: ProposalIdInput): Promise<ConsoleResult<ProposalDto>>;
  deny(input: DenyInput): Promise<ConsoleResult<ProposalDto>>;
  listApprovals(input: PageInput): Promise<ConsoleResult<ApprovalDto[]>>;
  getAllowList(): Promise<ConsoleResult<AllowListDto>>;
  setAllowed(input: SetAllowedInput): Promise<ConsoleResult<AllowListDto>>;
  searchReceipts(input: ReceiptQuery): Promise<ConsoleResult<ReceiptPage>>;
  getReceipt(input: ReceiptSeqInput): Promise<ConsoleResult<ReceiptWithNeighboursDto>>;
  verifyReceipt(input: ReceiptSeqInput): Promise<ConsoleResult<ReceiptCheckDto>>;
  verifyChain(): Promise<ConsoleResult<ChainCheckDto>>;
  /** One chunk of the whole-ledger check, so a caller can show progress and stop between chunks. */
  verifyChainRange(input: ChainRangeInput): Promise<ConsoleResult<ChainRangeDto>>;
  receiptPublicKey(): Promise<ConsoleResult<KeyInfoDto>>;
}

/** Request/response methods and the schema that validates each one's single argument. */
export const CONSOLE_METHODS = {
  health: emptyInput,
  listPending: emptyInput,
  getProposal: proposalIdInput,
  approve: proposalIdInput,
  deny: denyInput,
  listApprovals: pageInput,
  getAllowList: emptyInput,
  setAllowed: setAllowedInput,
  searchReceipts: receiptQueryInput,
  getReceipt: receiptSeqInput,
  verifyReceipt: receiptSeqInput,
  verifyChain: emptyInput,
  verifyChainRange: chainRangeInput,
  receiptPublicKey: emptyInput,
} as const satisfies Record<keyof ConsoleApi, unknown>;

export type ConsoleMethod = keyof ConsoleApi;
export const CONSOLE_METHOD_NAMES = Object.keys(CONSOLE_METHODS) as ConsoleMethod[];

/** What the preload puts on `window.openexec`: the methods plus an event subscription. */
export interface ConsoleBridge extends ConsoleApi {
  /** Pushed proposal, receipt and allow-list changes. Returns an unsubscribe function. */
  onEvent(listener: (event: ConsoleEvent) => void): () => void;
}

export const BRIDGE_GLOBAL = 'openexec';
export const IPC_CHANNEL_PREFIX = 'console:';
export const IPC_EVENT_CHANNEL = 'console-event';
export type { ReceiptPage };
