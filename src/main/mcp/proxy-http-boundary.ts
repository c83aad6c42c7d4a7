import type { AgentHttp } from './agent-http.ts';
import type { ToolDescriptor } from './gate-result.ts';
import type { ProxyCall, ProxyReport, ToolPinAnswer } from './proxy-gate.ts';
import { PROXY_PATH } from './proxy-routes.ts';
import type { ProposalState, ProxyBoundary } from './proxy.ts';

/**
 * `openexec mcp proxy`'s way to the boundary: the running OpenExec's proxy routes, as the agent
 * whose token `openexec` carries (so every call of this process is that one agent's).
 */
export class HttpBoundary implements ProxyBoundary {
  constructor(
    private readonly openexec: AgentHttp,
    readonly caller: string,
  ) {}

  async pin(server: string, tools: ToolDescriptor[]): Promise<ToolPinAnswer[]> {
    const { body } = await this.openexec.expectOk('POST', `${PROXY_PATH}/tools`, { server, tools });
    return body['tools'] as ToolPinAnswer[];
  }

  async gate(call: ProxyCall): Promise<{ direct: true } | { direct: false; id: string }> {
    const { status, body } = await this.openexec.expectOk('POST', `${PROXY_PATH}/call`, call);
    return status === 200 && body['decision'] === 'direct' ? { direct: true } : { direct: false, id: body['id'] as string };
  }

  async wait(id: string, ms: number): Promise<ProposalState> {
    const { body } = await this.openexec.expectOk('GET', `/proposals/${id}?wait=${(ms / 1000).toFixed(3)}`);
    return {
      status: body['status'] as string,
      reason: (body['reason'] as string | null) ?? null,
      request_hash: body['request_hash'] as string,
    };
  }

  async report(report: ProxyReport): Promise<number> {
    const { body } = await this.openexec.expectOk('POST', `${PROXY_PATH}/report`, report);
    return body['receipt_seq'] as number;
  }

  async forwarded(server: string, proposalId: string): Promise<boolean> {
    const { body } = await this.openexec.expectOk('POST', `${PROXY_PATH}/forwarded`, { server, proposal_id: proposalId });
    return body['forwarded'] === true;
  }
}
