import { relayStdioToHttp } from '../mcp/sdk-adapter.ts';
import { MCP_PATH } from '../mcp/mcp-http-route.ts';
import { agentApiBase, agentToken } from './agent-endpoint.ts';
import { CliError } from './cli-error.ts';

/**
 * `openexec mcp serve`: the gateway on stdio for MCP clients that start their servers (Claude
 * Desktop, Cursor, Claude Code). It relays to the running OpenExec's /mcp as the agent in
 * OPENEXEC_AGENT_TOKEN; stdout carries MCP messages only, errors go to stderr.
 */
export async function mcpCommand(args: readonly string[], env: NodeJS.ProcessEnv, dataDir: string, host: string): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'serve') {
    if (rest.length > 0) throw new CliError(`mcp serve: unexpected argument '${rest[0]}'`, 2);
    const token = agentToken(env);
    await relayStdioToHttp(new URL(MCP_PATH, agentApiBase(env, dataDir, host)), token);
    return 0;
  }
  throw new CliError(`mcp: expected serve${sub ? `, got '${sub}'` : ''}`, 2);
}
