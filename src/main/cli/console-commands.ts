import type { ProposalDto, ReceiptDto, ReceiptEvent } from '../../shared/console-dto.ts';
import { RECEIPT_EVENTS } from '../../shared/console-dto.ts';
import type { ConsoleClient } from './console-client.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { jsonText, preview, type LinePart } from './terminal-text.ts';
import { purgedLabel } from '../../shared/receipt-bodies.ts';

const RECEIPT_REASON_BYTES = 300;

function describeDecision(p: ProposalDto): LinePart[] {
  if (p.status === 'executed') {
    return [`executed ${p.id}: exec ${p.execId}, result `, jsonText(p.resultCanonical ?? 'null'), `, receipt #${p.receiptSeq}`];
  }
  return [`${p.status} ${p.id}${p.reason ? `: ${p.reason}` : ''}${p.receiptSeq ? ` (receipt #${p.receiptSeq})` : ''}`];
}

export async function approveCommand(client: ConsoleClient, id: string, operator: string | undefined, out: CliOutput): Promise<number> {
  const p = await client.call('approve', operator === undefined ? { id } : { id, operator });
  if (out.json) out.printJson(p);
  else if (p.status === 'pending') out.print(`approved ${p.id} by ${operator ?? 'operator'}; it waits for another operator's approval`);
  else out.print(...describeDecision(p));
  return p.status === 'executed' || p.status === 'pending' ? 0 : 1;
}

export async function denyCommand(client: ConsoleClient, id: string, reason: string | undefined, out: CliOutput): Promise<number> {
  if (reason === undefined || reason.trim() === '') throw new CliError('deny needs --reason "…" (it goes into the ledger)', 2);
  const p = await client.call('deny', { id, reason });
  if (out.json) out.printJson(p);
  else out.print(...describeDecision(p));
  return 0;
}

export async function allowCommand(client: ConsoleClient, action: string, allowed: boolean, out: CliOutput): Promise<number> {
  const list = await client.call('setAllowed', { action, allowed });
  if (out.json) return (out.printJson(list), 0);
  const names = list.entries.filter((e) => e.allowed).map((e) => e.action);
  out.print(`${action} is now ${allowed ? 'allowed' : 'not allowed'}; allowed: ${names.length ? names.join(', ') : '(none)'}`);
  return 0;
}

export interface ReceiptsOptions {
  search?: string | undefined;
  event?: string | undefined;
  action?: string | undefined;
  limit?: string | undefined;
}

/** `--event E[,E]` as event names; an unknown one is refused. */
export function parseEvents(text: string | undefined): ReceiptEvent[] | undefined {
  const events = text
    ?.split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of events ?? []) {
    if (!(RECEIPT_EVENTS as readonly string[]).includes(e))
      throw new CliError(`unknown event '${e}' (one of ${RECEIPT_EVENTS.join(', ')})`, 2);
  }
  return events as ReceiptEvent[] | undefined;
}

export async function receiptsCommand(client: ConsoleClient, o: ReceiptsOptions, out: CliOutput): Promise<number> {
  const events = parseEvents(o.event);
  const limit = o.limit === undefined ? 20 : Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliError('--limit must be a whole number from 1 to 500', 2);
  const page = await client.call('searchReceipts', {
    ...(o.search !== undefined ? { text: o.search } : {}),
    ...(events?.length ? { events } : {}),
    ...(o.action !== undefined ? { action: o.action } : {}),
    limit,
  });
  if (out.json) return (out.printJson(page), 0);
  if (page.items.length === 0) return (out.print('no receipts match'), 0);
  for (const r of page.items) out.print(...receiptLine(r));
  return 0;
}

function receiptLine(r: ReceiptDto): LinePart[] {
  const head = `#${r.seq}  ${r.time}  ${r.event.padEnd(8)}  ${r.action ?? ''}`;
  const line: LinePart[] = r.reason ? [`${head} — `, ...preview(r.reason, RECEIPT_REASON_BYTES, '--json')] : [head];
  const purged = (r.bodies ?? []).filter((b) => b.purgedAt !== null);
  if (purged[0]?.purgedAt) line.push(` [${purged.map((b) => b.field).join(', ')} ${purgedLabel(purged[0].purgedAt)}]`);
  return line;
}

export async function statusCommand(client: ConsoleClient, out: CliOutput): Promise<number> {
  const h = await client.call('health');
  if (out.json) return (out.printJson(h), 0);
  out.print(`OpenExec ${h.version} at ${h.apiAddress}: mode ${h.mode}, signature verification ${h.signatureVerification}`);
  out.print(`database ${h.database}`);
  out.print(`keys: receipt ${h.receiptKey.keyId}, operator ${h.operatorKey.keyId}, clawshield ${h.clawshieldKey?.keyId ?? '(none)'}`);
  if (h.manifest) out.print(`actions manifest ${h.manifest.path}: ${h.manifest.count} actions, sha256 ${h.manifest.hash}`);
  out.print(
    `pending ${h.counts.pending}, receipts ${h.counts.receipts}, executions ${h.counts.executions}, approvals ${h.counts.approvals}`,
  );
  for (const w of h.warnings) out.print(`warning: ${w}`);
  return 0;
}
