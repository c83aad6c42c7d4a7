import { randomUUID } from 'node:crypto';
import type { OpenExecCore } from '../core/openexec-core.ts';
import type { ProposalService } from '../core/proposals/proposal-service.ts';
import type { ProposalRow } from '../core/proposals/proposal-store.ts';
import { RetryJoins } from '../core/proposals/retry-joins.ts';
import { requestHash as hashRequest } from '../core/json/request-hash.ts';
import { isJsonObject, type JsonObject } from '../core/json/json-value.ts';
import { Refusal } from '../core/errors.ts';
import { fromPlainJson } from './plain-json.ts';
import { executed, refused, type ProgressReport, type ToolCallResult, type ToolDescriptor } from './gate-result.ts';

/** The MCP spec's tool name alphabet; an action whose name is outside it is not offered. */
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
/** Progress is reported at least this often while a decision is pending (the issue asks ≤ 10 s). */
export const PROGRESS_EVERY_MS = 5_000;
/** With progress notifications a call may stay open this long at most (the proposal may expire sooner). */
const MAX_HOLD_WITH_PROGRESS_MS = 3600_000;

export interface GatewayOptions {
  /** How long a call without a progress token is held before it answers "pending, retry". */
  holdMs: number;
}

/**
 * The MCP gateway: the allowed actions as tools, and a tool call as the same path as a
 * proposal (or a direct execution where the engine needs no approval: demo mode). SDK-free; the
 * adapter (sdk-adapter.ts) puts it on a transport. Every failure is a refusal, never a guess.
 */
export class McpGateway {
  private readonly joins = new RetryJoins();

  constructor(
    private readonly core: OpenExecCore,
    private readonly proposals: ProposalService,
    private readonly options: GatewayOptions,
  ) {}

  listTools(): ToolDescriptor[] {
    const { registry, allowList } = this.core;
    return registry
      .names()
      .filter((name) => TOOL_NAME.test(name) && allowList.isAllowed(name))
      .map((name) => {
        const info = registry.get(name)?.info;
        const schema = info?.payloadSchema ? (JSON.parse(info.payloadSchema) as Record<string, unknown>) : {};
        return {
          name,
          description: info?.description ?? `OpenExec action '${name}' (built-in)`,
          inputSchema: { ...schema, type: 'object' },
          ...(info?.annotations ? { annotations: { ...info.annotations } } : {}),
        };
      });
  }

  async callTool(
    agent: string,
    name: string,
    args: unknown,
    progress: ProgressReport | null,
    signal: AbortSignal,
  ): Promise<ToolCallResult> {
    try {
      const payload = fromPlainJson(args ?? {});
      if (payload === undefined || !isJsonObject(payload)) return refused('invalid', 'arguments must be a JSON object');
      if (this.core.engine.mode === 'demo') return await this.direct(agent, name, payload);
      return await this.gated(agent, name, payload, progress, signal);
    } catch (err) {
      if (err instanceof Refusal) return refused(err.code, err.detail);
      process.stderr.write(`openexec: mcp gateway error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      return refused('error', 'internal error in OpenExec; nothing was executed by this call');
    }
  }

  /** No approval is needed (demo mode): the engine runs it now, as /execute would. */
  private async direct(agent: string, action: string, payload: JsonObject): Promise<ToolCallResult> {
    const outcome = await this.core.engine.execute({ action, payload, nonce: `mcp-${randomUUID()}`, artifact: null, agent });
    if (outcome.kind === 'refused') return refused(outcome.code, outcome.detail);
    return executed(outcome.answer.resultCanonical, {
      outcome: 'executed',
      receipt_seq: outcome.receiptSeq,
      receipt: outcome.answer.receipt,
    });
  }

  private async gated(
    agent: string,
    action: string,
    payload: JsonObject,
    progress: ProgressReport | null,
    signal: AbortSignal,
  ): Promise<ToolCallResult> {
    const hash = hashRequest(action, payload);
    const joinedId = this.joins.joined(agent, hash);
    let row = joinedId === null ? undefined : await this.proposals.get(joinedId);
    row ??= (await this.proposals.propose({ action, payload, nonce: `mcp-${randomUUID()}`, context: 'MCP tools/call', agent })).proposal;
    const deadline = Date.now() + (progress ? MAX_HOLD_WITH_PROGRESS_MS : this.options.holdMs);
    let step = 0;
    while (row.status === 'pending' && Date.now() < deadline && !signal.aborted) {
      row = (await this.proposals.wait(row.id, Math.min(PROGRESS_EVERY_MS, deadline - Date.now()))) ?? row;
      if (row.status === 'pending' && progress)
        await progress(++step, `Waiting for the OpenExec operator's decision on proposal ${row.id}`);
    }
    if (row.status === 'pending') this.joins.remember(agent, hash, row.id);
    else this.joins.settled(agent, hash, null, row.id);
    return this.answer(row);
  }

  private async answer(row: ProposalRow): Promise<ToolCallResult> {
    switch (row.status) {
      case 'executed':
        return executed(row.result ?? 'null', {
          outcome: 'executed',
          receipt_seq: row.receipt_seq!,
          receipt: row.exec_id === null ? null : await this.core.legacyReceiptOf(row.exec_id),
          proposal_id: row.id,
        });
      case 'pending':
        return {
          content: [
            {
              type: 'text',
              text: `Waiting for the OpenExec operator's decision on proposal ${row.id}; make the same call again to keep waiting`,
            },
          ],
          isError: true,
          _meta: { 'openexec/gate': { outcome: 'pending', proposal_id: row.id, request_hash: row.request_hash, retry: true } },
        };
      default:
        return {
          content: [{ type: 'text', text: `OpenExec: ${row.status}${row.reason ? `: ${row.reason}` : ''}` }],
          isError: true,
          _meta: { 'openexec/gate': { outcome: row.status, proposal_id: row.id, reason: row.reason } },
        };
    }
  }
}
