import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LedgerStore } from '../core/store/ledger-store.ts';
import type { ReceiptDto } from '../../shared/console-dto.ts';
import { CONSOLE_ERROR_CODES, REFUSAL_CODES } from '../../shared/error-codes.ts';

/** An action or code nobody configured becomes this label: agents never choose a label value. */
export const OTHER = 'other';

const OUTCOMES: Partial<Record<ReceiptDto['event'], string>> = {
  executed: 'executed',
  refused: 'refused',
  replayed: 'replayed',
  failed: 'failed',
};
const DECISIONS: Partial<Record<ReceiptDto['event'], string>> = { approved: 'approved', denied: 'denied', expired: 'expired' };
const KNOWN_CODES = new Set<string>([...REFUSAL_CODES, ...CONSOLE_ERROR_CODES]);

export interface MetricsSources {
  /** Its committed receipts, on either engine. */
  ledger: Pick<LedgerStore, 'head' | 'subscribe'>;
  /** Whether an action is configured (built in or declared); anything else is `other`. */
  isAction: (name: string) => boolean;
  pendingProposals: () => Promise<number>;
}

export interface RequestObservation {
  /** The route pattern (`/proposals/:id`), never the URL an agent sent. */
  route: string;
  seconds: number;
  refusal: string | null;
}

/**
 * Prometheus metrics in a Registry of their own (never prom-client's global one, which a
 * library could write into). Counters are fed by the ledger's committed receipts, so they count
 * exactly what was witnessed; requests are observed once each by the HTTP layer.
 */
export class OpenExecMetrics {
  readonly registry = new Registry();
  private readonly executions;
  private readonly refusals;
  private readonly decisions;
  private readonly duration;
  private readonly commitSize;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.executions = new Counter({
      name: 'openexec_executions_total',
      help: 'Execution attempts by configured action and outcome',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.refusals = new Counter({
      name: 'openexec_refusals_total',
      help: 'Requests refused, by refusal code',
      labelNames: ['code'],
      registers,
    });
    this.decisions = new Counter({
      name: 'openexec_decisions_total',
      help: 'Proposals decided: approved, denied, expired',
      labelNames: ['decision'],
      registers,
    });
    this.duration = new Histogram({
      name: 'openexec_request_duration_seconds',
      help: 'HTTP request duration by route pattern',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.commitSize = new Histogram({
      name: 'openexec_group_commit_size',
      help: 'Receipts made durable by one commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    new Gauge({
      name: 'openexec_pending_proposals',
      help: 'Proposals waiting for a decision',
      registers,
      async collect() {
        this.set(await sources.pendingProposals());
      },
    });
    new Gauge({
      name: 'openexec_ledger_receipts',
      help: 'Receipts in the ledger',
      registers,
      async collect() {
        this.set((await sources.ledger.head()).seq);
      },
    });
    sources.ledger.subscribe((receipts) => this.onCommitted(receipts));
  }

  /** The receipts one commit (one turn's commits, on SQLite) published, announced together. */
  private onCommitted(receipts: readonly ReceiptDto[]): void {
    this.commitSize.observe(receipts.length);
    for (const r of receipts) this.onReceipt(r);
  }

  private onReceipt(r: ReceiptDto): void {
    const outcome = OUTCOMES[r.event];
    if (outcome !== undefined)
      this.executions.inc({ action: r.action !== null && this.sources.isAction(r.action) ? r.action : OTHER, outcome });
    const decision = DECISIONS[r.event];
    if (decision !== undefined) this.decisions.inc({ decision });
  }

  observeRequest(o: RequestObservation): void {
    this.duration.observe({ route: o.route }, o.seconds);
    if (o.refusal !== null) this.refusals.inc({ code: KNOWN_CODES.has(o.refusal) ? o.refusal : OTHER });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
