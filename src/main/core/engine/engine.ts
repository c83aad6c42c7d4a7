import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from '../store/database.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { ActionHandler, ActionRegistry } from '../actions/action-registry.ts';
import { requestHash as hashRequest } from '../json/request-hash.ts';
import { isoUtc, type Clock } from '../clock.ts';
import type { ExecMode } from '../../../shared/console-dto.ts';
import type { AllowList } from './allow-list.ts';
import { ExecutionStore } from './execution-store.ts';
import { GroupCommit } from './group-commit.ts';
import { deferred, type Deferred } from './deferred.ts';
import { isStorageFull, StorageFull } from '../store/storage-full.ts';
import type { EngineOptions, ExecuteOutcome, ExecuteRequest } from './execute-request.ts';
import { declaredRefusal } from './declared-checks.ts';
import { SignaturePool } from '../crypto/signature-pool.ts';
import { WalCheckpointer } from '../store/wal-checkpointer.ts';
import { Authorisation } from './authorisation.ts';
import { endingOf, failure, INTERRUPTED, Outcomes, serialised, type Attempt, type HandlerEnding, type Reserved } from './outcomes.ts';

export type { EngineOptions, ExecuteOutcome, ExecuteRequest, ExecutionAnswer } from './execute-request.ts';

type Step =
  | { kind: 'final'; outcome: ExecuteOutcome }
  | { kind: 'reserved'; reserved: Reserved; run: ActionHandler }
  | { kind: 'wait'; running: Promise<unknown> };

const RAN_UNRECORDED =
  'Storage full: the action ran, but OpenExec could not record its outcome; it will be recorded as interrupted (outcome unknown) and never run again';

/**
 * Decides and performs executions in two committed steps. First the decision: checks, and
 * for a go the nonce and the approval are spent in the same transaction (a `started`
 * execution). Only then does the handler run, outside any transaction; its ending and the
 * receipt are committed next. A crash in between can therefore never make an approval or a
 * nonce usable again; at the next start the execution is closed as interrupted, with a receipt.
 */
export class Engine {
  private readonly store: ExecutionStore;
  private readonly commits: GroupCommit;
  private readonly outcomes: Outcomes;
  private readonly authorisation: Authorisation;
  private readonly signatures: SignaturePool;
  private readonly checkpointer: WalCheckpointer;
  /** Nonces whose execution is reserved and not yet ended, in this process. */
  private readonly running = new Map<string, Deferred>();

  constructor(
    db: SqliteDatabase,
    ledger: Ledger,
    private readonly registry: ActionRegistry,
    private readonly allowList: AllowList,
    private readonly clock: Clock,
    private readonly options: EngineOptions,
  ) {
    this.store = new ExecutionStore(db);
    this.commits = new GroupCommit(db, ledger);
    this.outcomes = new Outcomes(ledger, this.store);
    this.signatures = new SignaturePool(options.verifyThreads);
    this.checkpointer = new WalCheckpointer(db);
    this.authorisation = new Authorisation(options, this.signatures);
    ledger.witness(() => {
      for (const row of this.store.listStarted()) this.outcomes.closeInterrupted(row);
    });
  }

  get mode(): ExecMode {
    return this.options.mode;
  }

  /**
   * Stops the threads beside the event loop (signatures, WAL checkpoints); executions after
   * this verify on the calling thread, and commits checkpoint for themselves.
   */
  close(): void {
    this.checkpointer.close();
    void this.signatures.close();
  }

  async execute(request: ExecuteRequest): Promise<ExecuteOutcome> {
    const requestHash = hashRequest(request.action, request.payload);
    // Signature checks are pure and the costliest step: they run on other threads, before the
    // write transaction in which the approval is then checked unused and spent.
    const approval = await this.authorisation.check(request, requestHash, this.clock.now());
    const definitionHash = this.registry.get(request.action)?.definitionHash ?? null;
    const attempt: Attempt = { request, requestHash, approval, definitionHash };
    for (;;) {
      let step: Step;
      try {
        step = await this.commits.submit(
          () => this.decide(attempt),
          (err): Step => ({ kind: 'final', outcome: this.outcomes.internalError(attempt, err) }),
        );
      } catch (err) {
        // The group transaction failed: a reservation this attempt made in it was rolled back.
        if (attempt.ended) this.release(request.nonce, attempt.ended);
        throw err;
      }
      if (step.kind === 'final') return step.outcome;
      if (step.kind === 'reserved') return this.perform(attempt, step.reserved, step.run);
      // The same nonce is running right now: answer as a replay once it has ended.
      await step.running;
    }
  }

