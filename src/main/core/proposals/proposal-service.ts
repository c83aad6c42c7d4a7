import type { ProposalCore } from './proposal-core.ts';
import type { EventHub } from '../events/event-hub.ts';
import type { JsonObject } from '../json/json-value.ts';
import { requestHash as hashRequest } from '../json/request-hash.ts';
import { isoUtc } from '../clock.ts';
import { Refusal } from '../errors.ts';
import { isStorageFull } from '../store/storage-full.ts';
import { mintOperatorApproval } from './operator-approval.ts';
import type { Ed25519Signer } from '../crypto/ed25519.ts';
import { PRIMARY_OPERATOR } from '../crypto/operator-keys.ts';
import { ProposalPublisher } from './proposal-publisher.ts';
import { payloadOf, type ProposalRow } from './proposal-store.ts';
import type { ProposalRecords } from '../store/proposal-records.ts';
import type { LedgerTransaction } from '../store/ledger-store.ts';
import { approvedReceipt, closedReceipt, extendedReceipt } from './proposal-receipts.ts';
import { admitProposal } from './proposal-intake.ts';
import { extendedExpiry, settleEndedExecutions } from './proposal-decisions.ts';
import { executeProposal } from './proposal-execution.ts';
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
  private readonly approving = new Set<string>();
  /** Events and waiters, for this instance's changes and (PostgreSQL) other instances'. */
  private readonly publisher: ProposalPublisher;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly core: ProposalCore,
    events: EventHub,
    private readonly options: ProposalOptions,
  ) {
    this.records = core.proposalRecords;
    this.publisher = new ProposalPublisher(core, events);
  }

  /** Expiry is checked on every read as well; the timer only makes it prompt when nobody asks. */
  async start(intervalMs = 500): Promise<void> {
    await settleEndedExecutions(this.core, this.records);
    await this.expireDue();
    this.sweeper = setInterval(() => this.sweep(), intervalMs);
    this.sweeper.unref();
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
   * Approves with the named operator's key (the first operator's by default). For an action
   * that needs a quorum, an approval short of it is recorded (an `approved` receipt) and the
   * proposal stays pending; the one that completes it executes. The same key twice counts once.
   */
  async approve(id: string, operator: string = PRIMARY_OPERATOR): Promise<ProposalRow> {
    const row = await this.pendingOrRefuse(id);
    const signer = await this.core.operators.get(operator);
    if (!signer) throw new Refusal('not_found', `No operator '${operator}' (see openexec operators add)`);
    // A second click while the first approval is on its way must not sign a second artifact.
    if (this.approving.has(id)) throw new Refusal('conflict', `Proposal ${id} is already being approved`);
    this.approving.add(id);
    try {
      const quorum = this.core.registry.get(row.action)?.quorum ?? 1;
      const keys = await this.records.approvalKeys(id);
      if (keys.includes(signer.keyId)) {
        throw new Refusal(
          'conflict',
          `Proposal ${id} is already approved by operator key ${signer.keyId}; it needs ${quorum} distinct operator keys`,
        );
      }
      return await this.approvePending(row, operator, signer, quorum, keys.length + 1);
    } finally {
      this.approving.delete(id);
    }
  }

  private async approvePending(
    row: ProposalRow,
    operator: string,
    signer: Ed25519Signer,
    quorum: number,
    count: number,
  ): Promise<ProposalRow> {
    const id = row.id;
    const approval = mintOperatorApproval({ clock: this.core.clock, operatorSigner: signer }, row.request_hash, this.options.tenantId);
    const quorumDetails = quorum > 1 ? { operator, quorum: BigInt(quorum), approvals: BigInt(count) } : {};
    const recorded = await this.commit(async (tx) => {
      // Checked again where the approval is written: a decision taken meanwhile (here or at
      // another instance) must not be followed by an `approved` receipt it never had.
      const now = await this.records.within(tx).get(id);
      if (now?.status !== 'pending' || now.exec_id !== null || Date.parse(now.expires_at) <= this.core.clock.now()) {
        throw new StaleDecision();
      }
      const receipt = await tx.append(approvedReceipt(row, approval, quorumDetails));
      if (quorum > 1) await this.records.within(tx).recordApproval(id, signer.keyId, operator, receipt.time, receipt.seq);
      return true;
    });
    if (recorded !== true) {
      await this.pendingOrRefuse(id);
      throw new Refusal('conflict', `Proposal ${id} changed while it was being approved`);
    }
    if (count < quorum) {
      // Short of the quorum: witnessed, and waiting for another operator's key.
      const waiting = (await this.records.get(id))!;
      await this.changed(waiting);
      return waiting;
    }
    const outcome = await executeProposal(this.core, this.records, row, approval.artifact, null);
    const after = (await this.records.get(id))!;
    if (after.status === 'pending') {
      // Another instance is running it (its own approval): that one decides.
      if (outcome.kind === 'refused' && outcome.code === 'conflict') {
        throw new Refusal('conflict', `Proposal ${id} was not executed here: ${outcome.detail}`);
      }
      // Refused before anything was reserved (an internal error): nothing ran; say why.
      const detail = outcome.kind === 'refused' ? outcome.detail : 'not executed';
      throw new Refusal('handler_failed', `Proposal ${id} was not executed: ${detail}`);
    }
    if (after.approval_id !== approval.artifact.approval_id) {
      // Denied or expired between our approval and its execution: nothing ran.
      throw new Refusal('conflict', `Proposal ${id} was ${after.status} before it could execute`);
    }
    await this.changed(after);
    return after;
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
    if (this.approving.has(proposal.id)) return result;
    this.approving.add(proposal.id);
    try {
      await executeProposal(this.core, this.records, proposal, null, input.agent ?? null);
    } finally {
      this.approving.delete(proposal.id);
    }
    const after = (await this.records.get(proposal.id))!;
    await this.changed(after);
    return { created: true, proposal: after };
  }

  /** Gives the operator more time to read (see extendedExpiry), witnessed by an `extended` receipt. */
  async extend(id: string, seconds: number): Promise<ProposalRow> {
    const row = await this.pendingOrRefuse(id);
    const expiresAt = extendedExpiry(row, seconds, this.core.clock.now());
    const extended = await this.commit(async (tx) => {
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
    const closed = await this.commit(async (tx) => {
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

  /** One witnessed write; a decision someone else made first leaves no trace (undefined). */
  private async commit<T>(work: (tx: LedgerTransaction) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.core.ledgerStore.witness(work);
    } catch (err) {
      if (err instanceof StaleDecision) return undefined;
      throw err;
    }
  }

  /** A proposal for the console, with what its action will do rendered from its payload. */
  dto(row: ProposalRow): Promise<ProposalDto> {
    return this.publisher.dto(row);
  }

  private changed(row: ProposalRow): Promise<void> {
    return this.publisher.changed(row);
  }
}

class StaleDecision extends Error {}
