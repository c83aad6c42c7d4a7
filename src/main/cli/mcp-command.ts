import type { ServerTrust } from './running-server.ts';
import { relayStdioToHttp, connectUpstream, serveStdio, type UpstreamTarget } from '../mcp/sdk-adapter.ts';
import { MCP_PATH } from '../mcp/mcp-http-route.ts';
import { McpProxy } from '../mcp/proxy.ts';
import { AgentHttp } from '../mcp/agent-http.ts';
import { HttpBoundary } from '../mcp/proxy-http-boundary.ts';
import { pinnedFetch } from '../mcp/pinned-tls.ts';
import { agentEndpoint, agentToken } from './agent-endpoint.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import type { ConsoleClient } from './console-client.ts';

export interface McpOptions {
  name?: string | undefined;
  url?: string | undefined;
}

/** How long a call without a progress token is held before "pending, retry" (as /mcp does). */
function holdMs(env: NodeJS.ProcessEnv): number {
  const raw = env['OPENEXEC_MCP_HOLD_SECONDS']?.trim();
  if (!raw) return 50_000;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 3600)
    throw new CliError(`OPENEXEC_MCP_HOLD_SECONDS: must be a whole number from 1 to 3600, got '${raw}'`, 2);
  return Number(raw) * 1000;
}

function serverName(command: string, name: string | undefined): string {
  if (name === undefined || !/^[A-Za-z0-9._-]{1,64}$/.test(name))
    throw new CliError(`${command}: --name NAME required (1-64 letters, digits, '.', '_' or '-')`, 2);
  return name;
}

function upstreamOf(options: McpOptions, command: readonly string[]): UpstreamTarget {
  if (options.url !== undefined) {
    if (command.length > 0) throw new CliError('mcp proxy: give --url or a command after --, not both', 2);
    try {
      return { url: new URL(options.url) };
    } catch {
      throw new CliError(`mcp proxy: --url '${options.url}' is not a URL`, 2);
    }
  }
  const [program, ...args] = command;
  if (program === undefined) throw new CliError('mcp proxy: give the upstream command after -- (or --url URL)', 2);
  return { command: program, args };
}

/**
 * `openexec mcp serve`: the gateway on stdio for MCP clients that start their servers (Claude
 * Desktop, Cursor, Claude Code), relayed to the running OpenExec's /mcp as the agent in
 * OPENEXEC_AGENT_TOKEN (`--name NAME`: to the upstream it hosts at /mcp/NAME). `openexec mcp proxy --name NAME -- COMMAND …`: an upstream MCP server
 * behind the boundary. `openexec mcp accept mcp:NAME/TOOL`: the operator accepts a changed
 * upstream tool definition. stdout carries MCP messages only; errors go to stderr.
 */
export async function mcpCommand(
  args: readonly string[],
  options: McpOptions,
  env: NodeJS.ProcessEnv,
  where: { dataDir: string; trust: ServerTrust },
  operator: () => ConsoleClient,
  out: CliOutput,
): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'serve': {
      if (rest.length > 0) throw new CliError(`mcp serve: unexpected argument '${rest[0]}'`, 2);
      // With --name, a hosted upstream's route (/mcp/NAME) instead of the gateway's.
      const path = options.name === undefined ? MCP_PATH : `${MCP_PATH}/${serverName('mcp serve', options.name)}`;
      const token = agentToken(env);
      const { base, tls } = agentEndpoint(env, where.dataDir, where.trust);
      await relayStdioToHttp(new URL(path, base), token, tls === null ? undefined : pinnedFetch(tls));
      return 0;
    }
    case 'proxy': {
      const name = serverName('mcp proxy', options.name);
      const { base, tls } = agentEndpoint(env, where.dataDir, where.trust);
      const openexec = new AgentHttp(base, agentToken(env), tls);
      const hold = holdMs(env);
      const upstream = await connectUpstream(upstreamOf(options, rest));
      try {
        const proxy = new McpProxy(name, upstream, hold);
        // One process, one agent (the token's): the caller is this proxy.
        const boundary = new HttpBoundary(openexec, name);
        for (const pin of await proxy.pin(boundary)) {
          if (pin.status === 'changed')
            process.stderr.write(
              `openexec mcp proxy: the definition of mcp:${name}/${pin.name} changed; its calls are refused until the operator accepts it\n`,
            );
        }
        await serveStdio(`openexec-proxy-${name}`, {
          listTools: () => proxy.listTools(),
          callTool: (t, a, p, s) => proxy.callTool(boundary, t, a, p, s),
        });
      } finally {
        openexec.close();
        await upstream.close();
      }
      return 0;
    }
    case 'accept': {
      const [action, extra] = rest;
      if (action === undefined || extra !== undefined) throw new CliError('mcp accept takes exactly one action (mcp:SERVER/TOOL)', 2);
      const pin = await operator().call('acceptToolDefinition', { action });
      if (out.json) return (out.printJson(pin), 0);
      out.print(`${pin.action}: definition ${pin.after} accepted (was ${pin.before})`);
      return 0;
    }
    default:
      throw new CliError(`mcp: expected serve, proxy or accept${sub ? `, got '${sub}'` : ''}`, 2);
  }
}
