import type { ActionHandler, ActionRegistry } from '../actions/action-registry.ts';
import { requestHash as hashRequest } from '../json/request-hash.ts';
import { isoUtc, type Clock } from '../clock.ts';
import type { ExecMode } from '../../../shared/console-dto.ts';
import type { ExecutionRecords } from '../store/execution-records.ts';
import type { LedgerStore, LedgerTransaction } from '../store/ledger-store.ts';
import type { AllowList } from './allow-list.ts';
import { deferred, type Deferred } from './deferred.ts';
import { isStorageFull, StorageFull } from '../store/storage-full.ts';
import type { EngineOptions, ExecuteOutcome, ExecuteRequest } from './execute-request.ts';
import { declaredRefusal } from './declared-checks.ts';
import { isPinnedTool } from '../actions/client-executed.ts';
import { SignaturePool } from '../crypto/signature-pool.ts';
import { executionId } from './execution-id.ts';
import { Authorisation } from './authorisation.ts';
import { closeOrphansOf, type ClosedOrphans, type OrphanProposals } from './close-orphans.ts';
import {
  closeInterrupted,
  endedElsewhere,
  endingOf,
  failure,
  finish,
  internalError,
  INTERRUPTED,
  refuse,
  replay,
  serialised,
  type Attempt,
  type HandlerEnding,
  type Reserved,
  type Trial,
  type Writes,
} from './outcomes.ts';

export type { EngineOptions, ExecuteOutcome, ExecuteRequest, ExecutionAnswer } from './execute-request.ts';

type Step =
  | { kind: 'final'; outcome: ExecuteOutcome }
  | { kind: 'reserved'; reserved: Reserved; run: ActionHandler }
  | { kind: 'wait'; running: Promise<unknown> };

const RAN_UNRECORDED =
  'Storage full: the action ran, but OpenExec could not record its outcome; it will be recorded as interrupted (outcome unknown) and never run again';

/**
 * The nonce or the approval was spent by another transaction after this one looked (which the
 * ledger's lock makes impossible on both engines): the decision rolls back and is taken again.
 */
class SpentMeanwhile extends Error {}

/**
 * Decides and performs executions in two committed steps, on any LedgerStore (SQLite or
 * PostgreSQL) with its execution records. First the decision: checks, and for a go the nonce
 * and the approval are spent in the same witnessed write (a `started` execution). Only then
 * does the handler run, outside any transaction; its ending and the receipt are committed
 * next. A crash in between can therefore never make an approval or a nonce usable again; at
 * the next start the execution is closed as interrupted, with a receipt (closeInterrupted).
 */
export class Engine {
  private readonly authorisation: Authorisation;
  private readonly signatures: SignaturePool;
  /** Nonces whose execution is reserved and not yet ended, in this process. */
  private readonly running = new Map<string, Deferred>();

  constructor(
    private readonly ledger: LedgerStore,
    private readonly executions: ExecutionRecords,
    private readonly registry: ActionRegistry,
    private readonly allowList: AllowList,
    private readonly clock: Clock,
    private readonly options: EngineOptions,
  ) {
    this.signatures = new SignaturePool(options.verifyThreads);
    this.authorisation = new Authorisation(options, this.signatures);
  }

  get mode(): ExecMode {
    return this.options.mode;
  }

  /**
   * Closes, each with a receipt, the executions this instance left `started` (its handlers were
   * running when it stopped): call it at start, before the first execution. Returns how many.
   */
  closeInterrupted(): Promise<number> {
    return this.ledger.witness(async (tx) => {
      const w = this.writes(tx);
      const rows = await w.records.listStarted();
      for (const row of rows) await closeInterrupted(w, row);
      return rows.length;
    });
  }

  /**
   * Closes, each with a receipt this instance signs, the executions another instance (receipt
   * key `keyId`) left `started` when it went away for good, under the operator's `config`
   * receipt that says so (close-orphans.ts), and with them, in the same write, the proposals
   * that claimed them (`proposals`). PostgreSQL only; the instance must be gone.
   */
  closeInterruptedOf(keyId: string, proposals: OrphanProposals | null = null): Promise<ClosedOrphans> {
    return this.ledger.witness((tx) => closeOrphansOf(this.writes(tx), keyId, proposals));
  }

  /** Stops the signature threads; executions after this verify on the calling thread. */
  close(): void {
    void this.signatures.close();
  }

  private writes(tx: LedgerTransaction): Writes {
    return { tx, records: this.executions.within(tx) };
  }

  async execute(request: ExecuteRequest): Promise<ExecuteOutcome> {
    const requestHash = hashRequest(request.action, request.payload);
    // Signature checks are pure and the costliest step: they run on other threads, before the
    // write transaction in which the approval is then checked unused and spent.
    const approval = await this.authorisation.check(request, requestHash, this.clock.now());
    const definitionHash = this.registry.get(request.action)?.definitionHash ?? null;
    const attempt: Attempt = { request, requestHash, approval, definitionHash };
    for (;;) {
      const trial: Trial = { abandoned: false };
      let step: Step;
      try {
        step = await this.ledger.witness((tx) => this.decide(tx, attempt, trial));
      } catch (err) {
        // The decision was rolled back: a reservation it made (in this process's map) goes too.
        trial.abandoned = true;
        if (trial.ended) this.release(request.nonce, trial.ended);
        if (err instanceof SpentMeanwhile) continue;
        // The decision's own failure is witnessed as an internal error; with no room left, or
        // when the group transaction itself failed, nothing can be.
        if (trial.failed !== err || isStorageFull(err)) throw err;
        return this.ledger.witness((tx) => internalError(tx, attempt, err));
      }
      if (step.kind === 'final') return step.outcome;
      if (step.kind === 'reserved') return this.perform(attempt, step.reserved, step.run);
      // The same nonce is running right now: answer as a replay once it has ended.
      await step.running;
    }
  }

