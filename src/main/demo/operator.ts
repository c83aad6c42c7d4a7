import { ConsoleClient } from '../cli/console-client.ts';
import type { ProposalDetailDto, ProposalDto, ReceiptDto } from '../../shared/console-dto.ts';
import type { Narrator } from './narrator.ts';
import type { Keyboard } from './keyboard.ts';

export type Decision = 'approve' | 'deny';
const DEFAULT_DENY_REASON = 'Denied by the operator';

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
      this.narrator.line('operator', `your decision: [a] approve  [d] deny  (the script would ${scripted})`);
      decision = (await this.keyboard.key(['a', 'd'])) === 'a' ? 'approve' : 'deny';
    }
    if (decision === 'approve') {
      this.narrator.line('operator', 'approves: the console signs an approval for exactly this request with the operator key');
      return { decision, proposal: await this.client.call('approve', { id }) };
    }
    const why = reason ?? DEFAULT_DENY_REASON;
    this.narrator.line('operator', `denies, with the reason: ${why}`);
    return { decision, proposal: await this.client.call('deny', { id, reason: why }) };
  }

  /** Receipts newer than `afterSeq`, oldest first (a demo's ledger is small). */
  async receiptsAfter(afterSeq: number): Promise<ReceiptDto[]> {
    const page = await this.client.call('searchReceipts', { limit: 500 });
    return page.items.filter((r) => r.seq > afterSeq).reverse();
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
