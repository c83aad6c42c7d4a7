import { setTimeout as sleep } from 'node:timers/promises';
import { ConsoleClient } from '../cli/console-client.ts';
import type { ProposalDetailDto, ProposalDto, ReceiptDto } from '../../shared/console-dto.ts';
import type { GrantDto } from '../../shared/grant-dto.ts';
import type { SimilarGrantInput } from '../../shared/grant-schemas.ts';
import { jsonText } from '../cli/terminal-text.ts';
import type { Narrator } from './narrator.ts';
import type { Keyboard } from './keyboard.ts';

export type Decision = 'approve' | 'deny';
const DEFAULT_DENY_REASON = 'Denied by the operator';
/** How often an interactive question checks whether a console decided it meanwhile. */
const POLL_MS = 300;

/** What a decided proposal's status says the operator chose. */
function decisionOf(p: ProposalDto): Decision {
  return p.status === 'denied' || p.status === 'expired' ? 'deny' : 'approve';
}

/**
 * The operator's side: the console contract over /console/* (the same client and token
 * challenge as the `openexec` CLI), and the presenter's keys when the demo is interactive.
 */
export class DemoOperator {
  private readonly client: ConsoleClient;

  constructor(
    dataDir: string,
    private readonly narrator: Narrator,
    private readonly keyboard: Keyboard | null,
  ) {
    // The demo's server is plain HTTP on loopback: nothing to pin, nothing to allow.
    this.client = ConsoleClient.fromDataDir(dataDir, { host: '127.0.0.1', tlsCertFile: null, allowPlaintext: false });
  }

  /** What the console shows: the payload and what approving does first, the agent's words last. */
  async show(id: string): Promise<ProposalDetailDto> {
    const p = await this.client.call('getProposal', { id });
    const n = this.narrator;
    n.line('operator', `sees proposal ${p.id.slice(0, 8)}… for '${p.action}' (${p.status}, expires ${p.expiresAt})`);
    if (p.preview) {
      n.line('operator', `approving will do (risk ${p.preview.risk ?? 'n/a'}): ${p.preview.lines.join(' ; ')}`);
    }
    n.line('operator', `payload: ${p.payloadCanonical}`);
    n.line('operator', `the agent's own words (untrusted): ${p.context ?? '(none)'}`);
    n.line('operator', `request hash ${p.requestHash} (what an approval signs)`);
    return p;
  }

  /** The scripted decision under --auto; otherwise the presenter's key. */
  async decide(id: string, scripted: Decision, reason: string | undefined): Promise<{ decision: Decision; proposal: ProposalDto }> {
    let decision = scripted;
    if (this.keyboard) {
      this.narrator.line('operator', `your decision: [a] approve [d] deny (the script would ${scripted}), or decide it in a console`);
      const chosen = await this.choose(id, ['a', 'd']);
      if (typeof chosen !== 'string') return { decision: decisionOf(chosen), proposal: chosen };
      decision = chosen === 'a' ? 'approve' : 'deny';
    }
    if (decision === 'approve') {
      this.narrator.line('operator', 'approves: the console signs an approval for exactly this request with the operator key');
      return { decision, proposal: await this.client.call('approve', { id }) };
    }
    const why = reason ?? DEFAULT_DENY_REASON;
    this.narrator.line('operator', `denies, with the reason: ${why}`);
    return { decision, proposal: await this.client.call('deny', { id, reason: why }) };
  }

