import { randomUUID } from 'node:crypto';
import { RetryJoins } from '../core/proposals/retry-joins.ts';
import { requestHash as hashRequest } from '../core/json/request-hash.ts';
import { canonicalJson } from '../core/json/canonical.ts';
import { isJsonObject } from '../core/json/json-value.ts';
import { Refusal } from '../core/errors.ts';
import { fromPlainJson } from './plain-json.ts';
import { refused, type GateMeta, type ProgressReport, type ToolCallResult, type ToolDescriptor } from './gate-result.ts';
import type { Upstream, UpstreamResult } from './sdk-adapter.ts';
import type { ProxyCall, ProxyReport, ToolPinAnswer } from './proxy-gate.ts';
import { PROGRESS_EVERY_MS } from './gateway.ts';
import { ForwardedApprovals, REMEMBERED_FORWARDS } from './forwarded-approvals.ts';

const MAX_HOLD_WITH_PROGRESS_MS = 3600_000;

interface PinnedTool {
  descriptor: ToolDescriptor;
  definitionHash: string;
}

/** A proposal's state as the proxy needs it. */
export interface ProposalState {
  status: string;
  reason: string | null;
  request_hash: string;
}

/**
 * How the proxy reaches the boundary (ProxyGate): over HTTP with an agent's token (`openexec mcp
 * proxy`, proxy-http-boundary.ts) or in the server's own process for one agent (a hosted
 * upstream, proxy-local-boundary.ts). Refusals are thrown as `Refusal`s with their codes.
 */
export interface ProxyBoundary {
  /** Whose calls these are: a retry joins only the same caller's proposal. */
  readonly caller: string;
  pin(server: string, tools: ToolDescriptor[]): Promise<Pick<ToolPinAnswer, 'name' | 'definition_hash' | 'status'>[]>;
  gate(call: ProxyCall): Promise<{ direct: true } | { direct: false; id: string }>;
  /** The proposal's state once decided, or after `ms` still pending. */
  wait(id: string, ms: number): Promise<ProposalState>;
  /** Witnesses a forwarded call; the receipt's sequence number. */
  report(report: ProxyReport): Promise<number>;
  /** Whether a `reported` receipt names this proposal: a call was forwarded under its approval. */
  forwarded(server: string, proposalId: string): Promise<boolean>;
}

type Gate = { kind: 'direct' } | { kind: 'approved'; proposalId: string } | { kind: 'answer'; result: ToolCallResult };

/**
 * An upstream MCP server behind the boundary (`openexec mcp proxy`, or an upstream the server
 * hosts): the upstream's tools, each call gated by OpenExec through a ProxyBoundary. An
 * approved call is forwarded exactly once and its outcome witnessed; if the upstream dies or its
 * answer is lost after forwarding, the receipt says `outcome_unknown` and nothing is resent.
 */
export class McpProxy {
  private readonly joins = new RetryJoins();
  /** An approval is used for one forwarding only. */
  private readonly forwarded: ForwardedApprovals;
  private tools = new Map<string, PinnedTool>();

  constructor(
    private readonly server: string,
    private readonly upstream: Upstream,
    private readonly holdMs: number,
    /** How many witnessed forwards to remember before asking OpenExec (forwarded-approvals.ts). */
    rememberForwards: number = REMEMBERED_FORWARDS,
  ) {
    this.forwarded = new ForwardedApprovals(rememberForwards);
  }

  /**
   * Lists the upstream's tools and has OpenExec pin (or compare) each definition. A listing that
   * names a tool twice is refused by the gate (ProxyGate.pin) before anything is pinned.
   */
  async pin(boundary: Pick<ProxyBoundary, 'pin'>): Promise<{ name: string; status: string }[]> {
    const listed = await this.upstream.listTools();
    const pins = await boundary.pin(this.server, listed);
    this.tools = new Map(
      listed.map((t) => [t.name, { descriptor: t, definitionHash: pins.find((p) => p.name === t.name)!.definition_hash }]),
    );
    return pins.map((p) => ({ name: p.name, status: p.status }));
  }

  listTools(): ToolDescriptor[] {
    return [...this.tools.values()].map((t) => t.descriptor);
  }

