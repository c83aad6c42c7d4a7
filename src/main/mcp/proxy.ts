import { randomUUID } from 'node:crypto';
import { RetryJoins } from '../core/proposals/retry-joins.ts';
import { requestHash as hashRequest } from '../core/json/request-hash.ts';
import { canonicalJson } from '../core/json/canonical.ts';
import { isJsonObject } from '../core/json/json-value.ts';
import { Refusal } from '../core/errors.ts';
import { PROXY_PATH } from './proxy-routes.ts';
import { fromPlainJson } from './plain-json.ts';
import { refused, type GateMeta, type ProgressReport, type ToolCallResult, type ToolDescriptor } from './gate-result.ts';
import type { AgentHttp } from './agent-http.ts';
import type { Upstream, UpstreamResult } from './sdk-adapter.ts';
import { PROGRESS_EVERY_MS } from './gateway.ts';

const MAX_HOLD_WITH_PROGRESS_MS = 3600_000;

interface PinnedTool {
  descriptor: ToolDescriptor;
  definitionHash: string;
}

type Gate = { kind: 'direct' } | { kind: 'approved'; proposalId: string } | { kind: 'answer'; result: ToolCallResult };

/**
 * `openexec mcp proxy`: the upstream's tools, each call gated by the running OpenExec. An
 * approved call is forwarded exactly once and its outcome witnessed; if the upstream dies or its
 * answer is lost after forwarding, the receipt says `outcome_unknown` and nothing is resent.
 */
export class McpProxy {
  private readonly joins = new RetryJoins();
  /** Proposals whose call was forwarded: an approval is used for one forwarding only. */
  private readonly forwarded = new Set<string>();
  private tools = new Map<string, PinnedTool>();

  constructor(
    private readonly server: string,
    private readonly upstream: Upstream,
    private readonly openexec: AgentHttp,
    private readonly holdMs: number,
  ) {}

  /** Lists the upstream's tools and has OpenExec pin (or compare) each definition. */
  async pin(): Promise<{ name: string; status: string }[]> {
    const listed = await this.upstream.listTools();
    const { body } = await this.openexec.expectOk('POST', `${PROXY_PATH}/tools`, { server: this.server, tools: listed });
    const pins = body['tools'] as { name: string; definition_hash: string; status: string }[];
    this.tools = new Map(
      listed.map((t) => [t.name, { descriptor: t, definitionHash: pins.find((p) => p.name === t.name)!.definition_hash }]),
    );
    return pins.map((p) => ({ name: p.name, status: p.status }));
  }

  listTools(): ToolDescriptor[] {
    return [...this.tools.values()].map((t) => t.descriptor);
  }

  async callTool(name: string, args: unknown, progress: ProgressReport | null, signal: AbortSignal): Promise<ToolCallResult> {
    const tool = this.tools.get(name);
    if (!tool) return refused('unknown_action', `The upstream '${this.server}' has no tool '${name}'`);
    const payload = fromPlainJson(args ?? {});
    if (payload === undefined || !isJsonObject(payload)) return refused('invalid', 'arguments must be a JSON object');
    // What is forwarded is exactly what was approved: the canonical payload, read back.
    const approvedArgs = JSON.parse(canonicalJson(payload)) as Record<string, unknown>;
    const nonce = `mcp-proxy-${randomUUID()}`;
    let gate: Gate;
    try {
      gate = await this.gate(name, tool, approvedArgs, nonce, hashRequest(`mcp:${this.server}/${name}`, payload), progress, signal);
    } catch (err) {
      if (err instanceof Refusal) return refused(err.code, err.detail);
      return refused(
        'error',
        `OpenExec could not decide this call (${err instanceof Error ? err.message : String(err)}); nothing was forwarded`,
      );
    }
    if (gate.kind === 'answer') return gate.result;
    if (gate.kind === 'approved') {
      if (this.forwarded.has(gate.proposalId))
        return refused('approval_used', `Proposal ${gate.proposalId} was already forwarded for another call`);
      this.forwarded.add(gate.proposalId);
    }
    return this.forward(name, approvedArgs, nonce, gate.kind === 'approved' ? gate.proposalId : null);
  }

