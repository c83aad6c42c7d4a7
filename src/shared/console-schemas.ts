import { z } from 'zod';
import { RECEIPT_EVENTS } from './console-dto';
import { wellFormedString } from './well-formed-unicode';

/**
 * Input schemas of the console contract, shared by the IPC handlers and the /console HTTP
 * routes so that both validate exactly the same way. Free-text strings refuse ill-formed Unicode
 * (lone surrogates), as the agent API does.
 */
const id = wellFormedString().min(1).max(128);
const action = wellFormedString().min(1).max(200);
const isoTime = z.iso.datetime({ offset: true });
/** The most receipts one verifyChainRange call checks: a chunk the caller can show progress between. */
export const CHAIN_RANGE_MAX = 20_000;

export const emptyInput = z.strictObject({});
export const proposalIdInput = z.strictObject({ id });
/** `operator`: whose key signs (a name from `openexec operators add`); the first operator's by default. */
export const approveInput = z.strictObject({
  id,
  operator: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/)
    .optional(),
});
/** Longest single extension an operator may grant; see ProposalService.extend for the ceiling. */
export const MAX_EXTEND_SECONDS = 3600;
export const extendInput = z.strictObject({ id, seconds: z.int().min(30).max(MAX_EXTEND_SECONDS) });
export const denyInput = z.strictObject({ id, reason: wellFormedString().trim().min(1).max(2000) });
export const pageInput = z.strictObject({
  limit: z.int().min(1).max(500).optional(),
  beforeSeq: z.int().min(1).optional(),
});
/** An agent's name: what receipts, proposals and the console show as verified. */
export const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const agentName = z.string().regex(AGENT_NAME_PATTERN, "1-64 letters, digits, '.', '_' or '-'");
export const agentNameInput = z.strictObject({ name: agentName });
/** An MCP tool behind `openexec mcp proxy`, as its action name `mcp:SERVER/TOOL`. */
export const toolActionInput = z.strictObject({
  action: z.string().regex(/^mcp:[A-Za-z0-9._-]{1,64}\/[A-Za-z0-9_.\-/]{1,128}$/, 'mcp:SERVER/TOOL'),
  /** The changed definition's hash as the operator read it: refused if another is waiting now. */
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export const setAllowedInput = z.strictObject({ action, allowed: z.boolean() });
export const receiptQueryInput = z.strictObject({
  text: wellFormedString().max(500).optional(),
  events: z.array(z.enum(RECEIPT_EVENTS)).max(RECEIPT_EVENTS.length).optional(),
  action: action.optional(),
  agent: agentName.optional(),
  approverKeyId: z
    .string()
    .regex(/^[0-9a-f]{1,64}$/)
    .optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  /** A proposal, execution or approval id: receipts that carry it in any of the three. */
  id: id.optional(),
  /** A sha256 (hex): receipts whose request hash or own hash it is. */
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  beforeSeq: z.int().min(1).optional(),
  limit: z.int().min(1).max(500).optional(),
  /** Also count every match (ignoring beforeSeq and limit): see ReceiptPage.total. */
  count: z.boolean().optional(),
});
/** What countReceipts counts: the search's filters, without its page bounds. */
export const receiptCountInput = receiptQueryInput.omit({ beforeSeq: true, limit: true, count: true });
export const receiptSeqInput = z.strictObject({ seq: z.int().min(1) });
/** Where the server writes a backup: an absolute path (the server's working directory is not the caller's). */
export const backupInput = z.strictObject({
  path: wellFormedString()
    .min(2)
    .max(4096)
    .refine((p) => p.startsWith('/') && !p.includes('\0'), 'must be an absolute path'),
});
/** At most this many receipts go into one export bundle; beyond it the newest are kept. */
export const EXPORT_CAP = 10_000;
/** What an export bundle holds: the search's filters, optionally bounded to a range of seq. */
export const exportQueryInput = receiptQueryInput
  .omit({ beforeSeq: true, limit: true })
  .extend({ fromSeq: z.int().min(1).optional(), toSeq: z.int().min(1).optional() })
  .refine((q) => q.fromSeq === undefined || q.toSeq === undefined || q.fromSeq <= q.toSeq, {
    message: 'fromSeq must not be after toSeq',
  });

export const chainRangeInput = z.strictObject({
  fromSeq: z.int().min(1),
  limit: z.int().min(1).max(CHAIN_RANGE_MAX),
});

export type ProposalIdInput = z.infer<typeof proposalIdInput>;
export type ApproveInput = z.infer<typeof approveInput>;
export type ExtendInput = z.infer<typeof extendInput>;
export type DenyInput = z.infer<typeof denyInput>;
export type PageInput = z.infer<typeof pageInput>;
export type SetAllowedInput = z.infer<typeof setAllowedInput>;
export type ReceiptQuery = z.infer<typeof receiptQueryInput>;
export type ReceiptCountQuery = z.infer<typeof receiptCountInput>;
export type AgentNameInput = z.infer<typeof agentNameInput>;
export type ToolActionInput = z.infer<typeof toolActionInput>;
export type ReceiptSeqInput = z.infer<typeof receiptSeqInput>;
export type ExportQuery = z.infer<typeof exportQueryInput>;
export type ChainRangeInput = z.infer<typeof chainRangeInput>;
export type BackupInput = z.infer<typeof backupInput>;