  private decide(attempt: Attempt): Step {
    const { request } = attempt;
    const final = (outcome: ExecuteOutcome): Step => {
      request.within?.(outcome);
      return { kind: 'final', outcome };
    };
    const refuse = (code: Parameters<Outcomes['refuse']>[1], detail: string, reason?: string) =>
      final(this.outcomes.refuse(attempt, code, detail, reason));
    const blocked = request.precondition?.() ?? null;
    if (blocked !== null) return refuse('conflict', blocked);
    let previous = this.store.findByNonce(request.nonce);
    if (previous) {
      if (previous.request_hash !== attempt.requestHash) {
        return refuse('nonce_conflict', `Nonce '${request.nonce}' was already used for a different request`);
      }
      // A result goes back only to the agent whose request produced it.
      if (previous.agent !== (request.agent ?? null)) {
        return refuse('nonce_conflict', `Nonce '${request.nonce}' was already used by another agent`);
      }
      if (previous.status === 'started') {
        const running = this.running.get(request.nonce);
        if (running) return { kind: 'wait', running: running.promise };
        this.outcomes.closeInterrupted(previous);
        previous = this.store.get(previous.id)!;
      }
      return final(this.outcomes.replay(attempt, previous));
    }
    const holder = this.options.nonceHeldByProposal?.(request.nonce) ?? null;
    if (holder !== null && holder !== request.proposalId) {
      return refuse('nonce_conflict', `Nonce '${request.nonce}' belongs to proposal ${holder}`);
    }
    if (!this.allowList.isAllowed(request.action)) {
      return refuse('not_allowed', `Action '${request.action}' is not in the execution allow-list`);
    }
    const handler = this.registry.get(request.action);
    if (!handler) return refuse('unknown_action', `Unknown action: ${request.action}`);
    const declared = declaredRefusal(handler, request);
    if (declared) return refuse(declared.code, declared.detail);

    const quorum = this.authorisation.quorumShortfall(request, handler.quorum ?? 1, attempt.approval);
    if (quorum !== null) return refuse('approval_required', quorum);
    const authority = this.authorisation.dispatch(request, attempt.approval, this.store);
    if ('code' in authority) return refuse(authority.code, authority.detail, authority.reason);
    const { approval, grant } = authority;

    const execId = randomUUID();
    const now = isoUtc(this.clock.now());
    this.store.reserve({
      id: execId,
      nonce: request.nonce,
      request_hash: attempt.requestHash,
      action: request.action,
      approval_id: approval?.approvalId ?? null,
      created_at: now,
      agent: request.agent ?? null,
      action_def_hash: attempt.definitionHash,
      grant_id: grant?.grantId ?? null,
      grant_use: grant?.use ?? null,
    });
    if (approval) this.store.spendApproval(approval, request.action, now, execId);
    request.claim?.(execId, approval?.approvalId ?? null);
    const ended = deferred();
    const reserved = { execId, approval, grant, ended };
    if (handler.kind === 'pure') {
      // Decided, computed and witnessed in this one savepoint: all of it commits, or none.
      const ending = endingOf(request, () => handler.run(request.payload));
      return { kind: 'final', outcome: this.outcomes.finish(attempt, reserved, ending) };
    }
    this.running.set(request.nonce, ended);
    attempt.ended = ended;
    return { kind: 'reserved', reserved, run: handler.run };
  }

  /** Runs the handler (the nonce and approval are already spent), then records how it ended. */
  private async perform(attempt: Attempt, reserved: Reserved, run: ActionHandler): Promise<ExecuteOutcome> {
    try {
      let ending: HandlerEnding;
      try {
        ending = serialised(await run(attempt.request.payload));
      } catch (err) {
        ending = failure(attempt.request, err);
      }
      try {
        return await this.commits.submit(
          () => this.outcomes.finish(attempt, reserved, ending),
          (err) => this.outcomes.closeInterrupted(this.store.get(reserved.execId)!, `${INTERRUPTED} (${String(err)})`),
        );
      } catch (err) {
        // The handler did run: saying "nothing was executed" here would be a lie.
        if (isStorageFull(err)) throw new StorageFull(RAN_UNRECORDED);
        throw err;
      }
    } finally {
      this.release(attempt.request.nonce, reserved.ended);
    }
  }

  private release(nonce: string, ended: Deferred): void {
    if (this.running.get(nonce) === ended) this.running.delete(nonce);
    ended.settle();
  }
}
