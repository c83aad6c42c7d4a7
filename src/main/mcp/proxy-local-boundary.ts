import type { ProposalService } from '../core/proposals/proposal-service.ts';
import { Refusal } from '../core/errors.ts';
import type { ToolDescriptor } from './gate-result.ts';
import type { ProxyCall, ProxyGate, ProxyReport, ToolPinAnswer } from './proxy-gate.ts';
import type { ProposalState, ProxyBoundary } from './proxy.ts';

/**
 * The boundary in the server's own process, for one verified agent: the same ProxyGate the
 * proxy routes call, without the round trips (an upstream the server hosts).
 */
export class LocalBoundary implements ProxyBoundary {
  constructor(
    private readonly gateway: ProxyGate,
    private readonly proposals: ProposalService,
    readonly caller: string,
    /** Which path the calls come through, for the proposals' context. */
    private readonly via: string,
  ) {}

  pin(server: string, tools: ToolDescriptor[]): Promise<ToolPinAnswer[]> {
    return this.gateway.pin(server, tools);
  }

  async gate(call: ProxyCall): Promise<{ direct: true } | { direct: false; id: string }> {
    const decided = await this.gateway.call(this.caller, call, this.via);
    return decided.decision === 'direct' ? { direct: true } : { direct: false, id: decided.proposal.id };
  }

  async wait(id: string, ms: number): Promise<ProposalState> {
    const row = await this.proposals.wait(id, ms);
    if (row === undefined || row.agent !== this.caller) throw new Refusal('not_found', `No proposal ${id}`);
    return { status: row.status, reason: row.reason, request_hash: row.request_hash };
  }

  report(report: ProxyReport): Promise<number> {
    return this.gateway.report(this.caller, report, 'mcp-hosted');
  }

  forwarded(server: string, proposalId: string): Promise<boolean> {
    return this.gateway.forwarded(this.caller, server, proposalId);
  }
}
