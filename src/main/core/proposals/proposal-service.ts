import type { ProposalCore } from './proposal-core.ts';
import type { EventHub } from '../events/event-hub.ts';
import type { JsonObject } from '../json/json-value.ts';
import { requestHash as hashRequest } from '../json/request-hash.ts';
import { isoUtc } from '../clock.ts';
import { Refusal } from '../errors.ts';
import { isStorageFull } from '../store/storage-full.ts';
import { PRIMARY_OPERATOR } from '../crypto/operator-keys.ts';
import { ProposalPublisher } from './proposal-publisher.ts';
import { payloadOf, type ProposalRow } from './proposal-store.ts';
import type { ProposalRecords } from '../store/proposal-records.ts';
import { closedReceipt, extendedReceipt } from './proposal-receipts.ts';
import { ProposalApproval } from './proposal-approval.ts';
import { StaleDecision, witnessDecision } from './stale-decision.ts';
import { admitProposal } from './proposal-intake.ts';
import { claimsWithin, extendedExpiry, settleEndedExecutions, settleEndedWithin } from './proposal-decisions.ts';
import type { ClosedOrphans } from '../engine/close-orphans.ts';
import type { ProposalDto } from '../../../shared/console-dto.ts';

export interface ProposeInput {
  action: string;
  payload: JsonObject;
  nonce: string;
  ttlSeconds?: number | null;
  context?: string | null;
  /** The verified agent (its token), or null when none was presented; a grant naming an agent matches only it. */
  agent?: string | null;
}

export interface ProposalOptions {
  defaultTtlSeconds: number;
  tenantId: string | null;
}

export { MAX_EXTEND_AHEAD_SECONDS, MAX_TTL_SECONDS } from './proposal-decisions.ts';
const EXPIRED_REASON = 'No decision before the proposal expired: denied by default';

/**
 * The human in the loop: agents propose, an operator approves or denies, the engine executes
 * an approval through exactly the path any external artifact takes. Proposals nobody decides
 * expire into a denial, with a receipt. Proposals are read through ProposalRecords and every
 * change is a witnessed write on the LedgerStore, its checks made inside the write's piece so
 * that the check and the change are one step, the engine's own callbacks (executeProposal)
 * included. Every change is published (ProposalPublisher): this instance's as it makes them,
 * and, on a ledger several instances share, the others' as their receipts arrive, so a
 * proposal made at one is listed, streamed and decidable at the other, and a decision taken at
 * either releases the holds waiting on it at both.
 */
