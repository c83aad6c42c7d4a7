import type { GrantDto } from '../../shared/grant-dto.ts';
import { MAX_GRANT_SECONDS, MAX_GRANT_USES, revokeGrantInput } from '../../shared/grant-schemas.ts';
import type { ConsoleClient } from './console-client.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { jsonText, type LinePart } from './terminal-text.ts';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `15m`, `1h`, `90s`, `2d` → seconds; anything else is refused, naming the flag. */
export function parseDuration(text: string): number {
  const m = /^([1-9]\d{0,6})([smhd])$/.exec(text);
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2]!]! : NaN;
  if (!(seconds <= MAX_GRANT_SECONDS))
    throw new CliError(`--for must be a duration such as 90s, 15m, 1h or 2d, at most 7d; got '${text}'`, 2);
  return seconds;
}

function parseUses(text: string): number {
  if (!/^[1-9]\d{0,4}$/.test(text) || Number(text) > MAX_GRANT_USES) {
    throw new CliError(`--uses must be a whole number from 1 to ${MAX_GRANT_USES}, got '${text}'`, 2);
  }
  return Number(text);
}

export interface SimilarOptions {
  for?: string | undefined;
  uses?: string | undefined;
  untilRestart?: boolean | undefined;
  vary?: string[] | undefined;
  reason?: string | undefined;
}

/** Whether `approve` was asked for a grant as well (any limit flag or --vary). */
export function wantsGrant(o: SimilarOptions): boolean {
  return o.for !== undefined || o.uses !== undefined || o.untilRestart === true || (o.vary?.length ?? 0) > 0;
}

/** `approve ID --for 15m | --uses 5 [--vary FIELD …]`: approve once, then grant the like of it. */
export async function approveSimilarCommand(client: ConsoleClient, id: string, o: SimilarOptions, out: CliOutput): Promise<number> {
  if (o.for === undefined && o.uses === undefined && o.untilRestart !== true) {
    throw new CliError('approve --vary needs a limit: --for DURATION, --uses N and/or --until-restart', 2);
  }
  const input = {
    id,
    vary: o.vary ?? [],
    ...(o.uses !== undefined ? { uses: parseUses(o.uses) } : {}),
    ...(o.for !== undefined ? { forSeconds: parseDuration(o.for) } : {}),
    ...(o.untilRestart ? { untilRestart: true } : {}),
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
  };
  const done = await client.call('approveSimilar', input);
  if (out.json) return (out.printJson(done), 0);
  const p = done.proposal;
  out.print(`executed ${p.id}: exec ${p.execId}, result `, jsonText(p.resultCanonical ?? 'null'), `, receipt #${p.receiptSeq}`);
  for (const line of grantLines(done.grant)) out.print(...line);
  return 0;
}

function limitText(g: GrantDto): string {
  const parts: string[] = [];
  if (g.uses !== null) parts.push(`uses ${g.usesSpent}/${g.uses}`);
  else parts.push(`used ${g.usesSpent}`);
  if (g.until !== null) parts.push(`until ${g.until}`);
  if (g.untilRestart) parts.push('until restart');
  return parts.join(', ');
}

function grantLines(g: GrantDto): LinePart[][] {
  return [
    [`grant ${g.id}  ${g.status}  ${g.action}${g.agent ? ` (agent ${g.agent})` : ''}  ${limitText(g)}`],
    ['    fixed  ', jsonText(g.fixed)],
    [`    vary   ${g.varying.length ? g.varying.join(', ') : '(nothing)'}`],
  ];
}

/** `grants [--all]`: live grants (or the latest ones), with uses and time left. */
export async function grantsCommand(client: ConsoleClient, all: boolean, out: CliOutput): Promise<number> {
  const grants = await client.call('listGrants', all ? { all: true } : {});
  if (out.json) return (out.printJson(grants), 0);
  if (grants.length === 0) return (out.print(all ? 'no grants' : 'no live grants'), 0);
  for (const g of grants) for (const line of grantLines(g)) out.print(...line);
  return 0;
}

/** `revoke GRANT_ID [--reason …]`: ends the grant now; the reason goes into the ledger. */
export async function revokeCommand(client: ConsoleClient, id: string, reason: string | undefined, out: CliOutput): Promise<number> {
  const input = { id, reason: reason ?? 'revoked from the command line' };
  if (!revokeGrantInput.safeParse(input).success)
    throw new CliError('revoke: a grant id is 1 to 128 characters and the reason 1 to 2000', 2);
  const g = await client.call('revokeGrant', input);
  if (out.json) return (out.printJson(g), 0);
  out.print(`revoked grant ${g.id} (${g.action}) after ${g.usesSpent} use${g.usesSpent === 1 ? '' : 's'}`);
  return 0;
}