  /**
   * "Approve similar…": the terms are shown as the console shows them before signing; then the
   * proposal is approved once and the grant signed, or (the presenter's choice) the proposal is
   * denied and nothing is granted.
   */
  async grant(input: SimilarGrantInput): Promise<{ decision: Decision; proposal: ProposalDto; grant: GrantDto | null }> {
    const n = this.narrator;
    const terms = await this.client.call('previewSimilar', input);
    n.line(
      'operator',
      `reads the terms of the grant before signing: action '${terms.action}', ${terms.agent ? `agent ${terms.agent}` : 'any agent'}`,
    );
    n.line('operator', '  payload fixed to ', jsonText(terms.fixed));
    n.line('operator', `  may vary: ${terms.varying.length ? terms.varying.join(', ') : 'nothing'}`);
    n.line('operator', `  limit: ${limitWords(terms.uses, terms.forSeconds)}`);
    let decision: Decision = 'approve';
    if (this.keyboard) {
      n.line('operator', 'your decision: [g] approve and grant [d] deny (the script would grant), or decide it in a console');
      const chosen = await this.choose(input.id, ['g', 'd']);
      if (typeof chosen !== 'string') {
        const grant = (await this.client.call('listGrants', { all: true })).find((g) => g.proposalId === input.id) ?? null;
        if (grant) n.line('operator', `granted in the console: grant ${grant.id}, signed with the operator key (key id ${grant.keyId})`);
        return { decision: decisionOf(chosen), proposal: chosen, grant };
      }
      decision = chosen === 'g' ? 'approve' : 'deny';
    }
    if (decision === 'deny') {
      n.line('operator', `denies, with the reason: ${DEFAULT_DENY_REASON}; nothing is granted`);
      return { decision, proposal: await this.client.call('deny', { id: input.id, reason: DEFAULT_DENY_REASON }), grant: null };
    }
    const done = await this.client.call('approveSimilar', input);
    const g = done.grant;
    n.line('operator', `approves this request once, and signs grant ${g.id} with the operator key (key id ${g.keyId})`);
    return { decision, proposal: done.proposal, grant: g };
  }

  /**
   * The presenter's key, or the proposal once someone decided it elsewhere first: in a console
   * window on this data directory, or with `openexec approve` / `deny` in another terminal.
   */
  private async choose(id: string, keys: readonly string[]): Promise<string | ProposalDetailDto> {
    const stop = new AbortController();
    let failure: unknown = null;
    const elsewhere = this.decidedElsewhere(id, stop.signal).then(
      (p) => (stop.abort(), p),
      (err: unknown) => ((failure = err), stop.abort(), null),
    );
    const key = await this.keyboard!.key(keys, stop.signal);
    stop.abort();
    const decided = await elsewhere;
    if (failure !== null) throw failure;
    if (key !== null || decided === null) return key ?? keys[0]!;
    this.narrator.line('operator', `decided elsewhere (a console on this ledger): the proposal is ${decided.status}`);
    return decided;
  }

  /** Polls the proposal until it is no longer pending (its proposal) or `signal` aborts (null). */
  private async decidedElsewhere(id: string, signal: AbortSignal): Promise<ProposalDetailDto | null> {
    while (!signal.aborted) {
      const p = await this.client.call('getProposal', { id });
      if (p.status !== 'pending') return p;
      await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
    }
    return null;
  }

  /** Receipts newer than `afterSeq`, oldest first (a demo's ledger is small). */
  async receiptsAfter(afterSeq: number): Promise<ReceiptDto[]> {
    const page = await this.client.call('searchReceipts', { limit: 500 });
    return page.items.filter((r) => r.seq > afterSeq).reverse();
  }

  /** The receipt that witnessed an execution (its `executed` or `failed` receipt). */
  async executionReceipt(execId: string): Promise<ReceiptDto | undefined> {
    const page = await this.client.call('searchReceipts', { id: execId, events: ['executed', 'failed'], limit: 1 });
    return page.items[0];
  }

  async receipt(seq: number): Promise<ReceiptDto> {
    return (await this.client.call('getReceipt', { seq })).receipt;
  }

  async allReceipts(): Promise<ReceiptDto[]> {
    const all: ReceiptDto[] = [];
    let beforeSeq: number | undefined;
    for (;;) {
      const page = await this.client.call('searchReceipts', { limit: 500, ...(beforeSeq ? { beforeSeq } : {}) });
      all.push(...page.items);
      if (page.nextBeforeSeq === null) return all;
      beforeSeq = page.nextBeforeSeq;
    }
  }
}

/** "3 uses, for 10 min": a grant's limit in words. */
export function limitWords(uses: number | null, forSeconds: number | null): string {
  const parts: string[] = [];
  if (uses !== null) parts.push(`${uses} use${uses === 1 ? '' : 's'}`);
  if (forSeconds !== null) parts.push(forSeconds % 60 === 0 ? `for ${forSeconds / 60} min` : `for ${forSeconds} s`);
  return parts.join(', ');
}
