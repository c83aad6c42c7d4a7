import type { FastifyRequest } from 'fastify';
import type { AgentRegistry } from '../core/agents/agent-registry.ts';
import { Refusal } from '../core/errors.ts';

/**
 * Who is calling an agent route. A presented token must be a live agent's, or the request is
 * refused (never treated as anonymous); no token is anonymous (null) unless the operator set
 * OPENEXEC_REQUIRE_AGENT_TOKEN=1, when it is refused too.
 */
export class AgentAuth {
  constructor(
    private readonly agents: AgentRegistry,
    readonly required: boolean,
  ) {}

  /** The verified agent name, or null for an anonymous caller; throws a 401 refusal. */
  of(req: FastifyRequest): Promise<string | null> {
    return this.ofHeader(req.headers.authorization);
  }

  async ofHeader(header: string | undefined): Promise<string | null> {
    if (header === undefined || header.trim() === '') {
      if (this.required) throw new Refusal('unauthorized', 'Agent token required (Authorization: Bearer <agent-token>)');
      return null;
    }
    const m = /^Bearer\s+(\S+)\s*$/.exec(header);
    if (!m) throw new Refusal('unauthorized', 'Authorization must be "Bearer <agent-token>"');
    const name = await this.agents.verify(m[1]!);
    if (name === null) throw new Refusal('unauthorized', 'Agent token is not valid (unknown or revoked)');
    return name;
  }
}
