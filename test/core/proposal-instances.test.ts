/**
 * Several consoles, one ledger: two OpenExec instances on one PostgreSQL database (each its own
 * pools, receipt key, operator key, event hub and ProposalService, its ledger store opened with
 * `follow`) see each other's proposals as they change. A proposal made at one is pending at the
 * other and published on its event hub, read back as stored; a decision at either wakes the
 * other's long-polls; two decisions at once leave one standing and refuse the other. Each
 * instance publishes each change once, its own or another's. On SQLite (one writer) the
 * service publishes its own changes once, as before. Real SQLite file, real throwaway cluster.
 */
import { describe, expect } from 'vitest';
import { clientExecutedAction } from '../../src/main/core/actions/client-executed.ts';
import type { ActionDefinition, ActionHandler } from '../../src/main/core/actions/action-registry.ts';
import { ToolPins } from '../../src/main/core/actions/tool-pins.ts';
import { OperatorRegistry } from '../../src/main/core/approval/operator-registry.ts';
import { systemClock } from '../../src/main/core/clock.ts';
import { Ed25519Signer, Ed25519Verifier } from '../../src/main/core/crypto/ed25519.ts';
import { recordCallbacks } from '../../src/main/core/engine/record-callbacks.ts';
import { Refusal } from '../../src/main/core/errors.ts';
import { EventHub } from '../../src/main/core/events/event-hub.ts';
import { GrantAuthority } from '../../src/main/core/grants/grant-authority.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import { recordClientReport } from '../../src/main/core/proposals/client-report.ts';
import type { ProposalCore } from '../../src/main/core/proposals/proposal-core.ts';
import { ProposalService } from '../../src/main/core/proposals/proposal-service.ts';
import { ProposalFollower } from '../../src/main/core/proposals/proposal-follower.ts';
import type { ProposalDto } from '../../src/shared/console-dto.ts';
import { TestApprover } from '../support/clawshield.ts';
import { engineSetups, useEngines, type EngineDatabase, type EngineInstance } from '../support/engine-instances.ts';
import { retiredReason } from '../../src/main/core/engine/close-orphans.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../support/harness.ts';

const approver = new TestApprover();
const CLIENT_TOOL = 'claude-code:Bash';
const payload = (text: string) => parseJson(text) as JsonObject;

/** One instance as the app has it: its engine and stores, an operator key, a hub and the service. */
interface Console {
  at: EngineInstance;
  /** The key id of this instance's operator. */
  keyId: string;
  core: ProposalCore;
  proposals: ProposalService;
  heard: Heard;
}

/** The proposal events a hub emitted, in order, and a way to await the next one that matches. */
class Heard {
  readonly events: ProposalDto[] = [];
  private readonly waiting: { which: (p: ProposalDto) => boolean; resolve: (p: ProposalDto) => void }[] = [];

  constructor(hub: EventHub) {
    hub.subscribe((event) => {
      if (event.type !== 'proposal') return;
      this.events.push(event.proposal);
      for (const w of [...this.waiting]) {
        if (!w.which(event.proposal)) continue;
        this.waiting.splice(this.waiting.indexOf(w), 1);
        w.resolve(event.proposal);
      }
    });
  }

  /** The first event so far, or the next one, for proposal `id` with `status` (and `where`). */
  next(id: string, status: ProposalDto['status'], where: (p: ProposalDto) => boolean = () => true): Promise<ProposalDto> {
    const which = (p: ProposalDto) => p.id === id && p.status === status && where(p);
    const seen = this.events.find(which);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiting.push({ which, resolve }));
  }

  /** The statuses published for `id`, in order. */
  of(id: string): string[] {
    return this.events.filter((p) => p.id === id).map((p) => p.status);
  }
}

/** Handlers that count their runs, and the client-executed tool an agent's own client runs. */
function actions(): { runs: string[]; actions: Record<string, ActionDefinition | ActionHandler> } {
  const runs: string[] = [];
  const pay: ActionHandler = (p) => (runs.push('pay'), p);
  return {
    runs,
    actions: { pay, wire: { kind: 'effects', run: pay, quorum: 2 }, [CLIENT_TOOL]: clientExecutedAction(CLIENT_TOOL)! },
  };
}

