import type { ProposalCore } from './proposal-core.ts';
import type { JsonObject, JsonValue } from '../json/json-value.ts';
import { canonicalJson } from '../json/canonical.ts';
import { requestHash as hashRequest, sha256Hex } from '../json/request-hash.ts';
import { boundedRequestFields } from '../engine/attempt-receipts.ts';
import type { ProposalRow } from './proposal-store.ts';
import type { ReceiptDto } from '../../../shared/console-dto.ts';

/**
 * Who ran a client-executed action and told us how it went: the agent's own client (Claude
 * Code, `openexec mcp proxy`), or this server forwarding to an upstream it hosts (`mcp-hosted`).
 */
export type ReportingClient = 'claude-code' | 'mcp-proxy' | 'mcp-hosted';

export interface ClientReport {
  client: ReportingClient;
  action: string;
  payload: JsonObject;
  nonce: string;
  agent: string | null;
  /** The proposal whose approval the client ran it under, if one was found. */
  proposal: ProposalRow | null;
  /** `outcome_unknown`: it was sent, and its answer was lost (never resent). */
  outcome: 'reported' | 'outcome_unknown';
  /** What the client says came back; null when nothing did. */
  result: JsonValue | null;
  /** Run with no decision because the operator lets this server's read-only tools run (mcp proxy). */
  readOnlyDirect?: boolean;
}

/**
 * A `reported` receipt: the client, not OpenExec, ran the action, and this is its account of
 * the outcome. It is a witness statement, not proof: `matched` says whether an executed
 * proposal of the same agent and request authorised it; `result_hash` commits to what was
 * reported.
 */
export function recordClientReport(core: Pick<ProposalCore, 'ledgerStore'>, report: ClientReport): Promise<ReceiptDto> {
  const requestHash = hashRequest(report.action, report.payload);
  const p = report.proposal;
  const approved = p !== null && p.status === 'executed' && p.agent === report.agent && p.request_hash === requestHash;
  const matched = approved || (p === null && report.readOnlyDirect === true);
  const details = Object.assign(Object.create(null) as JsonObject, {
    executed_by: 'client',
    client: report.client,
    outcome: report.outcome,
    matched,
    authorised_by: approved ? 'proposal' : matched ? 'read-only' : null,
  });
  const reason = !matched
    ? `Reported by the client (${report.client}), but no approved proposal of this agent matches this call`
    : !approved
      ? `Read-only tool run by the client (${report.client}) with no decision, as the operator allows for this server`
      : report.outcome === 'outcome_unknown'
        ? `Sent by the client (${report.client}) once; its answer was lost: outcome unknown, never resent`
        : `Executed by the client (${report.client}), not by OpenExec: outcome as the client reported it`;
  return core.ledgerStore.witness((tx) =>
    tx.append({
      event: 'reported',
      action: report.action,
      nonce: report.nonce,
      request_hash: requestHash,
      proposal_id: p?.id ?? null,
      agent: report.agent,
      ...boundedRequestFields(report.payload, null),
      result_hash: report.result === null ? null : sha256Hex(canonicalJson(report.result)),
      reason,
      details,
    }),
  );
}
