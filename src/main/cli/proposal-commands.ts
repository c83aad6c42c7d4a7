import type { ProposalDto } from '../../shared/console-dto.ts';
import { purgedLabel } from '../../shared/receipt-bodies.ts';
import { proposalIdInput } from '../../shared/console-schemas.ts';
import type { ConsoleClient } from './console-client.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { jsonText, preview, type LinePart } from './terminal-text.ts';

/** How much of a payload and of a context `pending` shows before pointing at `show`. */
export const PENDING_PAYLOAD_BYTES = 1024;
export const PENDING_CONTEXT_BYTES = 512;

function timeLeft(expiresAt: string): string {
  const s = Math.max(0, Math.round((Date.parse(expiresAt) - Date.now()) / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Payload before context: what will run comes first, the agent's account of it after. */
export async function pendingCommand(client: ConsoleClient, out: CliOutput): Promise<number> {
  const pending = await client.call('listPending');
  if (out.json) return (out.printJson(pending), 0);
  if (pending.length === 0) return (out.print('no pending proposals'), 0);
  for (const p of pending) {
    const whole = `openexec show ${p.id}`;
    out.print(`${p.id}  ${p.action}  expires in ${timeLeft(p.expiresAt)}  hash ${p.requestHash.slice(0, 16)}`);
    // What a declared action will run comes first, rendered from the payload by the server.
    for (const line of effectLines(p)) out.print('    will run ', line);
    out.print('    payload ', ...preview(jsonText(p.payloadCanonical), PENDING_PAYLOAD_BYTES, whole));
    if (p.context !== null) out.print("    context (agent's words, untrusted) ", ...preview(p.context, PENDING_CONTEXT_BYTES, whole));
  }
  return 0;
}

function effectLines(p: ProposalDto): string[] {
  return p.preview && p.preview.kind !== 'builtin' ? p.preview.lines : [];
}

function decisionLines(p: ProposalDto): LinePart[][] {
  if (p.status === 'pending') return [];
  return [
    ...(p.decidedAt !== null ? [[`decided       ${p.decidedAt}`]] : []),
    ...(p.reason !== null ? [[`reason        ${p.reason}`]] : []),
    ...(p.execId !== null ? [[`execution     ${p.execId}`]] : []),
    ...(p.resultCanonical !== null ? [['result        ', jsonText(p.resultCanonical)]] : []),
    ...(p.purgedAt && p.status === 'executed' ? [[`result        ${purgedLabel(p.purgedAt)}`]] : []),
    ...(p.receiptSeq !== null ? [[`receipt       #${p.receiptSeq}`]] : []),
  ];
}

/** One proposal whole: everything an approval would sign over, then the agent's words. */
export async function showCommand(client: ConsoleClient, id: string, out: CliOutput): Promise<number> {
  if (!proposalIdInput.safeParse({ id }).success) throw new CliError('show: a proposal id is 1 to 128 characters', 2);
  const p = await client.call('getProposal', { id });
  if (out.json) return (out.printJson(p), 0);
  const lines: LinePart[][] = [
    [`proposal      ${p.id}`],
    [`status        ${p.status}`],
    [`action        ${p.action}`],
    [`expires       ${p.expiresAt}${p.status === 'pending' ? ` (in ${timeLeft(p.expiresAt)})` : ''}`],
    [`request hash  ${p.requestHash}`],
    ...effectLines(p).map((line) => ['will run      ', line]),
    ...(p.preview?.definitionHash ? [[`definition    sha256 ${p.preview.definitionHash}`]] : []),
    ...decisionLines(p),
  ];
  if (p.purgedAt) {
    lines.push([`payload       ${purgedLabel(p.purgedAt)}`], [`context       ${purgedLabel(p.purgedAt)}`]);
    for (const line of lines) out.print(...line);
    return 0;
  }
  lines.push(
    [`payload       canonical JSON, ${Buffer.byteLength(p.payloadCanonical, 'utf8')} bytes, shown whole:`],
    ['  ', jsonText(p.payloadCanonical)],
  );
  if (p.context === null) lines.push(['context       (none)']);
  else {
    lines.push(["context       the agent's own words, untrusted (not part of what is approved):"]);
    for (const line of p.context.split('\n')) lines.push([`  | ${line}`]);
  }
  for (const line of lines) out.print(...line);
  return 0;
}