/** An instance on `db` with the operator keys `trusted` (each instance's) as approvers. */
async function openConsole(
  db: EngineDatabase,
  acts: Record<string, ActionDefinition | ActionHandler>,
  operator: Ed25519Signer,
  trusted: Ed25519Signer[],
  follow: { onError?: (err: unknown) => void } = {},
): Promise<Console> {
  const approvers = trusted.map((k) => ({ kind: 'operator' as const, verifier: new Ed25519Verifier(k.publicKey) }));
  const at = await db.instance(acts, undefined, {
    approvalPolicy: { approvers, tenantId: null, clockSkewMs: 0 },
    wired: (r) => recordCallbacks(r.proposals, r.toolPins),
    follow,
  });
  const core: ProposalCore = {
    ledgerStore: at.ledger,
    proposalRecords: at.records.proposals,
    executionRecords: at.executions,
    registry: at.registry,
    allowList: at.allowList,
    toolPins: new ToolPins(at.records.toolPins, at.ledger, systemClock),
    operators: new OperatorRegistry(tempDir('openexec-operators-'), operator, at.ledger),
    grants: new GrantAuthority(at.records.grants, () => null, systemClock, 'boot-1'),
    engine: at.engine,
    clock: systemClock,
  };
  const hub = new EventHub();
  const heard = new Heard(hub);
  const proposals = new ProposalService(core, hub, { defaultTtlSeconds: 600, tenantId: null });
  await proposals.start(60_000);
  return { at, keyId: operator.keyId, core, proposals, heard };
}

describe.each(engineSetups('proposal_instances'))('proposals on $name', (setup) => {
  const { fresh, it } = useEngines(setup, approver);

  it("an instance publishes each of its own changes once, and none of another's twice", async () => {
    const db = await fresh();
    const { actions: acts } = actions();
    const [keyA, keyB] = [Ed25519Signer.generate(), Ed25519Signer.generate()];
    const a = await openConsole(db, acts, keyA, [keyA, keyB]);
    const others = setup.keyPerInstance ? [await openConsole(db, acts, keyB, [keyA, keyB])] : [];
    try {
      const p = (await a.proposals.propose({ action: 'pay', payload: payload('{"amount":1}'), nonce: 'once-1' })).proposal;
      await a.proposals.deny(p.id, 'not today');
      // A last change, heard everywhere after the two before it (receipts arrive in seq order).
      const q = (await a.proposals.propose({ action: 'pay', payload: payload('{"amount":2}'), nonce: 'once-2' })).proposal;
      for (const c of [a, ...others]) await c.heard.next(q.id, 'pending');
      expect(a.heard.of(p.id)).toEqual(['pending', 'denied']);
      expect(a.heard.of(q.id)).toEqual(['pending']);
      for (const c of others) {
        // Another instance reads each proposal when its receipt arrives: a read that starts
        // after the denial committed finds it denied, and the denial is then published once.
        expect([['pending', 'denied'], ['denied']]).toContainEqual(c.heard.of(p.id));
        expect(c.heard.of(q.id)).toEqual(['pending']);
      }
    } finally {
      for (const c of [a, ...others]) c.proposals.stop();
    }
  });

  it('two decisions at once (at both instances, or twice at one on SQLite): one stands, the other is a conflict', async () => {
    const db = await fresh();
    const { runs, actions: acts } = actions();
    const [keyA, keyB] = [Ed25519Signer.generate(), Ed25519Signer.generate()];
    const a = await openConsole(db, acts, keyA, [keyA, keyB]);
    const b = setup.keyPerInstance ? await openConsole(db, acts, keyB, [keyA, keyB]) : a;
    const pairs = [
      ['approve', 'deny'],
      ['deny', 'approve'],
      ['approve', 'approve'],
      ['deny', 'deny'],
    ] as const;
    try {
      let executions = 0;
      for (let round = 0; round < 12; round++) {
        const [atA, atB] = pairs[round % pairs.length]!;
        const { proposal } = await a.proposals.propose({ action: 'pay', payload: payload(`{"round":${round}}`), nonce: `both-${round}` });
        const decide = (c: Console, how: 'approve' | 'deny') =>
          how === 'approve' ? c.proposals.approve(proposal.id) : c.proposals.deny(proposal.id, `denied in round ${round}`);
        const outcomes = await Promise.allSettled([decide(a, atA), decide(b, atB)]);
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o) => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        const refusal = (lost[0] as PromiseRejectedResult).reason as unknown;
        expect(refusal).toBeInstanceOf(Refusal);
        expect(refusal).toMatchObject({ code: 'conflict' });
        const winner = (won[0] as PromiseFulfilledResult<{ status: string }>).value;
        const stored = (await a.proposals.get(proposal.id))!;
        expect(stored.status).toBe(winner.status);
        expect(['executed', 'denied']).toContain(stored.status);
        if (stored.status === 'executed') executions++;
      }
      expect(runs).toHaveLength(executions);
      // One receipt claims each decision, the one that stood; an approval that loses to another
      // approval leaves its `approved` receipt and the engine's refusal, never a second decision.
      const receipts = await a.at.ledger.readRange(1, 10_000);
      for (const p of await Promise.all(Array.from({ length: 12 }, (_, i) => a.at.records.proposals.findByNonce(`both-${i}`)))) {
        const decisions = receipts.filter((r) => r.proposalId === p!.id && (r.event === 'executed' || r.event === 'denied'));
        expect(decisions.map((r) => r.event)).toEqual([p!.status]);
        expect(decisions[0]!.seq).toBe(p!.receipt_seq);
        // Nor is a proposal approved after it was denied: the approval rechecks where it is written.
        const approvedAfter = receipts.filter((r) => r.proposalId === p!.id && r.event === 'approved' && r.seq > p!.receipt_seq!);
        if (p!.status === 'denied') expect(approvedAfter).toEqual([]);
      }
    } finally {
      for (const c of new Set([a, b])) c.proposals.stop();
    }
  });
});