export class ProposalService {
  readonly records: ProposalRecords;
  /** Events and waiters, for this instance's changes and (PostgreSQL) other instances'. */
  private readonly publisher: ProposalPublisher;
  /** Operators' approvals and grants' executions, one at a time per proposal. */
  private readonly approval: ProposalApproval;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly core: ProposalCore,
    events: EventHub,
    private readonly options: ProposalOptions,
  ) {
    this.records = core.proposalRecords;
    this.publisher = new ProposalPublisher(core, events);
    this.approval = new ProposalApproval({
      core,
      records: this.records,
      publisher: this.publisher,
      tenantId: options.tenantId,
      pendingOrRefuse: (id) => this.pendingOrRefuse(id),
    });
  }

  /** Expiry is checked on every read as well; the timer only makes it prompt when nobody asks. */
  async start(intervalMs = 500): Promise<void> {
    await settleEndedExecutions(this.core, this.records);
    await this.expireDue();
    this.sweeper = setInterval(() => this.sweep(), intervalMs);
    this.sweeper.unref();
  }

  /**
   * Pending proposals whose claimed execution has ended without them (closed as interrupted)
   * are closed as it ended, and published: what start() does. How many.
   */
  async settleEnded(): Promise<number> {
    const settled = await settleEndedExecutions(this.core, this.records);
    for (const row of settled) await this.publisher.changed(row);
    return settled.length;
  }

  /**
   * The executions a retired instance (receipt key `keyId`) left running, closed as
   * interrupted (Engine.closeInterruptedOf), and in the same write the proposals whose
   * approvals claimed them, each closing receipt naming its proposal; then those proposals are
   * published here, and other instances on the ledger publish them on hearing the receipts.
   */
  async closeOrphans(keyId: string): Promise<{ orphans: ClosedOrphans; settled: number }> {
    let settled: ProposalRow[] = [];
    const orphans = await this.core.engine.closeInterruptedOf(keyId, {
      claimed: (tx) => claimsWithin(this.records, tx),
      settle: async (tx) => {
        settled = await settleEndedWithin(this.core, this.records, tx);
      },
    });
    for (const row of settled) await this.publisher.changed(row);
    return { orphans, settled: settled.length };
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    this.publisher.close();
  }

  private sweep(): void {
    this.expireDue().catch((err: unknown) => {
      // Stopped while it ran (the core closing under it): there is nothing left to expire.
      if (this.sweeper === null) return;
      throw err;
    });
  }

  async propose(input: ProposeInput): Promise<{ created: boolean; proposal: ProposalRow }> {
    const requestHash = hashRequest(input.action, input.payload);
    const outcome = await this.core.ledgerStore.witness((tx) =>
      admitProposal(this.core, this.records.within(tx), tx, input, requestHash, this.options.defaultTtlSeconds),
    );
    if ('refused' in outcome) throw outcome.refused;
    if ('existing' in outcome) return { created: false, proposal: await this.fresh(outcome.existing) };
    const created = (await this.records.get(outcome.created))!;
    await this.changed(created);
    return { created: true, proposal: created };
  }

  /** The proposal as it stands now (an overdue one is expired first). */
  async get(id: string): Promise<ProposalRow | undefined> {
    const row = await this.records.get(id);
    return row ? this.fresh(row) : undefined;
  }

  async listPending(): Promise<ProposalRow[]> {
    await this.expireDue();
    return this.records.listPending();
  }

  /** Resolves the moment the proposal is decided, or after `timeoutMs` with it still pending. */
  async wait(id: string, timeoutMs: number): Promise<ProposalRow | undefined> {
    if (timeoutMs <= 0) return this.get(id);
    // Listening before the read: a decision committed while it runs still wakes this wait.
    const waiter = this.publisher.arm(id);
    try {
      const row = await this.get(id);
      if (!row || row.status !== 'pending') return row;
      // Never later than the proposal's own expiry, when it is decided by default.
      const untilExpiry = Date.parse(row.expires_at) - this.core.clock.now() + 5;
      await waiter.wait(Math.min(timeoutMs, untilExpiry));
      return await this.get(id);
    } finally {
      waiter.cancel();
    }
  }

  /**
   * Approves with the named operator's key (the first operator's by default); see
   * ProposalApproval for quorums and the execution that follows.
   */
  approve(id: string, operator: string = PRIMARY_OPERATOR): Promise<ProposalRow> {
    return this.approval.approve(id, operator);
  }

  /**
   * Proposes, and when a live grant covers the request, executes it under that grant at once
   * (no new decision). Every way in that proposes goes through here, so grants apply to all.
   */
  async submit(input: ProposeInput): Promise<{ created: boolean; proposal: ProposalRow }> {
    const result = await this.propose(input);
    const { proposal } = result;
    const request = { action: proposal.action, payload: payloadOf(proposal), agent: input.agent ?? null };
    if (!result.created || proposal.status !== 'pending' || !(await this.core.grants.covers(request))) return result;
    const after = await this.approval.executeGranted(proposal, input.agent ?? null);
    return after ? { created: true, proposal: after } : result;
  }

  /** Gives the operator more time to read (see extendedExpiry), witnessed by an `extended` receipt. */
  async extend(id: string, seconds: number): Promise<ProposalRow> {
    const row = await this.pendingOrRefuse(id);
    const expiresAt = extendedExpiry(row, seconds, this.core.clock.now());
    const extended = await witnessDecision(this.core.ledgerStore, async (tx) => {
      if (!(await this.records.within(tx).extend(id, row.expires_at, expiresAt))) throw new StaleDecision();
      await tx.append(extendedReceipt(row, expiresAt));
      return true;
    });
    if (!extended) throw new Refusal('conflict', `Proposal ${id} changed while it was being extended`);
    const after = (await this.records.get(id))!;
    await this.changed(after);
    return after;
  }

  async deny(id: string, reason: string): Promise<ProposalRow> {
    const row = await this.pendingOrRefuse(id);
    if (!(await this.close(row, 'denied', reason))) {
      // Decided or claimed first (here or at another instance): say so as a read would.
      await this.pendingOrRefuse(id);
      throw new Refusal('conflict', `Proposal ${id} changed while it was being denied`);
    }
    return (await this.records.get(id))!;
  }

  /** With no room to record an expiry, it is left for a later pass: reads and the sweeper go on. */
  async expireDue(): Promise<void> {
    try {
      for (const row of await this.records.dueForExpiry(isoUtc(this.core.clock.now()))) await this.close(row, 'expired', EXPIRED_REASON);
    } catch (err) {
      if (!isStorageFull(err)) throw err;
    }
  }

  /** False when someone else decided it first (nothing is written then). */
  private async close(row: ProposalRow, status: 'denied' | 'expired', reason: string): Promise<boolean> {
    const closed = await witnessDecision(this.core.ledgerStore, async (tx) => {
      const receipt = await tx.append(closedReceipt(row, status, reason));
      const decided = await this.records.within(tx).decide(row.id, {
        status,
        decidedAt: receipt.time,
        reason,
        result: null,
        execId: null,
        approvalId: null,
        receiptSeq: receipt.seq,
      });
      // Someone else decided first: leave no receipt claiming otherwise.
      if (!decided) throw new StaleDecision();
      return true;
    });
    if (closed) await this.changed((await this.records.get(row.id))!);
    return closed === true;
  }

  private async pendingOrRefuse(id: string): Promise<ProposalRow> {
    const row = await this.get(id);
    if (!row) throw new Refusal('not_found', `No proposal ${id}`);
    if (row.status === 'expired') throw new Refusal('expired', `Proposal ${id} has expired`);
    if (row.status !== 'pending') throw new Refusal('conflict', `Proposal ${id} is already ${row.status}`);
    if (row.exec_id !== null) throw new Refusal('conflict', `Proposal ${id} is being executed`);
    return row;
  }

  private async fresh(row: ProposalRow): Promise<ProposalRow> {
    if (row.status === 'pending' && row.exec_id === null && Date.parse(row.expires_at) <= this.core.clock.now()) {
      try {
        await this.close(row, 'expired', EXPIRED_REASON);
      } catch (err) {
        // The read still answers, with the row as stored; nothing can approve it past expiry.
        if (!isStorageFull(err)) throw err;
        return row;
      }
      return (await this.records.get(row.id))!;
    }
    return row;
  }

  /** A proposal for the console, with what its action will do rendered from its payload. */
  dto(row: ProposalRow): Promise<ProposalDto> {
    return this.publisher.dto(row);
  }

  private changed(row: ProposalRow): Promise<void> {
    return this.publisher.changed(row);
  }
}
