import type { OpenExecCore } from '../core/openexec-core.ts';
import type { ProposalService } from '../core/proposals/proposal-service.ts';
import type { ProposalRow } from '../core/proposals/proposal-store.ts';
import { isClientExecuted } from '../core/actions/client-executed.ts';
import { recordClientReport, type ReportingClient } from '../core/proposals/client-report.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json/json-value.ts';
import { Refusal } from '../core/errors.ts';
import { fromPlainJson } from './plain-json.ts';
import { refuseDuplicateTools } from './tool-listing.ts';

/** An upstream tool as the proxy lists it (only these fields are pinned). */
export interface ListedTool {
  name: string;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  annotations?: Record<string, unknown> | undefined;
}

export interface ToolPinAnswer {
  name: string;
  action: string;
  definition_hash: string;
  status: 'pinned' | 'changed';
  pinned_hash?: string;
}

/** A call the proxy wants to forward, bound to the definition it pinned. */
export interface ProxyCall {
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  definition_hash: string;
  nonce: string;
}

/** How a forwarded call ended, as the proxy saw it. */
export interface ProxyReport {
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  nonce: string;
  proposal_id: string | null;
  outcome: 'reported' | 'outcome_unknown';
  result: unknown;
}

/** The gate's answer: no decision needed, or the proposal the call waits on. */
export type GateDecision = { decision: 'direct' } | { decision: 'proposal'; proposal: ProposalRow };

function json(v: unknown, what: string): JsonObject {
  const j = fromPlainJson(v);
  if (j === undefined || !isJsonObject(j)) throw new Refusal('invalid_request', `${what} must be a JSON object`);
  return j;
}

/**
 * The boundary's side of an MCP proxy, whichever way the proxy reaches it: over HTTP
 * (`openexec mcp proxy`, proxy-routes.ts) or in the server's own process (a hosted upstream,
 * hosted-upstreams.ts). Pins the upstream's tool definitions, gates a call (a proposal for
 * `mcp:SERVER/TOOL` bound to the pinned definition, or no decision for a read-only tool of a
 * server the operator named) and witnesses how a forwarded call ended.
 */
export class ProxyGate {
  constructor(
    private readonly core: OpenExecCore,
    private readonly proposals: ProposalService,
    private readonly readOnlyDirect: readonly string[],
  ) {}

  private actionOf(server: string, tool: string): string {
    const action = `mcp:${server}/${tool}`;
    if (!isClientExecuted(action)) throw new Refusal('invalid_request', `'${action}' is not an MCP tool action name`);
    return action;
  }

  /** A read-only tool (by its pinned definition) of a server the operator named may run undecided. */
  private async runsUndecided(server: string, action: string): Promise<boolean> {
    return (
      this.readOnlyDirect.includes(server) &&
      (await this.core.allowList.allowsNow(action)) &&
      ((await this.core.toolPins.definitionOf(action))?.['annotations'] as { readOnlyHint?: unknown } | null)?.readOnlyHint === true
    );
  }

  /**
   * Pins (or compares) each definition, one after another in the listing's order: each new pin
   * is a receipt. A listing that names a tool twice is refused whole, before anything is pinned.
   */
  async pin(server: string, tools: readonly ListedTool[]): Promise<ToolPinAnswer[]> {
    refuseDuplicateTools(server, tools);
    const answers: ToolPinAnswer[] = [];
    for (const t of tools) {
      const action = this.actionOf(server, t.name);
      const definition = json(
        { name: t.name, description: t.description ?? null, inputSchema: t.inputSchema, annotations: t.annotations ?? null },
        'a tool definition',
      );
      const pin = await this.core.toolPins.observe(action, definition);
      answers.push({
        name: t.name,
        action,
        definition_hash: pin.hash,
        status: pin.status,
        ...(pin.status === 'changed' ? { pinned_hash: pin.pinnedHash } : {}),
      });
    }
    return answers;
  }

  /** `via` says which path the call came through, for the proposal's context. */
  async call(agent: string, call: ProxyCall, via: string): Promise<GateDecision> {
    const action = this.actionOf(call.server, call.tool);
    const pinned = await this.core.toolPins.hashOf(action);
    if (pinned === null) throw new Refusal('not_found', `'${action}' has no pinned definition: the proxy must list it first`);
    if (pinned !== call.definition_hash) {
      throw new Refusal(
        'definition_changed',
        `The definition of '${action}' changed since it was pinned (pinned ${pinned}, now ${call.definition_hash}): refused until the operator accepts it`,
      );
    }
    if (await this.runsUndecided(call.server, action)) return { decision: 'direct' };
    const { proposal } = await this.proposals.propose({
      action,
      payload: json(call.arguments, 'arguments'),
      nonce: call.nonce,
      context: `MCP tools/call through ${via}`,
      agent,
    });
    return { decision: 'proposal', proposal };
  }

  /**
   * Whether a call was forwarded under the approval of this agent's proposal for `server`: a
   * `reported` receipt names it (what a proxy asks once it has forgotten older forwards).
   */
  async forwarded(agent: string, server: string, proposalId: string): Promise<boolean> {
    const proposal = await this.proposals.get(proposalId);
    if (proposal === undefined || proposal.agent !== agent || !proposal.action.startsWith(`mcp:${server}/`))
      throw new Refusal('not_found', `No proposal ${proposalId}`);
    const page = await this.core.ledgerStore.search({ id: proposalId, events: ['reported'], limit: 1 });
    return page.items.some((r) => r.proposalId === proposalId);
  }

  /**
   * The `reported` receipt of a forwarded call; its sequence number. `client` says whose
   * account it is: the agent's proxy (over HTTP) or this server's hosted upstream.
   */
  async report(agent: string, report: ProxyReport, client: ReportingClient): Promise<number> {
    const action = this.actionOf(report.server, report.tool);
    const proposal = report.proposal_id === null ? null : ((await this.proposals.get(report.proposal_id)) ?? null);
    if (proposal !== null && proposal.agent !== agent) throw new Refusal('not_found', `No proposal ${report.proposal_id}`);
    const result = report.result === null ? null : fromPlainJson(report.result);
    const receipt = await recordClientReport(this.core, {
      client,
      action,
      payload: json(report.arguments, 'arguments'),
      nonce: report.nonce,
      agent,
      proposal,
      outcome: report.outcome,
      result: (result ?? null) as JsonValue | null,
      readOnlyDirect: proposal === null && (await this.runsUndecided(report.server, action)),
    });
    return receipt.seq;
  }
}
