import type { Step } from './scenario.ts';
import { StepFailed, type DemoContext } from './demo-context.ts';
import type { AgentAnswer } from './agent.ts';
import { jsonText } from '../cli/terminal-text.ts';

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

const detailOf = (a: AgentAnswer): string => {
  const d = a.body['detail'];
  return typeof d === 'string' ? d : JSON.stringify(d ?? a.body);
};

const json = (v: unknown) => jsonText(JSON.stringify(v) ?? 'null');

function boundarySays(ctx: DemoContext, a: AgentAnswer): void {
  if (a.status >= 200 && a.status < 300) return;
  ctx.narrator.line('boundary', `answers HTTP ${a.status}: ${detailOf(a)}`);
}

function expectStatus(a: AgentAnswer, ok: (status: number) => boolean, expected: string): void {
  if (!ok(a.status)) throw new StepFailed(`expected ${expected}, got HTTP ${a.status}: ${detailOf(a)}`);
}

/** A proposal named by an earlier step; its propose step may have expected a refusal instead. */
function proposalNamed(ctx: DemoContext, name: string): { id: string; action: string } {
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
  const a = await ctx.agent.propose({
    action: step.action,
    payload: step.payload,
    nonce,
    context: step.context,
    ttl_seconds: step.ttl_seconds,
  });
  boundarySays(ctx, a);
  if (step.expect === 'refused') return expectStatus(a, (s) => s >= 400, 'a refusal');
  expectStatus(a, (s) => s === 202, 'the proposal to be accepted (202)');
  const id = String(a.body['id']);
  ctx.proposals.set(step.as, { id, action: step.action });
  n.line('boundary', `accepts it as pending (202): nothing runs yet; it waits for the operator until ${String(a.body['expires_at'])}`);
}

export async function execute(ctx: DemoContext, step: StepOf<'execute'>, index: number): Promise<void> {
  const nonce = step.nonce ?? `demo-${ctx.runId}-${index}`;
  const n = ctx.narrator;
  const artifact = step.approval === 'approver' ? ctx.approver.approve(step.action, step.payload) : undefined;
  if (artifact)
    n.line('agent', `holds an approval the approver signed for exactly this request (approval ${artifact['approval_id']!.slice(0, 8)}…)`);
  n.line('agent', `executes '${step.action}' with payload `, json(step.payload), ` (nonce ${nonce})`);
  const a = await ctx.agent.execute({ action: step.action, payload: step.payload, nonce, approval_artifact: artifact });
  boundarySays(ctx, a);
  const sent = { action: step.action, payload: step.payload, nonce, artifact, execId: null as string | null };
  if (step.as !== undefined) ctx.executions.set(step.as, sent);
  if (step.expect === 'refused') return expectStatus(a, (s) => s >= 400 && s !== 409, 'a refusal');
  expectStatus(a, (s) => s === 200, 'the execution to run (200)');
  sent.execId = String(a.body['id']);
  n.line(
    'boundary',
    `checks the signature against the request, spends the nonce and the approval, runs it once (execution ${sent.execId.slice(0, 8)}…)`,
  );
  n.line('agent', `gets the result: `, json(a.body['result']));
}

export async function replay(ctx: DemoContext, step: StepOf<'replay'>): Promise<void> {
  const first = ctx.executions.get(step.of);
  if (!first) throw new StepFailed(`the execute step '${step.of}' did not send anything`);
  const payload = step.payload ?? first.payload;
  const n = ctx.narrator;
  if (step.payload) n.line('agent', `sends nonce ${first.nonce} again, now with payload `, json(payload));
  else n.line('agent', `sends nonce ${first.nonce} again, the very same request`);
  const a = await ctx.agent.execute({ action: first.action, payload, nonce: first.nonce, approval_artifact: first.artifact });
  boundarySays(ctx, a);
  if (step.payload !== undefined) {
    expectStatus(a, (s) => s === 409, 'a conflict (409)');
    n.line('boundary', 'a nonce names one request only: this one is refused, and nothing runs');
    return;
  }
  expectStatus(a, (s) => s === 200, 'the stored result (200)');
  if (first.execId !== null && a.body['id'] !== first.execId) {
    throw new StepFailed(`expected the stored execution ${first.execId}, got ${String(a.body['id'])}`);
  }
  n.line(
    'boundary',
    `recognises the nonce: answers with the stored result of execution ${String(a.body['id']).slice(0, 8)}…; the action does not run a second time`,
  );
  n.line('agent', `gets the same result: `, json(a.body['result']));
}

export async function tamper(ctx: DemoContext, step: StepOf<'tamper'>, index: number): Promise<void> {
  const n = ctx.narrator;
  const artifact = ctx.approver.approve(step.action, step.approved_payload);
  n.line('agent', `holds an approval signed for '${step.action}' with payload `, json(step.approved_payload));
  n.line('agent', `sends it with payload `, json(step.sent_payload));
  const a = await ctx.agent.execute({
    action: step.action,
    payload: step.sent_payload,
    nonce: `demo-${ctx.runId}-${index}`,
    approval_artifact: artifact,
  });
  boundarySays(ctx, a);
  expectStatus(a, (s) => s === 403, 'the approval to be refused (403)');
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
  n.line('agent', `waits for the decision (long-poll GET /proposals/${id.slice(0, 8)}…?wait=…)`);
  const deadline = Date.now() + step.timeout_seconds * 1000;
  let a: Awaited<ReturnType<typeof ctx.agent.proposal>>;
  for (;;) {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    a = await ctx.agent.proposal(id, Math.max(1, left));
    expectStatus(a, (s) => s === 200, 'the proposal (200)');
    if (a.body['status'] !== 'pending' || Date.now() >= deadline) break;
  }
  const status = String(a.body['status']);
  if (status === 'pending') throw new StepFailed(`still pending after ${step.timeout_seconds} s`);
  n.line('agent', `learns: ${status}${a.body['reason'] ? `, because: ${String(a.body['reason'])}` : ''}`);
  if (a.body['result'] !== undefined && a.body['result'] !== null) n.line('agent', `result: `, json(a.body['result']));
  if (expected !== undefined && status !== expected) throw new StepFailed(`expected the proposal to be ${expected}, it is ${status}`);
}
