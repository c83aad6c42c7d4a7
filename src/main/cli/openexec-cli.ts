/**
 * `openexec`: the headless operator's command line. Reads the same environment as
 * `npm run serve` (OPENEXEC_DATA_DIR, OPENEXEC_DB_URL …). Errors are one line on stderr.
 */
import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../app/config.ts';
import { CliError, stdoutOutput } from './cli-error.ts';
import { terminalSafe } from './terminal-text.ts';
import { verifyLedgerCommand } from './verify-ledger-command.ts';
import { checkpointCommand, proveCommand } from './proof-commands.ts';
import { trustedReceiptKey } from './receipt-key.ts';
import { ConsoleClient } from './console-client.ts';
import { allowCommand, approveCommand, denyCommand, receiptsCommand, statusCommand } from './console-commands.ts';
import { pendingCommand, showCommand } from './proposal-commands.ts';
import { agentsCommand } from './agent-commands.ts';

const USAGE = `usage: openexec <command> [options]

commands:
  status                              mode, keys, counts and warnings of the running server
  pending                             proposals waiting for a decision (payload first, then the
                                      agent's context; anything cut says how many bytes it hides)
  show ID                             one proposal whole: action, full payload, request hash,
                                      expiry, then the agent's context
  approve ID                          sign an approval for exactly that proposal and execute it
  deny ID --reason "..."              deny a proposal (the reason goes into the ledger)
  allow ACTION | disallow ACTION      change the allow-list (refused when the environment fixes it)
  receipts [--search TEXT] [--event E[,E]] [--action A] [--limit N]
                                      search the ledger, newest first
  agents add NAME | list | revoke NAME
                                      register an agent (its token is printed once; only its hash
                                      is kept), list agents, or revoke one's token at once
  mcp serve                           the MCP gateway on stdio (allowed actions as tools, each call a
                                      proposal), relayed to the running OpenExec's /mcp as the agent
                                      in OPENEXEC_AGENT_TOKEN (OPENEXEC_URL or server.json)
  mcp proxy --name NAME [--url URL] [-- COMMAND ARGS…]
                                      an upstream MCP server behind the boundary: its tool definitions
                                      pinned, every call a proposal for mcp:NAME/TOOL, forwarded once
  mcp accept mcp:NAME/TOOL            accept an upstream tool's changed definition (config receipt)
  hook claude-code                    Claude Code's command hook: reads the hook input on stdin, asks
                                      the running OpenExec as the agent in OPENEXEC_AGENT_TOKEN
                                      (OPENEXEC_URL or server.json), prints its decision; exits 2
                                      on any failure so that the tool call is blocked
  verify-ledger [--public-key FILE] [--checkpoint FILE|DIR]
                                      walk the whole receipt chain offline; report the first bad receipt;
                                      check the side tables, and that the ledger extends saved checkpoints
  checkpoint [--out FILE]             sign a checkpoint of the ledger now (C2SP tlog-checkpoint note)
  prove SEQ [--size N]                fetch and check a receipt's inclusion proof against the latest checkpoint

The server is found through OPENEXEC_DATA_DIR (default ~/.openexec): its address and console
token are files there. The token is sent only after the server has proved it knows it.
Control, bidi and invisible characters in what agents wrote are shown as escapes (\x1b, \u202e).

options:
  --json      machine-readable output
  --help      this text`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      'public-key': { type: 'string' },
      reason: { type: 'string' },
      search: { type: 'string' },
      event: { type: 'string' },
      action: { type: 'string' },
      limit: { type: 'string' },
      checkpoint: { type: 'string' },
      out: { type: 'string' },
      size: { type: 'string' },
      name: { type: 'string' },
      url: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  const out = stdoutOutput(values.json);
  const config = loadConfig(process.env, { dataDirDefault: join(homedir(), '.openexec') });
  const noArgs = () => {
    if (rest.length > 0) throw new CliError(`${command}: unexpected argument '${rest[0]}'`, 2);
  };
  const oneArg = (what: string): string => {
    if (rest.length !== 1 || rest[0] === undefined) throw new CliError(`${command} takes exactly one ${what}`, 2);
    return rest[0];
  };
  const client = () => ConsoleClient.fromDataDir(config.dataDir, config.host);
  switch (command) {
    case 'verify-ledger':
      noArgs();
      return verifyLedgerCommand(config, { publicKeyFile: values['public-key'], checkpoint: values.checkpoint }, out);
    case 'checkpoint':
      noArgs();
      return checkpointCommand(client(), values.out, out);
    case 'prove':
      return proveCommand(client(), oneArg('receipt number'), values.size, trustedReceiptKey(config, values['public-key']), out);
    case 'status':
      noArgs();
      return statusCommand(client(), out);
    case 'pending':
      noArgs();
      return pendingCommand(client(), out);
    case 'show':
      return showCommand(client(), oneArg('proposal id'), out);
    case 'approve':
      return approveCommand(client(), oneArg('proposal id'), out);
    case 'deny':
      return denyCommand(client(), oneArg('proposal id'), values.reason, out);
    case 'allow':
    case 'disallow':
      return allowCommand(client(), oneArg('action name'), command === 'allow', out);
    case 'mcp': {
      // Loaded only here (like hook): the MCP SDK would slow every other command's start.
      const { mcpCommand } = await import('./mcp-command.ts');
      return mcpCommand(rest, { name: values.name, url: values.url }, process.env, { dataDir: config.dataDir, host: config.host }, client, out);
    }
    case 'hook': {
      const { hookCommand } = await import('./hook-command.ts');
      return hookCommand(rest, process.env, config.dataDir, config.host);
    }
    case 'agents':
      return agentsCommand(client(), rest, out);
    case 'receipts':
      noArgs();
      return receiptsCommand(client(), { search: values.search, event: values.event, action: values.action, limit: values.limit }, out);
    default:
      throw new CliError(`unknown command '${command}' (see openexec --help)`, 2);
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = err instanceof CliError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    process.stderr.write(`openexec: ${known ? '' : 'error: '}${terminalSafe(message)}\n`);
    process.exit(err instanceof CliError ? err.exitCode : 2);
  },
);