  private async gate(
    name: string,
    tool: PinnedTool,
    args: Record<string, unknown>,
    nonce: string,
    requestHash: string,
    progress: ProgressReport | null,
    signal: AbortSignal,
  ): Promise<Gate> {
    const agentKey = this.server;
    let id = this.joins.joined(agentKey, requestHash);
    if (id === null) {
      const { status, body } = await this.openexec.expectOk('POST', `${PROXY_PATH}/call`, {
        server: this.server,
        tool: name,
        arguments: args,
        definition_hash: tool.definitionHash,
        nonce,
      });
      if (status === 200 && body['decision'] === 'direct') return { kind: 'direct' };
      id = body['id'] as string;
    }
    const deadline = Date.now() + (progress ? MAX_HOLD_WITH_PROGRESS_MS : this.holdMs);
    let step = 0;
    let row: Record<string, unknown>;
    for (;;) {
      const wait = Math.max(0, Math.min(PROGRESS_EVERY_MS, deadline - Date.now()));
      row = (await this.openexec.expectOk('GET', `/proposals/${id}?wait=${(wait / 1000).toFixed(3)}`)).body;
      if (row['status'] !== 'pending' || Date.now() >= deadline || signal.aborted) break;
      if (progress) await progress(++step, `Waiting for the OpenExec operator's decision on proposal ${id}`);
    }
    const status = row['status'] as string;
    if (status === 'pending') {
      this.joins.remember(agentKey, requestHash, id);
      const meta: GateMeta = { outcome: 'pending', proposal_id: id, request_hash: row['request_hash'] as string, retry: true };
      return {
        kind: 'answer',
        result: {
          content: [
            {
              type: 'text',
              text: `Waiting for the OpenExec operator's decision on proposal ${id}; make the same call again to keep waiting`,
            },
          ],
          isError: true,
          _meta: { 'openexec/gate': meta },
        },
      };
    }
    this.joins.settled(agentKey, requestHash, null, id);
    if (status === 'executed') return { kind: 'approved', proposalId: id };
    const reason = (row['reason'] as string | null) ?? null;
    return {
      kind: 'answer',
      result: {
        content: [{ type: 'text', text: `OpenExec: ${status}${reason ? `: ${reason}` : ''}` }],
        isError: true,
        _meta: { 'openexec/gate': { outcome: status as 'denied', proposal_id: id, reason } },
      },
    };
  }

  /** Sends the call once and witnesses how it ended; never resends. */
  private async forward(name: string, args: Record<string, unknown>, nonce: string, proposalId: string | null): Promise<ToolCallResult> {
    let result: UpstreamResult | null = null;
    let lost: string | null = null;
    try {
      result = await this.upstream.callTool(name, args);
    } catch (err) {
      lost = err instanceof Error ? err.message : String(err);
    }
    const report = { server: this.server, tool: name, arguments: args, nonce, proposal_id: proposalId };
    let receiptSeq: number;
    try {
      const { body } = await this.openexec.expectOk('POST', `${PROXY_PATH}/report`, {
        ...report,
        outcome: lost === null ? 'reported' : 'outcome_unknown',
        result,
      });
      receiptSeq = body['receipt_seq'] as number;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return refused(
        'unwitnessed',
        `The call was forwarded to '${this.server}' once, but OpenExec could not record its outcome (${why}); it is not resent`,
      );
    }
    if (lost !== null) {
      const meta = {
        outcome: 'outcome_unknown',
        reason: `forwarded once; the upstream's answer was lost (${lost}); never resent`,
        receipt_seq: receiptSeq,
        ...(proposalId ? { proposal_id: proposalId } : {}),
      };
      return {
        content: [{ type: 'text', text: `OpenExec: outcome unknown: ${meta.reason}` }],
        isError: true,
        _meta: { 'openexec/gate': meta },
      };
    }
    const upstream = result!;
    const meta = {
      outcome: 'executed',
      receipt_seq: receiptSeq,
      receipt: null,
      ...(proposalId ? { proposal_id: proposalId } : {}),
    } as const;
    return {
      ...(upstream as unknown as ToolCallResult),
      _meta: { ...((upstream['_meta'] as Record<string, unknown> | undefined) ?? {}), 'openexec/gate': meta },
    } as ToolCallResult;
  }
}
