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
import { exportCommand, verifyBundleCommand } from './bundle-commands.ts';
import { ConsoleClient } from './console-client.ts';
import { allowCommand, approveCommand, denyCommand, receiptsCommand, statusCommand } from './console-commands.ts';
import { pendingCommand, showCommand } from './proposal-commands.ts';
import { approveSimilarCommand, grantsCommand, revokeCommand, wantsGrant } from './grant-commands.ts';
import { operatorsCommand } from './operator-commands.ts';
import { backupCommand, doctorCommand, purgeCommand, refusePostgresBackup } from './ops-commands.ts';
import { postgresLedgerUrl } from './db-url-option.ts';
import { agentsCommand } from './agent-commands.ts';
import { dbCommand } from './db-commands.ts';
import { executionsCommand } from './execution-commands.ts';

const USAGE = `usage: openexec <command> [options]

commands:
  status                              mode, keys, counts and warnings of the running server
  pending                             proposals waiting for a decision (payload first, then the
                                      agent's context; anything cut says how many bytes it hides)
  show ID                             one proposal whole: action, full payload, request hash,
                                      expiry, then the agent's context
  approve ID                          sign an approval for exactly that proposal and execute it
  approve ID --for 15m | --uses 5 | --until-restart [--vary FIELD …] [--reason "..."]
                                      approve it once, then sign a grant: requests like it (every
                                      payload field fixed except each --vary FIELD, which keeps its
                                      JSON type) run without a new decision within the limit
  grants [--all]                      live grants (--all: also ended ones) with uses and time left
  revoke GRANT_ID [--reason "..."]    end a grant now (witnessed in the ledger)
  approve ID --as NAME                approve with operator NAME's key (actions that need a quorum)
  operators add NAME                  make another operator key (operators/NAME.pem in the data
                                      directory; the server loads it at its next start)
  deny ID --reason "..."              deny a proposal (the reason goes into the ledger)
  allow ACTION | disallow ACTION      change the allow-list (refused when the environment fixes it)
  receipts [--search TEXT] [--event E[,E]] [--action A] [--limit N]
                                      search the ledger, newest first
  agents add NAME | list | revoke NAME
                                      register an agent (its token is printed once; only its hash
                                      is kept), list agents, or revoke one's token at once
  mcp serve [--name NAME]             the MCP gateway on stdio (allowed actions as tools, each call a
                                      proposal), relayed to the running OpenExec's /mcp as the agent
                                      in OPENEXEC_AGENT_TOKEN (OPENEXEC_URL or server.json); with
                                      --name, the upstream the server hosts at /mcp/NAME
  mcp proxy --name NAME [--url URL] [-- COMMAND ARGS…]
                                      an upstream MCP server behind the boundary: its tool definitions
                                      pinned, every call a proposal for mcp:NAME/TOOL, forwarded once
  mcp accept mcp:NAME/TOOL            accept an upstream tool's changed definition (config receipt)
  hook claude-code                    Claude Code's command hook: reads the hook input on stdin, asks
                                      the running OpenExec as the agent in OPENEXEC_AGENT_TOKEN
                                      (OPENEXEC_URL or server.json), prints its decision; exits 2
                                      on any failure so that the tool call is blocked
  verify-ledger [--public-key FILE] [--key-id ID] [--checkpoint FILE|DIR] [--expect-head SEQ:HASH]
                [--approver-key FILE]... [--workers N]
                                      walk the whole receipt chain offline; report the first bad receipt;
                                      check the side tables, approval evidence, that the ledger extends
                                      saved checkpoints and still holds the head you recorded;
                                      signatures are checked on every core (--workers N to choose)
  verify-ledger --db-url postgresql://USER@HOST:PORT/DB [--key-id ID]... [--checkpoint FILE|DIR]
                [--expect-head SEQ:HASH] [--approver-key FILE]... [--workers N]
                                      the same for a PostgreSQL ledger (or OPENEXEC_DB_URL=postgresql://…;
                                      the password from the URL or PGPASSWORD): every receipt
                                      signed by a key the ledger registered before it, --key-id once per
                                      instance to pin them, and the stored Merkle tree checked too
  checkpoint [--out FILE]             sign a checkpoint of the ledger now (C2SP tlog-checkpoint note)
  prove SEQ [--size N] [--public-key FILE] [--key-id ID]
                                      fetch and check a receipt's inclusion proof against the latest checkpoint
  export --out FILE [--search TEXT] [--event E[,E]] [--action A] [--approver-key-id ID]
         [--from TIME] [--to TIME] [--from-seq N] [--to-seq M]
                                      write a receipt bundle (the window's Export, byte for byte)
  verify-bundle FILE [--public-key FILE | --key-id ID] [--approver-key FILE]...
                                      check a bundle offline: signatures, hashes, links, checkpoint,
                                      inclusion proofs, results and approval evidence
  demo [--auto] [--step] [--headless] [--data-dir DIR] [--scenario FILE]
                                      start OpenExec on a fresh ledger and play a scripted agent against it
  db migrate --db-url postgresql://OWNER@HOST:PORT/DB --app-role ROLE
                                      bring a PostgreSQL database to this version's schema as its owner
                                      (once per upgrade, before the servers start) and grant ROLE, the
                                      role OpenExec connects as, only what it needs
  doctor                              the production hardening checklist, checked (exit 1 when an item fails)
  backup --out FILE                   an online copy of the database, verified and recorded in the ledger
                                      (SQLite; a PostgreSQL ledger is backed up with pg_dump or the server's own backups)
  purge --older-than DURATION         remove payloads, contexts and results older than 12h, 90d, 8w, …;
                                      every receipt still verifies, and the purge is itself a receipt
  executions close-orphans --reserved-by KEYID
                                      PostgreSQL: close as interrupted (a receipt each, signed here) the
                                      executions an instance gone for good (receipt key KEYID) left
                                      running; refused while it is connected; a config receipt records it

Every verdict names the receipt key it trusted and where it came from. Pin the key id you got
out of band with --key-id: a key found beside the ledger or inside a bundle proves nothing alone.
--public-key takes PEM or the JSON of GET /receipts/public-key. Exit 3: something does not verify.

The server is found through OPENEXEC_DATA_DIR (default ~/.openexec): its address and console
token are files there. The token is sent only after the server has proved it knows it.
Control, bidi and invisible characters in what agents wrote are shown as escapes (\x1b, \u202e).

options:
  --json      machine-readable output
  --help      this text`;

