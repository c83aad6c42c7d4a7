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
import { USAGE } from './usage.ts';

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
