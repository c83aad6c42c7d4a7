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

export const emptyInput = z.strictObject({});
export const proposalIdInput = z.strictObject({ id });
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
export const toolActionInput = z.strictObject({ action: z.string().regex(/^mcp:[A-Za-z0-9._-]{1,64}\/[A-Za-z0-9_.\-/]{1,128}$/, 'mcp:SERVER/TOOL') });
export const setAllowedInput = z.strictObject({ action, allowed: z.boolean() });
export const receiptQueryInput = z.strictObject({
  text: wellFormedString().max(500).optional(),
  events: z.array(z.enum(RECEIPT_EVENTS)).max(RECEIPT_EVENTS.length).optional(),
  action: action.optional(),
  agent: agentName.optional(),
  approverKeyId: z.string().regex(/^[0-9a-f]{1,64}$/).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  beforeSeq: z.int().min(1).optional(),
  limit: z.int().min(1).max(500).optional(),
});
export const receiptSeqInput = z.strictObject({ seq: z.int().min(1) });

export type ProposalIdInput = z.infer<typeof proposalIdInput>;
export type ExtendInput = z.infer<typeof extendInput>;
export type DenyInput = z.infer<typeof denyInput>;
export type PageInput = z.infer<typeof pageInput>;
export type SetAllowedInput = z.infer<typeof setAllowedInput>;
export type ReceiptQuery = z.infer<typeof receiptQueryInput>;
export type AgentNameInput = z.infer<typeof agentNameInput>;
export type ToolActionInput = z.infer<typeof toolActionInput>;
export type ReceiptSeqInput = z.infer<typeof receiptSeqInput>;
