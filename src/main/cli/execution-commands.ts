import type { ConsoleClient } from './console-client.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { RECEIPT_KEY_ID_PATTERN } from '../../shared/orphans.ts';

/**
 * `openexec executions close-orphans --reserved-by KEYID`, through the running server's console
 * contract: on a PostgreSQL ledger, the executions an instance gone for good left running are
 * closed as interrupted by this one, under a `config` receipt that records the operator's act.
 * The key id is checked here first, so a malformed one never reaches the server.
 */
export async function executionsCommand(
  client: () => ConsoleClient,
  args: readonly string[],
  reservedBy: string | undefined,
  out: CliOutput,
): Promise<number> {
  const [sub, extra] = args;
  if (sub !== 'close-orphans') {
    throw new CliError(`executions: expected close-orphans --reserved-by KEYID${sub ? `, got '${sub}'` : ''}`, 2);
  }
  if (extra !== undefined) throw new CliError(`executions close-orphans: unexpected argument '${extra}'`, 2);
  if (reservedBy === undefined)
    throw new CliError("executions close-orphans needs --reserved-by KEYID (the retired instance's receipt key id)", 2);
  if (!RECEIPT_KEY_ID_PATTERN.test(reservedBy)) {
    throw new CliError(`--reserved-by must be a receipt key id (16 lowercase hex digits), got '${reservedBy}'`, 2);
  }
  const r = await client().call('closeOrphans', { reservedBy });
  if (out.json) return (out.printJson(r), 0);
  out.print(
    `receipt key ${r.reservedBy} retired (config receipt #${r.configSeq}); ${r.closed.length} execution(s) it left running closed as interrupted`,
  );
  for (const c of r.closed) out.print(`  ${c.execId}  ${c.action}  nonce ${c.nonce}  reserved ${c.createdAt}  receipt #${c.receiptSeq}`);
  if (r.proposalsSettled > 0) out.print(`${r.proposalsSettled} proposal(s) they had claimed settled as failed`);
  return 0;
}
