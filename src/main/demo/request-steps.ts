import type { Step } from './scenario.ts';
import { StepFailed, type DemoContext } from './demo-context.ts';
import { attempt, type Outcome } from './agent.ts';
import { limitWords } from './operator.ts';
import { jsonText } from '../cli/terminal-text.ts';
import type { OpenExecError } from '../../client/index.ts';

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

const json = (v: unknown) => jsonText(JSON.stringify(v) ?? 'null');

/** The client call the agent makes, as its author writes it (`openexec` is the OpenExecClient). */
function code(ctx: DemoContext, call: string): void {
  ctx.narrator.line('agent', `> await openexec.${call}`);
}

function boundaryRefused(ctx: DemoContext, r: OpenExecError): void {
  ctx.narrator.line('boundary', `answers HTTP ${r.status}: ${r.detail}`);
}

/** The value of a call that had to succeed; a refusal fails the step, saying what was expected. */
function accepted<T>(ctx: DemoContext, o: Outcome<T>, expected: string): T {
  if (o.ok) return o.value;
  boundaryRefused(ctx, o.refusal);
  throw new StepFailed(`expected ${expected}, got HTTP ${o.refusal.status}: ${o.refusal.detail}`);
}

/** The refusal of a call that had to be refused (with a status `ok` accepts). */
function refused(ctx: DemoContext, o: Outcome<unknown>, ok: (status: number) => boolean, expected: string): OpenExecError {
  if (o.ok) throw new StepFailed(`expected ${expected}, but it was accepted`);
  boundaryRefused(ctx, o.refusal);
  if (!ok(o.refusal.status)) throw new StepFailed(`expected ${expected}, got HTTP ${o.refusal.status}: ${o.refusal.detail}`);
  return o.refusal;
}

/** A proposal named by an earlier step; its propose step may have expected a refusal instead. */
export function proposalNamed(ctx: DemoContext, name: string): { id: string; action: string } {
  const p = ctx.proposals.get(name);
  if (!p) throw new StepFailed(`there is no proposal '${name}' (its propose step was refused)`);
  return p;
}

export async function propose(ctx: DemoContext, step: StepOf<'propose'>, index: number): Promise<void> {
  const nonce = step.nonce ?? `demo-${ctx.runId}-${index}`;
  const n = ctx.narrator;
  n.line('agent', `proposes '${step.action}' with payload `, json(step.payload));
  if (step.context !== undefined) n.line('agent', `and says: "${step.context}"`);
  if (step.ttl_seconds !== undefined) n.line('agent', `the proposal may wait ${step.ttl_seconds} s for a decision`);
  const extra = `${step.context !== undefined ? ', context' : ''}${step.ttl_seconds !== undefined ? ', ttlSeconds' : ''}`;
  code(ctx, `propose({ action, payload, nonce${extra} })`);
  const a = await attempt(
    ctx.agent.client.propose({
      action: step.action,
      payload: step.payload,
      nonce,
      ...(step.context !== undefined ? { context: step.context } : {}),
      ...(step.ttl_seconds !== undefined ? { ttlSeconds: step.ttl_seconds } : {}),
    }),
  );
  if (step.expect === 'refused') return void refused(ctx, a, (s) => s >= 400 && s < 500, 'a refusal');
  const p = accepted(ctx, a, 'the proposal to be accepted (202)');
  if (p.status !== 'pending') throw new StepFailed(`expected the proposal to wait for the operator, it is ${p.status}`);
  ctx.proposals.set(step.as, { id: p.id, action: step.action });
  n.line('boundary', `accepts it as pending (202): nothing runs yet; it waits for the operator until ${p.expires_at}`);
}

export async function execute(ctx: DemoContext, step: StepOf<'execute'>, index: number): Promise<void> {
  const nonce = step.nonce ?? `demo-${ctx.runId}-${index}`;
  const n = ctx.narrator;
  const artifact = step.approval === 'approver' ? ctx.approver.approve(step.action, step.payload) : undefined;
  const grant = step.grant === undefined ? undefined : ctx.grants.get(step.grant);
  if (artifact)
    n.line('agent', `holds an approval the approver signed for exactly this request (approval ${artifact.approval_id.slice(0, 8)}…)`);
  n.line('agent', `executes '${step.action}' with payload `, json(step.payload), ` (nonce ${nonce})`);
  code(ctx, `execute({ action, payload, nonce${artifact ? ', artifact' : ''} })`);
  const a = await attempt(ctx.agent.client.execute({ action: step.action, payload: step.payload, nonce, artifact: artifact ?? null }));
  const sent = { action: step.action, payload: step.payload, nonce, artifact, execId: null as string | null };
  if (step.as !== undefined) ctx.executions.set(step.as, sent);
  // The presenter declined the grant this step relies on: without it, the request needs an approval.
  const expect = step.grant !== undefined && !grant ? 'refused' : step.expect;
  if (expect === 'refused') {
    refused(ctx, a, (s) => s >= 400 && s < 500 && s !== 409, 'a refusal');
    if (step.grant !== undefined && !grant) n.line('boundary', 'no grant covers it (the operator did not grant one): refused, nothing ran');
    return;
  }
  const done = accepted(ctx, a, 'the execution to run (200)');
  sent.execId = done.id;
  if (grant) {
    const receipt = await ctx.operator.executionReceipt(done.id);
    const body = receipt ? (JSON.parse(receipt.body) as { grant_id?: unknown; grant_use?: unknown }) : {};
    if (body.grant_id !== grant.id) throw new StepFailed(`expected execution ${done.id} to run under grant ${grant.id}, it did not`);
    n.line(
      'boundary',
      `finds the request inside grant ${grant.id.slice(0, 8)}…'s signed scope: runs it at once, without asking the operator (use ${String(body.grant_use)}${grant.uses !== null ? ` of ${grant.uses}` : ''}; execution ${done.id.slice(0, 8)}…)`,
    );
  } else {
    n.line(
      'boundary',
      `checks the signature against the request, spends the nonce and the approval, runs it once (execution ${done.id.slice(0, 8)}…)`,
    );
  }
  n.line('agent', `gets the result: `, json(done.result));
}

