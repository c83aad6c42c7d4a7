/**
 * What a gated MCP tool call answers, in the SDK-free shape the adapter hands to the SDK
 * (MCP's CallToolResult). `_meta["openexec/gate"]` says what OpenExec decided.
 */
export interface ToolCallResult {
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta: { 'openexec/gate': GateMeta };
}

export type GateMeta =
  | { outcome: 'executed'; receipt_seq: number; receipt: string | null; proposal_id?: string }
  | { outcome: 'pending'; proposal_id: string; request_hash: string; retry: true }
  | { outcome: 'denied' | 'expired' | 'failed'; proposal_id: string; reason: string | null }
  | { outcome: string; reason: string };

/** An MCP tool as tools/list describes it. */
export interface ToolDescriptor {
  name: string;
  description?: string;
  inputSchema: { type: 'object'; [key: string]: unknown };
  annotations?: Record<string, unknown>;
}

/** Called while a decision is pending (the SDK turns it into notifications/progress). */
export type ProgressReport = (progress: number, message: string) => Promise<void>;

export function refused(outcome: string, reason: string): ToolCallResult {
  return {
    content: [{ type: 'text', text: `OpenExec refused this call (${outcome}): ${reason}` }],
    isError: true,
    _meta: { 'openexec/gate': { outcome, reason } },
  };
}

/** A result that ran: its canonical JSON as text, and as structured content when it is an object. */
export function executed(resultCanonical: string, gate: GateMeta): ToolCallResult {
  const value: unknown = JSON.parse(resultCanonical);
  const structured = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  return {
    content: [{ type: 'text', text: resultCanonical }],
    ...(structured ? { structuredContent: structured } : {}),
    _meta: { 'openexec/gate': gate },
  };
}