function optionalCount(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,1}$/.test(text)) throw new CliError(`${flag} must be a whole number from 1 to 99, got '${text}'`, 2);
  return Number(text);
}

/** `--key-id` once: every command but `verify-ledger --db-url` trusts one receipt key. */
function oneKeyId(ids: string[] | undefined): string | undefined {
  if (ids !== undefined && ids.length > 1) {
    throw new CliError(`--key-id is given ${ids.length} times; only verify-ledger of a PostgreSQL ledger takes one per instance`, 2);
  }
  return ids?.[0];
}

async function run(argv: string[]): Promise<number> {
  // The demo starts its own server with its own settings: none of the caller's environment applies.
  // Loaded only for the demo, so the operator's commands do not pay for it.
  if (argv[0] === 'demo') return (await import('../demo/run-demo.ts')).runDemo(argv.slice(1));
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
      'key-id': { type: 'string', multiple: true },
      'db-url': { type: 'string' },
      'expect-head': { type: 'string' },
      'from-seq': { type: 'string' },
      'to-seq': { type: 'string' },
      'approver-key': { type: 'string', multiple: true },
      'approver-key-id': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      workers: { type: 'string' },
      'older-than': { type: 'string' },
      for: { type: 'string' },
      uses: { type: 'string' },
      'until-restart': { type: 'boolean' },
      vary: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
      as: { type: 'string' },
      name: { type: 'string' },
      url: { type: 'string' },
      'app-role': { type: 'string' },
      'reserved-by': { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  const out = stdoutOutput(values.json);
  const postgresUrl = postgresLedgerUrl(command, values['db-url'], process.env);
  // A PostgreSQL URL in the environment is this command's to read, not the server's configuration.
  const env = postgresUrl === undefined ? process.env : { ...process.env, OPENEXEC_DB_URL: undefined };
  const config = loadConfig(env, { dataDirDefault: join(homedir(), '.openexec') });
  const keyId = () => oneKeyId(values['key-id']);
  const noArgs = () => {
    if (rest.length > 0) throw new CliError(`${command}: unexpected argument '${rest[0]}'`, 2);
  };
  const oneArg = (what: string): string => {
    if (rest.length !== 1 || rest[0] === undefined) throw new CliError(`${command} takes exactly one ${what}`, 2);
    return rest[0];
  };
  const client = () => ConsoleClient.fromDataDir(config.dataDir, config);
  switch (command) {
    case 'verify-ledger':
      noArgs();
      return verifyLedgerCommand(
        config,
        {
          dbUrl: postgresUrl,
          publicKeyFile: values['public-key'],
          keyIds: values['key-id'],
          checkpoint: values.checkpoint,
          expectHead: values['expect-head'],
          approverKeyFiles: values['approver-key'],
          workers: optionalCount(values.workers, '--workers'),
        },
        out,
      );
    case 'verify-bundle':
      return verifyBundleCommand(
        oneArg('bundle file'),
        { publicKeyFile: values['public-key'], keyId: keyId(), approverKeyFiles: values['approver-key'] },
        out,
      );
    case 'export':
      noArgs();
      return exportCommand(
        client(),
        values.out,
        {
          search: values.search,
          event: values.event,
          action: values.action,
          approverKeyId: values['approver-key-id'],
          from: values.from,
          to: values.to,
          fromSeq: values['from-seq'],
          toSeq: values['to-seq'],
        },
        out,
      );
    case 'checkpoint':
      noArgs();
      return checkpointCommand(client(), values.out, out);
    case 'prove':
      return proveCommand(client(), oneArg('receipt number'), values.size, trustedReceiptKey(config, values['public-key'], keyId()), out);
    case 'doctor':
      noArgs();
      return doctorCommand(config, client, out);
    case 'backup':
      noArgs();
      if (postgresUrl !== undefined) refusePostgresBackup(postgresUrl);
      return backupCommand(client(), values.out, out);
    case 'db':
      if (rest.length > 1) throw new CliError(`db: unexpected argument '${rest[1]}'`, 2);
      return dbCommand(rest[0], postgresUrl, values['app-role'], out);
    case 'purge':
      noArgs();
      return purgeCommand(client, values['older-than'], out, config.postgresUrl !== null);
    case 'status':
      noArgs();
      return statusCommand(client(), out);
    case 'pending':
      noArgs();
      return pendingCommand(client(), out);
    case 'show':
      return showCommand(client(), oneArg('proposal id'), out);
    case 'approve': {
      const similar = {
        for: values.for,
        uses: values.uses,
        untilRestart: values['until-restart'],
        vary: values.vary,
        reason: values.reason,
      };
      if (wantsGrant(similar)) return approveSimilarCommand(client(), oneArg('proposal id'), similar, out);
      return approveCommand(client(), oneArg('proposal id'), values.as, out);
    }
    case 'operators':
      return operatorsCommand(config.dataDir, rest, out);
    case 'grants':
      noArgs();
      return grantsCommand(client(), values.all, out);
    case 'revoke':
      return revokeCommand(client(), oneArg('grant id'), values.reason, out);
    case 'deny':
      return denyCommand(client(), oneArg('proposal id'), values.reason, out);
    case 'allow':
    case 'disallow':
      return allowCommand(client(), oneArg('action name'), command === 'allow', out);
    case 'mcp': {
      // Loaded only here (like hook): the MCP SDK would slow every other command's start.
      const { mcpCommand } = await import('./mcp-command.ts');
      return mcpCommand(rest, { name: values.name, url: values.url }, process.env, { dataDir: config.dataDir, trust: config }, client, out);
    }
    case 'hook': {
      const { hookCommand } = await import('./hook-command.ts');
      return hookCommand(rest, process.env, config.dataDir, config);
    }
    case 'agents':
      return agentsCommand(client(), rest, out);
    case 'executions':
      return executionsCommand(client, rest, values['reserved-by'], out);
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