  private async decide(tx: LedgerTransaction, attempt: Attempt, trial: Trial): Promise<Step> {
    try {
      return await this.decision(tx, attempt, trial);
    } catch (err) {
      if (!(err instanceof SpentMeanwhile)) trial.failed = err;
      throw err;
    }
  }

  private async decision(tx: LedgerTransaction, attempt: Attempt, trial: Trial): Promise<Step> {
    const { request } = attempt;
    const w = this.writes(tx);
    /** After each callback the caller gave: a decision given up meanwhile goes no further. */
    const live = <T>(value: T): T => {
      if (trial.abandoned) throw new Error('this decision was given up: its witnessed write has rolled back');
      return value;
    };
    const final = async (outcome: ExecuteOutcome): Promise<Step> => {
      await request.within?.(outcome, tx);
      return { kind: 'final', outcome };
    };
    const deny = async (code: Parameters<typeof refuse>[2], detail: string, reason?: string) =>
      final(await refuse(tx, attempt, code, detail, reason));
    // An MCP tool's definition is the one pinned now, as this transaction reads it.
    if (isPinnedTool(request.action)) attempt.definitionHash = live(await this.options.pinnedHash?.(request.action, tx)) ?? null;
    const blocked = live(await request.precondition?.(tx)) ?? null;
    if (blocked !== null) return deny('conflict', blocked);
    let previous = await w.records.findByNonce(request.nonce);
    if (previous) {
      if (previous.request_hash !== attempt.requestHash) {
        return deny('nonce_conflict', `Nonce '${request.nonce}' was already used for a different request`);
      }
      // A result goes back only to the agent whose request produced it.
      if (previous.agent !== (request.agent ?? null)) {
        return deny('nonce_conflict', `Nonce '${request.nonce}' was already used by another agent`);
      }
      if (previous.status === 'started') {
        const running = this.running.get(request.nonce);
        if (running) return { kind: 'wait', running: running.promise };
        // Another instance on the same ledger is running it (or stopped; it closes its own when
        // it starts again): whether it ran is not known yet.
        if (!previous.here) return deny('conflict', `Nonce '${request.nonce}' is being executed by another OpenExec instance`);
        await closeInterrupted(w, previous);
        previous = (await w.records.get(previous.id))!;
      }
      return final(await replay(w, attempt, previous));
    }
    const holder = live(await this.options.nonceHeldByProposal?.(request.nonce, tx)) ?? null;
    if (holder !== null && holder !== request.proposalId) {
      return deny('nonce_conflict', `Nonce '${request.nonce}' belongs to proposal ${holder}`);
    }
    if (!live(await this.allowList.allowsWithin(request.action, tx))) {
      return deny('not_allowed', `Action '${request.action}' is not in the execution allow-list`);
    }
    const handler = this.registry.get(request.action);
    if (!handler) return deny('unknown_action', `Unknown action: ${request.action}`);
    const declared = declaredRefusal(handler, request, attempt.definitionHash);
    if (declared) return deny(declared.code, declared.detail);

    const quorum = live(await this.authorisation.quorumShortfall(request, handler.quorum ?? 1, attempt.approval, tx));
    if (quorum !== null) return deny('approval_required', quorum);
    const authority = live(await this.authorisation.dispatch(request, attempt.approval, w.records, tx));
    if ('code' in authority) return deny(authority.code, authority.detail, authority.reason);
    const { approval, grant } = authority;

    const at = this.clock.now();
    const execId = executionId(at);
    const now = isoUtc(at);
    const reservedNow = await tx.reserveNonce({
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
    if (!reservedNow) throw new SpentMeanwhile();
    if (approval && (await tx.spendApproval({ approval, action: request.action, verifiedAt: now, execId })) !== null) {
      throw new SpentMeanwhile();
    }
    live(await request.claim?.(execId, approval?.approvalId ?? null, tx));
    const ended = deferred();
    const reserved = { execId, approval, grant, ended };
    if (handler.kind === 'pure') {
      // Decided, computed and witnessed in this one savepoint: all of it commits, or none.
      const ending = endingOf(request, () => handler.run(request.payload));
      return { kind: 'final', outcome: await finish(w, attempt, reserved, ending) };
    }
    // Nothing awaits from the check in `live` above to here.
    this.running.set(request.nonce, ended);
    trial.ended = ended;
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
        return await this.ledger.witness((tx) => finish(this.writes(tx), attempt, reserved, ending));
      } catch (err) {
        // The handler did run: saying "nothing was executed" here would be a lie.
        if (isStorageFull(err)) throw new StorageFull(RAN_UNRECORDED);
        try {
          return await this.ledger.witness(async (tx) => {
            const w = this.writes(tx);
            const row = (await w.records.get(reserved.execId))!;
            // Closed meanwhile at another instance, whose operator retired this one's key: the
            // ledger already says how it ended, and that is the answer.
            if (row.status !== 'started') return endedElsewhere(row);
            return closeInterrupted(w, row, `${INTERRUPTED} (${String(err)})`);
          });
        } catch (recoverErr) {
          if (isStorageFull(recoverErr)) throw new StorageFull(RAN_UNRECORDED);
          throw recoverErr;
        }
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
