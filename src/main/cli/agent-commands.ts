import type { ConsoleClient } from './console-client.ts';
import { CliError, type CliOutput } from './cli-error.ts';

/**
 * `openexec agents add NAME | list | revoke NAME`, through the running server's console
 * contract (so the server's cached state and the ledger's `config` receipts stay in one place).
 */
export async function agentsCommand(client: ConsoleClient, args: readonly string[], out: CliOutput): Promise<number> {
  const [sub, name, extra] = args;
  const needName = () => {
    if (name === undefined || extra !== undefined) throw new CliError(`agents ${sub} takes exactly one agent name`, 2);
    return name;
  };
  switch (sub) {
    case 'add': {
      const added = await client.call('addAgent', { name: needName() });
      if (out.json) return (out.printJson(added), 0);
      out.print(`agent ${added.name} added; its token (shown only now, set it as OPENEXEC_AGENT_TOKEN):`);
      out.print(added.token);
      return 0;
    }
    case 'list': {
      if (name !== undefined) throw new CliError(`agents list: unexpected argument '${name}'`, 2);
      const agents = await client.call('listAgents');
      if (out.json) return (out.printJson(agents), 0);
      if (agents.length === 0) return (out.print('no agents (add one with: openexec agents add NAME)'), 0);
      for (const a of agents) out.print(`${a.name}  added ${a.createdAt}${a.revokedAt ? `  revoked ${a.revokedAt}` : ''}`);
      return 0;
    }
    case 'revoke': {
      const revoked = await client.call('revokeAgent', { name: needName() });
      if (out.json) return (out.printJson(revoked), 0);
      out.print(`agent ${revoked.name} revoked at ${revoked.revokedAt}`);
      return 0;
    }
    default:
      throw new CliError(`agents: expected add NAME, list or revoke NAME${sub ? `, got '${sub}'` : ''}`, 2);
  }
}
