import { randomUUID } from 'node:crypto';
import type { OpenExecCore } from '../openexec-core.ts';
import type { EventHub } from '../events/event-hub.ts';
import type { JsonObject } from '../json/json-value.ts';
import { canonicalJson } from '../json/canonical.ts';
import { requestHash as hashRequest } from '../json/request-hash.ts';
import { isoUtc } from '../clock.ts';
import { Refusal } from '../errors.ts';
import { isStorageFull } from '../store/storage-full.ts';
import { mintOperatorApproval } from './operator-approval.ts';
import type { Ed25519Signer } from '../crypto/ed25519.ts';
import { PRIMARY_OPERATOR } from '../crypto/operator-keys.ts';
import { ProposalWaiters } from './proposal-waiters.ts';
import { QuorumView } from './quorum-view.ts';
import { payloadOf, proposalDto, type ProposalRow, type ProposalStore } from './proposal-store.ts';
import { approvedReceipt, closedReceipt, extendedReceipt, proposedReceipt, refusedProposalReceipt } from './proposal-receipts.ts';
import { extendedExpiry, settleEndedExecutions } from './proposal-decisions.ts';
import { executeProposal } from './proposal-execution.ts';
import { declaredRefusal } from '../engine/declared-checks.ts';
import { actionPreview } from '../actions/declared/action-preview.ts';
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
 * expire into a denial, with a receipt.
 */
