/**
 * Data shapes that cross the process boundary (main ⇄ renderer, CLI ⇄ server).
 * Everything here is plain, structured-clone-safe data: numbers that must stay exact
 * (payloads, results) travel as canonical JSON text, never as JS numbers.
 */

import type { CheckpointStatusDto, KeyInfoDto, ReceiptDto } from './ledger-dto';

export * from './ledger-dto';

export type ExecMode = 'demo' | 'clawshield';

export type ProposalStatus = 'pending' | 'executed' | 'denied' | 'expired' | 'failed';

/** What a declared action will do, rendered from the payload by the main process. */
export interface ActionPreview {
  kind: 'builtin' | 'run' | 'write_file' | 'http';
  /** The concrete command line, file path or method + URL, one item per line. */
  lines: string[];
  risk: 'low' | 'medium' | 'high' | null;
  /** sha256 of the action's canonical definition, or null for built-ins. */
  definitionHash: string | null;
}

export interface ProposalDto {
  id: string;
  action: string;
  nonce: string;
  /** Canonical JSON text of the payload (protocol §1), exact at any integer size. */
  payloadCanonical: string;
  /** Canonical JSON text of {"action","payload"}: exactly what an approval signs over. */
  requestCanonical: string;
  requestHash: string;
  /** Free text the agent gives the human; untrusted, display as text only. */
  context: string | null;
  /** The agent whose token made the proposal (verified, unlike `context`); null without a token. */
  agent: string | null;
  status: ProposalStatus;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  /** Why it was denied, expired or failed. */
  reason: string | null;
  /** Canonical JSON text of the handler's result once executed. */
  resultCanonical: string | null;
  execId: string | null;
  /** Sequence number of the receipt that closed the proposal. */
  receiptSeq: number | null;
  approvalId: string | null;
  preview?: ActionPreview | null;
  /** Present for an action that needs a quorum of operators: who has approved so far. */
  quorum?: QuorumDto;
  /**
   * When retention purged its payload, context and result: `payloadCanonical` and
   * `requestCanonical` are then empty, `context` and `resultCanonical` null.
   */
  purgedAt?: string | null;
}

/** The last executed proposal of the same action, for the "changed since" highlight. */
export interface PreviousApprovedDto {
  id: string;
  /** Canonical JSON text of its payload. */
  payload: string;
  decidedAt: string;
}

/** One proposal as `getProposal` answers it: with what it can be compared to. */
export interface ProposalDetailDto extends ProposalDto {
  previousApproved: PreviousApprovedDto | null;
}

/** Whether the main process showed an OS notification for a proposal. */
export interface NotifyResultDto {
  shown: boolean;
}

/** An action as the Actions view shows it: what it is and what it does, before any payload. */
export interface ActionInfoDto {
  kind: ActionPreview['kind'];
  description: string;
  risk: ActionPreview['risk'];
  /** What it does, one item per line: program and argv template, root and path, URL and hosts. */
  does: string[];
  /** The payload's JSON Schema as declared, pretty-printed; null for built-ins. */
  payloadSchema: string | null;
  /** MCP-style hints the manifest gives, if any. */
  annotations: { readOnlyHint?: boolean; destructiveHint?: boolean } | null;
  definitionHash: ActionPreview['definitionHash'];
  /** How many distinct operator keys must approve a proposal before it runs (manifest `approval.quorum`); null: one. */
  quorum: number | null;
}

/** The manifest of declared actions in force (OPENEXEC_ACTIONS). */
export interface ManifestInfoDto {
  path: string;
  /** sha256 of the manifest's canonical JSON (docs/receipts.md). */
  hash: string;
  count: number;
}

export type ApproverKind = 'operator' | 'clawshield';

export interface ApprovalDto {
  /** Position in the approvals list, newest highest: pass as `beforeSeq` for the next page. */
  seq: number;
  approvalId: string;
  tenantId: string;
  actionHash: string;
  issuedAt: string;
  expiresAt: string;
  approver: ApproverKind;
  approverKeyId: string;
  verifiedAt: string;
  action: string | null;
  /** The execution this single-use approval was consumed by; null if not (yet) used. */
  usedByExecId: string | null;
}

export interface AllowListEntryDto {
  action: string;
  allowed: boolean;
  /** What the action is; null only for an action registered without a description. */
  info: ActionInfoDto | null;
}

export interface AllowListDto {
  /** "open": no allow-list configured, every registered action may run. */
  restriction: 'open' | 'restricted';
  /** True when OPENEXEC_ALLOWED_ACTIONS fixes the list and the console cannot change it. */
  lockedByEnvironment: boolean;
  /** Every registered action, allowed or not. */
  entries: AllowListEntryDto[];
  /** Actions named in the list that no handler implements (they can never run). */
  unknownListed: string[];
}

export interface HealthDto {
  version: string;
  mode: ExecMode;
  signatureVerification: 'enabled' | 'disabled';
  tenant: string | null;
  apiAddress: string;
  /** The ledger's database as a URL, any password removed. */
  database: string;
  restriction: 'open' | 'restricted';
  receiptKey: KeyInfoDto;
  operatorKey: KeyInfoDto;
  clawshieldKey: KeyInfoDto | null;
  /** The manifest of declared actions in force, or null when none is loaded. */
  manifest: ManifestInfoDto | null;
  counts: { pending: number; receipts: number; executions: number; approvals: number };
  /** The latest signed checkpoint, and the latest copy witnessed outside the data directory. */
  checkpoints: CheckpointStatusDto;
  /** Plain-words warnings: open allow-list, demo mode, non-loopback bind. */
  warnings: string[];
}

/** A registered agent (its token is shown once, when it is added, and never stored). */
export interface AgentDto {
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

/** `addAgent`'s answer: the only time the token exists outside the agent's hands. */
export interface AgentTokenDto {
  name: string;
  token: string;
}

/** An operator key: the first (`operator`, primary) or one `openexec operators add NAME` made. */
export interface OperatorDto {
  name: string;
  keyId: string;
  primary: boolean;
}

/** For an action that needs approvals by `needed` distinct operator keys: those given so far. */
export interface QuorumDto {
  needed: number;
  approvals: { operator: string; keyId: string; approvedAt: string }[];
}

/** A changed MCP tool definition the operator accepted (`config` receipt). */
export interface ToolPinDto {
  action: string;
  before: string;
  after: string;
}

/** A pinned MCP tool: its definition as pinned and, when the upstream now offers another, that one. */
export interface ToolPinStateDto {
  /** `mcp:SERVER/TOOL` */
  action: string;
  pinnedHash: string;
  /** Canonical JSON of `{name, description, inputSchema, annotations}` as pinned. */
  pinnedDefinition: string;
  pinnedAt: string;
  /** The changed definition waiting for the operator (its calls are refused meanwhile), or null. */
  changedHash: string | null;
  changedDefinition: string | null;
}

export type ConsoleEvent =
  | { type: 'proposal'; proposal: ProposalDto }
  | { type: 'receipt'; receipt: ReceiptDto }
  | { type: 'allow-list'; allowList: AllowListDto }
  /** Events were missed (an HTTP stream dropped a subscriber that fell behind): reload what is shown. */
  | { type: 'resync'; detail: string };