describe.each(engineSetups('proposal_instances_pg').filter((s) => s.keyPerInstance))('two consoles, one ledger, on $name', (setup) => {
  const { fresh, it } = useEngines(setup, approver);

  async function two(db: EngineDatabase, acts: Record<string, ActionDefinition | ActionHandler>, follow = {}) {
    const [keyA, keyB] = [Ed25519Signer.generate(), Ed25519Signer.generate()];
    const a = await openConsole(db, acts, keyA, [keyA, keyB], follow);
    const b = await openConsole(db, acts, keyB, [keyA, keyB], follow);
    return { a, b, stop: () => [a, b].forEach((c) => c.proposals.stop()) };
  }

  it('a decision B reads before its own receipt arrives is published once, not again for that receipt', async () => {
    const db = await fresh();
    const { a, b, stop } = await two(db, actions().actions);
    // B's follower, its reads held until both of A's receipts have reached B: the read for the
    // `proposed` receipt then finds the proposal already denied.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const published: string[] = [];
    const follower = new ProposalFollower(b.at.ledger, {
      read: async (id) => {
        await held;
        return b.at.records.proposals.get(id);
      },
      publish: async (row) => void published.push(row.status),
    });
    let sawDenial: () => void = () => undefined;
    const denialHeard = new Promise<void>((resolve) => (sawDenial = resolve));
    const unsubscribe = b.at.ledger.subscribe((receipts) => receipts.some((r) => r.event === 'denied') && sawDenial());
    try {
      const { proposal } = await a.proposals.propose({ action: 'pay', payload: payload('{"amount":4}'), nonce: 'late-read-1' });
      await a.proposals.deny(proposal.id, 'no');
      await denialHeard;
      release();
      // A later proposal, heard after both: by then every read for the first has run.
      const { proposal: later } = await a.proposals.propose({ action: 'pay', payload: payload('{"amount":5}'), nonce: 'late-read-2' });
      await b.heard.next(later.id, 'pending');
      for (let i = 0; i < 200 && published.length < 2; i++) await sleep(5);
      expect(published).toEqual(['denied', 'pending']);
    } finally {
      unsubscribe();
      follower.close();
      stop();
    }
  });

  it("a proposal made at A is pending at B and on B's event stream, as stored", async () => {
    const db = await fresh();
    const { a, b, stop } = await two(db, actions().actions);
    try {
      const { proposal } = await a.proposals.propose({
        action: 'pay',
        payload: payload('{"amount":5}'),
        nonce: 'seen-1',
        context: 'made at A',
      });
      const event = await b.heard.next(proposal.id, 'pending');
      expect(event).toEqual(await b.proposals.dto((await b.proposals.get(proposal.id))!));
      expect(event).toMatchObject({ context: 'made at A', payloadCanonical: '{"amount":5}' });
      expect((await b.proposals.listPending()).map((p) => p.id)).toEqual([proposal.id]);
    } finally {
      stop();
    }
  });

  it("B's operator approves; A's hold wakes with the decision and A's agent runs the tool", async () => {
    const db = await fresh();
    const { a, b, stop } = await two(db, actions().actions);
    try {
      const input = { action: CLIENT_TOOL, payload: payload('{"command":"ls"}'), nonce: 'hold-1', agent: null };
      const { proposal } = await a.proposals.propose(input);
      // What the hook and the MCP gateway do: hold the agent's call until the decision.
      const held = a.proposals.wait(proposal.id, 100_000);
      await b.heard.next(proposal.id, 'pending');
      const approved = await b.proposals.approve(proposal.id);
      expect(approved.status).toBe('executed');
      const decided = await held;
      expect(decided).toMatchObject({ status: 'executed', result: '{"decision":"allow","executed_by":"client"}' });
      // The client ran it and reports back at A: matched to the proposal B's operator approved.
      const report = await recordClientReport(a.core, {
        client: 'claude-code',
        ...input,
        proposal: decided!,
        outcome: 'reported',
        result: payload('{"exit":0}'),
      });
      expect(JSON.parse(report.body)).toMatchObject({ event: 'reported', details: { matched: true, authorised_by: 'proposal' } });
      await a.heard.next(proposal.id, 'executed');
      expect(a.heard.of(proposal.id)).toEqual(['pending', 'executed']);
    } finally {
      stop();
    }
  });

  it("a proposal decided at A wakes B's long-poll, and the handler runs once", async () => {
    const db = await fresh();
    const { runs, actions: acts } = actions();
    const { a, b, stop } = await two(db, acts);
    try {
      const denied = (await b.proposals.propose({ action: 'pay', payload: payload('{"amount":1}'), nonce: 'wake-1' })).proposal;
      const executed = (await b.proposals.propose({ action: 'pay', payload: payload('{"amount":2}'), nonce: 'wake-2' })).proposal;
      const waits = [b.proposals.wait(denied.id, 100_000), b.proposals.wait(executed.id, 100_000)];
      await a.proposals.deny(denied.id, 'no, says A');
      await a.proposals.approve(executed.id);
      const [d, e] = await Promise.all(waits);
      expect(d).toMatchObject({ status: 'denied', reason: 'no, says A' });
      expect(e).toMatchObject({ status: 'executed', result: '{"amount":2}' });
      expect(runs).toEqual(['pay']);
      await b.heard.next(executed.id, 'executed');
      expect(b.heard.of(denied.id)).toEqual(['pending', 'denied']);
      expect(b.heard.of(executed.id)).toEqual(['pending', 'executed']);
    } finally {
      stop();
    }
  });

  it("an extension and a first quorum approval at A show at B; B's approval completes the quorum and wakes A", async () => {
    const db = await fresh();
    const { runs, actions: acts } = actions();
    const { a, b, stop } = await two(db, acts);
    try {
      const { proposal } = await a.proposals.propose({
        action: 'wire',
        payload: payload('{"amount":9}'),
        nonce: 'quorum-1',
        ttlSeconds: 60,
      });
      const extended = await a.proposals.extend(proposal.id, 600);
      expect(await b.heard.next(proposal.id, 'pending', (p) => p.expiresAt === extended.expires_at)).toMatchObject({
        quorum: { needed: 2, approvals: [] },
      });
      const held = a.proposals.wait(proposal.id, 100_000);
      expect(await a.proposals.approve(proposal.id)).toMatchObject({ status: 'pending' });
      const first = await b.heard.next(proposal.id, 'pending', (p) => p.quorum?.approvals.length === 1);
      expect(first.quorum?.approvals[0]).toMatchObject({ operator: 'operator', keyId: a.keyId });
      expect(await b.proposals.approve(proposal.id)).toMatchObject({ status: 'executed' });
      expect(await held).toMatchObject({ status: 'executed', result: '{"amount":9}' });
      expect(runs).toEqual(['pay']);
      const done = await a.heard.next(proposal.id, 'executed');
      expect(done.quorum?.approvals.map((x) => x.keyId)).toEqual([a.keyId, b.keyId]);
      // Each side published the same changes: proposed, extended, the first approval, executed.
      expect(a.heard.of(proposal.id)).toEqual(['pending', 'pending', 'pending', 'executed']);
      expect(b.heard.of(proposal.id)).toEqual(['pending', 'pending', 'pending', 'executed']);
    } finally {
      stop();
    }
  });

  it("a proposal whose execution a retired instance left running is settled as failed when B's operator closes it, live at B and at C", async () => {
    if (!setup.keyPerInstance) return;
    const db = await fresh();
    const [keyA, keyB, keyC] = [Ed25519Signer.generate(), Ed25519Signer.generate(), Ed25519Signer.generate()];
    const keys = [keyA, keyB, keyC];
    // A's handler never returns: A goes away while the execution its approval claimed runs.
    const a = await openConsole(db, { pay: () => new Promise(() => undefined) }, keyA, keys);
    const p = (await a.proposals.propose({ action: 'pay', payload: payload('{"amount":3}'), nonce: 'retired-1' })).proposal;
    void a.proposals.approve(p.id);
    for (let i = 0; i < 400 && (await a.at.executions.findByNonce('retired-1'))?.status !== 'started'; i++) await sleep(5);
    a.proposals.stop();
    a.at.engine.close();
    await a.at.ledger.close();

    const b = await openConsole(db, actions().actions, keyB, keys);
    const c = await openConsole(db, actions().actions, keyC, keys);
    try {
      // B's start settles nothing: the execution is still `started`, the proposal pending.
      expect(await b.proposals.get(p.id)).toMatchObject({ status: 'pending', exec_id: expect.any(String) });
      let retired: Awaited<ReturnType<typeof b.proposals.closeOrphans>> | undefined;
      // Refused as connected until A's session has left the server (retireWhenGone).
      for (let i = 0; retired === undefined; i++) {
        try {
          retired = await b.proposals.closeOrphans(a.at.key.keyId);
        } catch (err) {
          if (!(err instanceof Refusal && err.code === 'conflict') || i >= 100) throw err;
          await sleep(20);
        }
      }
      expect(retired.orphans.closed.map((o) => o.nonce)).toEqual(['retired-1']);
      expect(retired.settled).toBe(1);
      const stored = { status: 'failed', reason: retiredReason(a.at.key.keyId), receipt_seq: retired.orphans.closed[0]!.receiptSeq };
      expect(await b.proposals.get(p.id)).toMatchObject(stored);
      // The closing receipt names the proposal: B publishes it at once, C on hearing the receipt.
      const closing = (await b.core.ledgerStore.search({ id: retired.orphans.closed[0]!.execId, events: ['failed'], limit: 1 })).items[0]!;
      expect(closing.proposalId).toBe(p.id);
      for (const x of [b, c]) {
        expect(await x.heard.next(p.id, 'failed')).toMatchObject({ status: 'failed', reason: stored.reason });
        expect(x.heard.of(p.id)).toEqual(['failed']);
      }
    } finally {
      b.proposals.stop();
      c.proposals.stop();
    }
  });

  it("changes made while B's notification connection is down reach B's stream and long-poll once it is back", async () => {
    const db = await fresh();
    let lost: () => void = () => undefined;
    const reported = new Promise<void>((resolve) => (lost = resolve));
    let errors = 0;
    // Each instance's follower says it lost its connection (and is reconnecting).
    const { a, b, stop } = await two(db, actions().actions, { onError: () => ++errors === 2 && lost() });
    try {
      expect(await db.cutFollowers()).toBe(2);
      await reported;
      const p = (await a.proposals.propose({ action: 'pay', payload: payload('{"amount":1}'), nonce: 'gap-1' })).proposal;
      const waiting = b.proposals.wait(p.id, 100_000);
      await a.proposals.deny(p.id, 'while B was away');
      expect(await waiting).toMatchObject({ status: 'denied', reason: 'while B was away' });
      await b.heard.next(p.id, 'denied');
      // Read together after the reconnect, or each as it came if B was back in between.
      expect([['denied'], ['pending', 'denied']]).toContainEqual(b.heard.of(p.id));
    } finally {
      stop();
    }
  });
});