export class ProposalService {
  readonly store: ProposalStore;
  private readonly waiters = new ProposalWaiters();
  private readonly approving = new Set<string>();
  private readonly quorum: QuorumView;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly core: OpenExecCore,
    private readonly events: EventHub,
    private readonly options: ProposalOptions,
  ) {
    this.store = core.proposalStore;
    this.quorum = new QuorumView(this.store, core.registry);
  }

  /** Expiry is checked on every read as well; the timer only makes it prompt when nobody asks. */
  start(intervalMs = 500): void {
    settleEndedExecutions(this.core, this.store);
    this.expireDue();
    this.sweeper = setInterval(() => this.expireDue(), intervalMs);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    this.waiters.wakeAll();
  }

  propose(input: ProposeInput): { created: boolean; proposal: ProposalRow } {
    const requestHash = hashRequest(input.action, input.payload);
    const existing = this.store.findByNonce(input.nonce);
    if (existing) {
      if (existing.request_hash !== requestHash) {
        this.refuse(input, requestHash, new Refusal('nonce_conflict', `Nonce '${input.nonce}' was already used for a different request`));
      }
      if (existing.agent !== (input.agent ?? null)) {
        this.refuse(input, requestHash, new Refusal('nonce_conflict', `Nonce '${input.nonce}' was already used by another agent`));
      }
      return { created: false, proposal: this.fresh(existing) };
    }
    const { allowList, registry } = this.core;
    if (!allowList.isAllowed(input.action)) {
      this.refuse(input, requestHash, new Refusal('not_allowed', `Action '${input.action}' is not in the execution allow-list`));
    }
    const action = registry.get(input.action);
    if (!action) this.refuse(input, requestHash, new Refusal('unknown_action', `Unknown action: ${input.action}`));
    const invalid = declaredRefusal(action, { ...input, artifact: null });
    if (invalid) this.refuse(input, requestHash, new Refusal(invalid.code, invalid.detail));
    const definitionHash = action.definitionHash ?? null;
    // Proposals and executions share one nonce space.
    const execution = this.core.executionStore.findByNonce(input.nonce);
    if (execution !== undefined) {
      this.refuse(
        input,
        requestHash,
        new Refusal('nonce_conflict', `Nonce '${input.nonce}' was already used by execution ${execution.id}`),
      );
    }
    const now = this.core.clock.now();
    const ttl = input.ttlSeconds ?? this.options.defaultTtlSeconds;
    const row = {
      id: randomUUID(),
      nonce: input.nonce,
      action: input.action,
      payload: canonicalJson(input.payload),
      request_hash: requestHash,
      context: input.context ?? null,
      created_at: isoUtc(now),
      expires_at: isoUtc(now + ttl * 1000),
      action_def_hash: definitionHash,
      agent: input.agent ?? null,
    };
    this.commit(() => {
      this.store.insert(row);
      this.core.ledger.append(proposedReceipt(row, input.payload));
    });
    const created = this.store.get(row.id)!;
    this.changed(created);
    return { created: true, proposal: created };
  }

  /** A proposal refused at once is an attempt like any other: witnessed, then answered. */
  private refuse(input: ProposeInput, requestHash: string, refusal: Refusal): never {
    const definitionHash = this.core.registry.get(input.action)?.definitionHash ?? null;
    this.commit(() => this.core.ledger.append(refusedProposalReceipt(input, requestHash, refusal, definitionHash)));
    throw refusal;
  }

  /** The proposal as it stands now (an overdue one is expired first). */
  get(id: string): ProposalRow | undefined {
    const row = this.store.get(id);
    return row ? this.fresh(row) : undefined;
  }

  listPending(): ProposalRow[] {
    this.expireDue();
    return this.store.listPending();
  }

  /** Resolves the moment the proposal is decided, or after `timeoutMs` with it still pending. */
  async wait(id: string, timeoutMs: number): Promise<ProposalRow | undefined> {
    const row = this.get(id);
    if (!row || row.status !== 'pending' || timeoutMs <= 0) return row;
    // Never later than the proposal's own expiry, when it is decided by default.
    const untilExpiry = Date.parse(row.expires_at) - this.core.clock.now() + 5;
    await this.waiters.until(id, Math.min(timeoutMs, untilExpiry));
    return this.get(id);
  }

  /**
   * Approves with the named operator's key (the first operator's by default). For an action
   * that needs a quorum, an approval short of it is recorded (an `approved` receipt) and the
   * proposal stays pending; the one that completes it executes. The same key twice counts once.
   */
  async approve(id: string, operator: string = PRIMARY_OPERATOR): Promise<ProposalRow> {
    const row = this.pendingOrRefuse(id);
    const signer = await this.core.operators.get(operator);
    if (!signer) throw new Refusal('not_found', `No operator '${operator}' (see openexec operators add)`);
    // A second click while the first approval is on its way must not sign a second artifact.
    if (this.approving.has(id)) throw new Refusal('conflict', `Proposal ${id} is already being approved`);
    this.approving.add(id);
    try {
      const quorum = this.core.registry.get(row.action)?.quorum ?? 1;
      const keys = this.store.approvalKeys(id);
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
    const approval = mintOperatorApproval(this.core, row.request_hash, this.options.tenantId, signer);
    const quorumDetails = quorum > 1 ? { operator, quorum: BigInt(quorum), approvals: BigInt(count) } : {};
    this.commit(() => {
      const receipt = this.core.ledger.append(approvedReceipt(row, approval, quorumDetails));
      if (quorum > 1) this.store.recordApproval(id, signer.keyId, operator, receipt.time, receipt.seq);
    });
    if (count < quorum) {
      // Short of the quorum: witnessed, and waiting for another operator's key.
      const waiting = this.store.get(id)!;
      this.changed(waiting);
      return waiting;
    }
    const outcome = await executeProposal(this.core, this.store, row, approval.artifact, null);
    const after = this.store.get(id)!;
    if (after.status === 'pending') {
      // Refused before anything was reserved (an internal error): nothing ran; say why.
      const detail = outcome.kind === 'refused' ? outcome.detail : 'not executed';
      throw new Refusal('handler_failed', `Proposal ${id} was not executed: ${detail}`);
    }
    if (after.approval_id !== approval.artifact.approval_id) {
      // Denied or expired between our approval and its execution: nothing ran.
      throw new Refusal('conflict', `Proposal ${id} was ${after.status} before it could execute`);
    }
    this.changed(after);
    return after;
  }

  /**
   * Proposes, and when a live grant covers the request, executes it under that grant at once
   * (no new decision). Every way in that proposes goes through here, so grants apply to all.
   */
  async submit(input: ProposeInput): Promise<{ created: boolean; proposal: ProposalRow }> {
    const result = this.propose(input);
    const { proposal } = result;
    const request = { action: proposal.action, payload: payloadOf(proposal), agent: input.agent ?? null };
    if (!result.created || proposal.status !== 'pending' || !this.core.grants.covers(request)) return result;
    if (this.approving.has(proposal.id)) return result;
    this.approving.add(proposal.id);
    try {
      await executeProposal(this.core, this.store, proposal, null, input.agent ?? null);
    } finally {
      this.approving.delete(proposal.id);
    }
    const after = this.store.get(proposal.id)!;
    this.changed(after);
    return { created: true, proposal: after };
  }

  /** Gives the operator more time to read (see extendedExpiry), witnessed by an `extended` receipt. */
  extend(id: string, seconds: number): ProposalRow {
    const row = this.pendingOrRefuse(id);
    const expiresAt = extendedExpiry(row, seconds, this.core.clock.now());
    let extended = false;
    this.commit(() => {
      extended = this.store.extend(id, row.expires_at, expiresAt);
      if (!extended) throw new StaleDecision();
      this.core.ledger.append(extendedReceipt(row, expiresAt));
    });
    if (!extended) throw new Refusal('conflict', `Proposal ${id} changed while it was being extended`);
    const after = this.store.get(id)!;
    this.changed(after);
    return after;
  }

  deny(id: string, reason: string): ProposalRow {
    const row = this.pendingOrRefuse(id);
    this.close(row, 'denied', reason);
    return this.store.get(id)!;
  }

  /** With no room to record an expiry, it is left for a later pass: reads and the sweeper go on. */
  expireDue(): void {
    try {
      for (const row of this.store.dueForExpiry(isoUtc(this.core.clock.now()))) this.close(row, 'expired', EXPIRED_REASON);
    } catch (err) {
      if (!isStorageFull(err)) throw err;
    }
  }

  private close(row: ProposalRow, status: 'denied' | 'expired', reason: string): void {
    let closed = false;
    this.commit(() => {
      const receipt = this.core.ledger.append(closedReceipt(row, status, reason));
      closed = this.store.decide(row.id, {
        status,
        decidedAt: receipt.time,
        reason,
        result: null,
        execId: null,
        approvalId: null,
        receiptSeq: receipt.seq,
      });
      // Someone else decided first: leave no receipt claiming otherwise.
      if (!closed) throw new StaleDecision();
    });
    if (closed) this.changed(this.store.get(row.id)!);
  }

  private pendingOrRefuse(id: string): ProposalRow {
    const row = this.get(id);
    if (!row) throw new Refusal('not_found', `No proposal ${id}`);
    if (row.status === 'expired') throw new Refusal('expired', `Proposal ${id} has expired`);
    if (row.status !== 'pending') throw new Refusal('conflict', `Proposal ${id} is already ${row.status}`);
    if (row.exec_id !== null) throw new Refusal('conflict', `Proposal ${id} is being executed`);
    return row;
  }

  private fresh(row: ProposalRow): ProposalRow {
    if (row.status === 'pending' && row.exec_id === null && Date.parse(row.expires_at) <= this.core.clock.now()) {
      try {
        this.close(row, 'expired', EXPIRED_REASON);
      } catch (err) {
        // The read still answers, with the row as stored; nothing can approve it past expiry.
        if (!isStorageFull(err)) throw err;
        return row;
      }
      return this.store.get(row.id)!;
    }
    return row;
  }

  /** One write transaction; a decision someone else made first leaves no trace. */
  private commit(work: () => void): void {
    try {
      this.core.ledger.witness(work);
    } catch (err) {
      if (err instanceof StaleDecision) return;
      throw err;
    }
  }

  /** A proposal for the console, with what its action will do rendered from its payload. */
  dto(row: ProposalRow): ProposalDto {
    // Retention took the payload: there is nothing to render what it would do from.
    if (row.purged_at !== null) return proposalDto(row);
    const quorum = this.quorum.of(row.id, row.action);
    return {
      ...proposalDto(row),
      ...(quorum ? { quorum } : {}),
      preview: actionPreview(
        this.core.registry.get(row.action),
        payloadOf(row),
        row.status === 'pending' ? row.action_def_hash : undefined,
      ),
    };
  }

  private changed(row: ProposalRow): void {
    this.events.emit({ type: 'proposal', proposal: this.dto(row) });
    if (row.status !== 'pending') this.waiters.wake(row.id);
  }
}

class StaleDecision extends Error {}