  async callTool(
    boundary: ProxyBoundary,
    name: string,
    args: unknown,
    progress: ProgressReport | null,
    signal: AbortSignal,
  ): Promise<ToolCallResult> {
    const tool = this.tools.get(name);
    if (!tool) return refused('unknown_action', `The upstream '${this.server}' has no tool '${name}'`);
    const payload = fromPlainJson(args ?? {});
    if (payload === undefined || !isJsonObject(payload)) return refused('invalid', 'arguments must be a JSON object');
    // What is forwarded is exactly what was approved: the canonical payload, read back.
    const approvedArgs = JSON.parse(canonicalJson(payload)) as Record<string, unknown>;
    const nonce = `mcp-proxy-${randomUUID()}`;
    let gate: Gate;
    try {
      gate = await this.gate(
        boundary,
        name,
        tool,
        approvedArgs,
        nonce,
        hashRequest(`mcp:${this.server}/${name}`, payload),
        progress,
        signal,
      );
    } catch (err) {
      if (err instanceof Refusal) return refused(err.code, err.detail);
      return refused(
        'error',
        `OpenExec could not decide this call (${err instanceof Error ? err.message : String(err)}); nothing was forwarded`,
      );
    }
    if (gate.kind === 'answer') return gate.result;
    if (gate.kind === 'approved') {
      const used = await this.claim(boundary, gate.proposalId);
      if (used !== null) return used;
    }
    return this.forward(boundary, name, approvedArgs, nonce, gate.kind === 'approved' ? gate.proposalId : null);
  }

  private async gate(
    boundary: ProxyBoundary,
    name: string,
    tool: PinnedTool,
    args: Record<string, unknown>,
    nonce: string,
    requestHash: string,
    progress: ProgressReport | null,
    signal: AbortSignal,
  ): Promise<Gate> {
    const agentKey = boundary.caller;
    let id = this.joins.joined(agentKey, requestHash);
    if (id === null) {
      const decided = await boundary.gate({
        server: this.server,
        tool: name,
        arguments: args,
        definition_hash: tool.definitionHash,
        nonce,
      });
      if (decided.direct) return { kind: 'direct' };
      id = decided.id;
    }
    const deadline = Date.now() + (progress ? MAX_HOLD_WITH_PROGRESS_MS : this.holdMs);
    let step = 0;
    let row: ProposalState;
    for (;;) {
      row = await boundary.wait(id, Math.max(0, Math.min(PROGRESS_EVERY_MS, deadline - Date.now())));
      if (row.status !== 'pending' || Date.now() >= deadline || signal.aborted) break;
      if (progress) await progress(++step, `Waiting for the OpenExec operator's decision on proposal ${id}`);
    }
    const status = row.status;
    if (status === 'pending') {
      this.joins.remember(agentKey, requestHash, id);
      const meta: GateMeta = { outcome: 'pending', proposal_id: id, request_hash: row.request_hash, retry: true };
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
    const reason = row.reason;
    return {
      kind: 'answer',
      result: {
        content: [{ type: 'text', text: `OpenExec: ${status}${reason ? `: ${reason}` : ''}` }],
        isError: true,
        _meta: { 'openexec/gate': { outcome: status as 'denied', proposal_id: id, reason } },
      },
    };
  }

  /** Claims the approval for this call: null, or the refusal if it was used already (or that cannot be told). */
  private async claim(boundary: ProxyBoundary, proposalId: string): Promise<ToolCallResult | null> {
    const used = refused('approval_used', `Proposal ${proposalId} was already forwarded for another call`);
    if (!this.forwarded.claim(proposalId)) return used;
    if (!this.forwarded.mayHaveForgotten) return null;
    let reported: boolean;
    try {
      reported = await boundary.forwarded(this.server, proposalId);
    } catch (err) {
      this.forwarded.release(proposalId);
      if (err instanceof Refusal) return refused(err.code, err.detail);
      const why = err instanceof Error ? err.message : String(err);
      return refused(
        'error',
        `OpenExec could not say whether proposal ${proposalId} was already forwarded (${why}); nothing was forwarded`,
      );
    }
    if (!reported) return null;
    this.forwarded.recorded(proposalId);
    return used;
  }

  /** Sends the call once and witnesses how it ended; never resends. */
  private async forward(
    boundary: ProxyBoundary,
    name: string,
    args: Record<string, unknown>,
    nonce: string,
    proposalId: string | null,
  ): Promise<ToolCallResult> {
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
      receiptSeq = await boundary.report({ ...report, outcome: lost === null ? 'reported' : 'outcome_unknown', result });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      // Its claim stays held: no receipt will say this approval was used.
      return refused(
        'unwitnessed',
        `The call was forwarded to '${this.server}' once, but OpenExec could not record its outcome (${why}); it is not resent`,
      );
    }
    if (proposalId !== null) this.forwarded.recorded(proposalId);
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