export async function replay(ctx: DemoContext, step: StepOf<'replay'>): Promise<void> {
  const first = ctx.executions.get(step.of);
  if (!first) throw new StepFailed(`the execute step '${step.of}' did not send anything`);
  const payload = step.payload ?? first.payload;
  const n = ctx.narrator;
  if (step.payload) n.line('agent', `sends nonce ${first.nonce} again, now with payload `, json(payload));
  else n.line('agent', `sends nonce ${first.nonce} again, the very same request`);
  code(ctx, `execute({ action, payload, nonce${first.artifact ? ', artifact' : ''} })`);
  const a = await attempt(
    ctx.agent.client.execute({ action: first.action, payload, nonce: first.nonce, artifact: first.artifact ?? null }),
  );
  if (step.payload !== undefined) {
    refused(ctx, a, (s) => s === 409, 'a conflict (409)');
    n.line('boundary', 'a nonce names one request only: this one is refused, and nothing runs');
    return;
  }
  const done = accepted(ctx, a, 'the stored result (200)');
  if (first.execId !== null && done.id !== first.execId) {
    throw new StepFailed(`expected the stored execution ${first.execId}, got ${done.id}`);
  }
  n.line(
    'boundary',
    `recognises the nonce: answers with the stored result of execution ${done.id.slice(0, 8)}…; the action does not run a second time`,
  );
  n.line('agent', `gets the same result: `, json(done.result));
}

export async function tamper(ctx: DemoContext, step: StepOf<'tamper'>, index: number): Promise<void> {
  const n = ctx.narrator;
  const artifact = ctx.approver.approve(step.action, step.approved_payload);
  n.line('agent', `holds an approval signed for '${step.action}' with payload `, json(step.approved_payload));
  n.line('agent', `sends it with payload `, json(step.sent_payload));
  code(ctx, 'execute({ action, payload, nonce, artifact })');
  const a = await attempt(
    ctx.agent.client.execute({ action: step.action, payload: step.sent_payload, nonce: `demo-${ctx.runId}-${index}`, artifact }),
  );
  refused(ctx, a, (s) => s === 403, 'the approval to be refused (403)');
  n.line('boundary', 'the hash of the request it received is not the one that was signed: refused, nothing ran');
}

export async function decide(ctx: DemoContext, step: StepOf<'decide'>): Promise<void> {
  const { id } = proposalNamed(ctx, step.proposal);
  await ctx.operator.show(id);
  const { decision, proposal } = await ctx.operator.decide(id, step.decision, step.reason);
  ctx.decisions.set(step.proposal, { scripted: step.decision, actual: decision });
  ctx.narrator.line('boundary', `the proposal is now ${proposal.status}${proposal.reason ? `: ${proposal.reason}` : ''}`);
}

export async function wait(ctx: DemoContext, step: StepOf<'wait'>): Promise<void> {
  const { id } = proposalNamed(ctx, step.for);
  const decided = ctx.decisions.get(step.for);
  // An interactive presenter may decide otherwise than the script: expect what they chose.
  const expected = decided && decided.actual !== decided.scripted ? (decided.actual === 'approve' ? 'executed' : 'denied') : step.until;
  const n = ctx.narrator;
  n.line('agent', `waits for the decision (a long-poll of GET /proposals/${id.slice(0, 8)}…, answered the moment it is decided)`);
  code(ctx, `waitForDecision(id, { timeoutMs: ${step.timeout_seconds * 1000} })`);
  const p = accepted(
    ctx,
    await attempt(ctx.agent.client.waitForDecision(id, { timeoutMs: step.timeout_seconds * 1000 })),
    'the proposal (200)',
  );
  if (p.status === 'pending') throw new StepFailed(`still pending after ${step.timeout_seconds} s`);
  n.line('agent', `learns: ${p.status}${p.reason ? `, because: ${p.reason}` : ''}`);
  if (p.result !== undefined && p.result !== null) n.line('agent', `result: `, json(p.result));
  if (expected !== undefined && p.status !== expected) throw new StepFailed(`expected the proposal to be ${expected}, it is ${p.status}`);
}

export async function grant(ctx: DemoContext, step: StepOf<'grant'>): Promise<void> {
  const { id } = proposalNamed(ctx, step.proposal);
  await ctx.operator.show(id);
  const { decision, proposal, grant } = await ctx.operator.grant({
    id,
    vary: step.vary,
    ...(step.uses !== undefined ? { uses: step.uses } : {}),
    ...(step.for_seconds !== undefined ? { forSeconds: step.for_seconds } : {}),
    ...(step.reason !== undefined ? { reason: step.reason } : {}),
  });
  ctx.decisions.set(step.proposal, { scripted: 'approve', actual: decision });
  const n = ctx.narrator;
  n.line('boundary', `the proposal is now ${proposal.status}${proposal.reason ? `: ${proposal.reason}` : ''}`);
  if (!grant) return;
  ctx.grants.set(step.as, grant);
  n.line(
    'boundary',
    `grant ${grant.id.slice(0, 8)}… is live (${limitWords(grant.uses, step.for_seconds ?? null)}): the signed terms are kept in a config receipt, and each use will name the grant and its number`,
  );
}
