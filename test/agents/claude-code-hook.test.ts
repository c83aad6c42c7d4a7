import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { post, REPO_ROOT, startServer, tempDir, type RunningServer, agentToken } from '../support/harness.ts';
import { pendingId } from '../support/pending.ts';
import { hookCli as runHook } from '../support/cli.ts';
import { rawDb } from '../support/raw-db.ts';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/claude-code');
type HookInput = Record<string, unknown> & { tool_name: string; tool_input: Record<string, unknown>; tool_use_id: string };
const recorded = (name: string): HookInput => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as HookInput;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function setUp(hold: string): Promise<{ s: RunningServer; token: string }> {
  const s = await startServer({ OPENEXEC_HOOK_HOLD_SECONDS: hold, OPENEXEC_REQUIRE_AGENT_TOKEN: '1' });
  const token = await agentToken(s, 'claude');
  return { s, token };
}

function decision(body: any): { decision: string; reason: string } {
  expect(body.hookSpecificOutput.hookEventName).toBe('PreToolUse');
  return { decision: body.hookSpecificOutput.permissionDecision, reason: body.hookSpecificOutput.permissionDecisionReason };
}

const receipts = (s: RunningServer, nonce: string) =>
  (
    rawDb(s.app.core)
      .prepare("SELECT body FROM receipts WHERE json_extract(body, '$.nonce') = ? ORDER BY seq")
      .pluck()
      .all(nonce) as string[]
  ).map((b) => JSON.parse(b) as Record<string, any>);

describe('POST /hooks/claude-code holding the decision', () => {
  let s: RunningServer;
  let token: string;
  beforeAll(async () => {
    ({ s, token } = await setUp('60'));
  });
  afterAll(() => s.stop());

  test('an action the allow-list does not name is denied at once, even with an open allow-list', async () => {
    expect(s.app.core.allowList.list()).toBeNull();
    const r = await post(s.url, '/hooks/claude-code', recorded('pre-bash'), bearer(token));
    expect(r.status).toBe(200);
    expect(decision(r.body)).toMatchObject({ decision: 'deny', reason: expect.stringContaining('allow-list') });
    expect(receipts(s, recorded('pre-bash').tool_use_id).map((b) => b['event'])).toEqual(['refused']);
  });

  test('no token, a bad token or input that is not a hook: 200 deny, nothing proposed', async () => {
    for (const [body, headers] of [
      [recorded('pre-edit'), {}],
      [recorded('pre-edit'), bearer('oxa_nope')],
      [{ hook_event_name: 'PreToolUse', tool_name: 'Bash' }, bearer(token)],
    ] as const) {
      const r = await post(s.url, '/hooks/claude-code', body, headers);
      expect(r.status).toBe(200);
      expect(decision(r.body).decision).toBe('deny');
    }
    expect(receipts(s, recorded('pre-edit').tool_use_id)).toEqual([]);
  });

  test('Bash, Edit and an MCP tool: the operator approves, the hook allows; PostToolUse is a reported receipt', async () => {
    const allowed = await s.app.console.setAllowed({ action: 'claude-code:*', allowed: true });
    expect(allowed.ok).toBe(true);
    for (const name of ['pre-bash-again', 'pre-edit', 'pre-mcp']) {
      const input = name === 'pre-bash-again' ? { ...recorded('pre-bash'), tool_use_id: 'toolu_01BashSecond' } : recorded(name);
      const held = post(s.url, '/hooks/claude-code', input, bearer(token));
      const id = await pendingId(s, (p) => p.nonce === input.tool_use_id);
      const detail = await s.app.console.getProposal({ id });
      expect(detail).toMatchObject({ ok: true, value: { action: `claude-code:${input.tool_name}`, agent: 'claude' } });
      expect(detail.ok && JSON.parse(detail.value.payloadCanonical)).toEqual(input.tool_input);
      await s.app.console.approve({ id });
      const r = await held;
      expect(decision(r.body)).toMatchObject({ decision: 'allow', reason: expect.stringContaining(id) });
    }
    const post1 = await post(s.url, '/hooks/claude-code', { ...recorded('post-bash'), tool_use_id: 'toolu_01BashSecond' }, bearer(token));
    expect(post1.status).toBe(200);
    const bodies = receipts(s, 'toolu_01BashSecond');
    expect(bodies.map((b) => b['event'])).toEqual(['proposed', 'executed', 'reported']);
    expect(bodies.every((b) => b['agent'] === 'claude')).toBe(true);
    // The payload is kept beside the receipt, which commits to it by salted hash (format 2).
    const payload = rawDb(s.app.core)
      .prepare("SELECT body FROM receipt_bodies WHERE seq = ? AND field = 'payload'")
      .pluck()
      .get(bodies[1]!['seq']) as string;
    expect(JSON.parse(payload)).toEqual(recorded('pre-bash').tool_input);
    expect(bodies[2]).toMatchObject({ details: { executed_by: 'client', client: 'claude-code', matched: true, outcome: 'reported' } });
    expect(bodies[2]!['result_hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  test("the operator denies a Write: deny, with the operator's reason", async () => {
    const input = recorded('pre-write');
    const held = post(s.url, '/hooks/claude-code', input, bearer(token));
    const id = await pendingId(s, (p) => p.nonce === input.tool_use_id);
    await s.app.console.deny({ id, reason: 'never write .env' });
    expect(decision((await held).body)).toMatchObject({ decision: 'deny', reason: expect.stringContaining('never write .env') });
  });

  test("another agent's PostToolUse under this agent's tool_use_id is recorded apart from its proposal", async () => {
    await s.app.console.setAllowed({ action: 'claude-code:*', allowed: true });
    const input = { ...recorded('pre-edit'), tool_use_id: 'toolu_01Theirs' };
    const held = post(s.url, '/hooks/claude-code', input, bearer(token));
    const id = await pendingId(s, (p) => p.nonce === input.tool_use_id);
    await s.app.console.approve({ id });
    expect(decision((await held).body).decision).toBe('allow');
    const otherToken = await agentToken(s, 'not-claude');
    const post2 = { ...recorded('post-bash'), tool_name: input.tool_name, tool_input: input.tool_input, tool_use_id: input.tool_use_id };
    expect((await post(s.url, '/hooks/claude-code', post2, bearer(otherToken))).status).toBe(200);
    const reported = receipts(s, input.tool_use_id).filter((b) => b['event'] === 'reported');
    expect(reported).toEqual([expect.objectContaining({ agent: 'not-claude', details: expect.objectContaining({ matched: false }) })]);
    expect(reported[0]!['proposal_id'] ?? null).toBeNull();
  });

  test('a PostToolUse with no approved proposal behind it is recorded as unmatched', async () => {
    const r = await post(s.url, '/hooks/claude-code', { ...recorded('post-bash'), tool_use_id: 'toolu_01NeverAsked' }, bearer(token));
    expect(r.status).toBe(200);
    expect(receipts(s, 'toolu_01NeverAsked')).toEqual([
      expect.objectContaining({ event: 'reported', details: expect.objectContaining({ matched: false }) }),
    ]);
  });
});

describe('POST /hooks/claude-code when the hold runs out', () => {
  let s: RunningServer;
  let token: string;
  beforeAll(async () => {
    ({ s, token } = await setUp('1'));
    await s.app.console.setAllowed({ action: 'claude-code:Bash', allowed: true });
  });
  afterAll(() => s.stop());

  test('still pending: deny telling the agent to retry; the retry joins the same proposal and gets its decision', async () => {
    const first = await post(s.url, '/hooks/claude-code', recorded('pre-bash'), bearer(token));
    expect(decision(first.body)).toMatchObject({ decision: 'deny', reason: expect.stringContaining('Make the same tool call again') });
    const id = await pendingId(s, (p) => p.nonce === recorded('pre-bash').tool_use_id);
    const again = await post(s.url, '/hooks/claude-code', { ...recorded('pre-bash'), tool_use_id: 'toolu_01Retry1' }, bearer(token));
    expect(decision(again.body).decision).toBe('deny');
    const pending = await s.app.console.listPending();
    expect(pending.ok && pending.value.map((p) => p.id)).toEqual([id]);
    await s.app.console.approve({ id });
    const retry = await post(s.url, '/hooks/claude-code', { ...recorded('pre-bash'), tool_use_id: 'toolu_01Retry2' }, bearer(token));
    expect(decision(retry.body)).toMatchObject({ decision: 'allow', reason: expect.stringContaining(id) });
    await post(s.url, '/hooks/claude-code', { ...recorded('post-bash'), tool_use_id: 'toolu_01Retry2' }, bearer(token));
    expect(receipts(s, 'toolu_01Retry2')).toEqual([
      expect.objectContaining({ event: 'reported', proposal_id: id, details: expect.objectContaining({ matched: true }) }),
    ]);
    // Delivered once: the same call made afterwards is a new request.
    const later = await post(s.url, '/hooks/claude-code', { ...recorded('pre-bash'), tool_use_id: 'toolu_01Later' }, bearer(token));
    expect(decision(later.body).decision).toBe('deny');
    expect(receipts(s, 'toolu_01Later').map((b) => b['event'])).toEqual(['proposed']);
  });
});

describe('POST /hooks/claude-code: one approval, one allowed tool call', () => {
  let s: RunningServer;
  let token: string;
  beforeAll(async () => {
    ({ s, token } = await setUp('3'));
    await s.app.console.setAllowed({ action: 'claude-code:Bash', allowed: true });
  });
  afterAll(() => s.stop());

  test('two identical retries joining the same pending proposal: only one of them is allowed', async () => {
    const first = await post(s.url, '/hooks/claude-code', recorded('pre-bash'), bearer(token));
    expect(decision(first.body).decision).toBe('deny');
    const id = await pendingId(s, (p) => p.nonce === recorded('pre-bash').tool_use_id);
    // Both retries join the proposal and hold on it; the operator approves it once.
    const retries = ['toolu_01TwinA', 'toolu_01TwinB'].map((tool_use_id) =>
      post(s.url, '/hooks/claude-code', { ...recorded('pre-bash'), tool_use_id }, bearer(token)),
    );
    await new Promise((r) => setTimeout(r, 1000));
    await s.app.console.approve({ id });
    const answers = (await Promise.all(retries)).map((r) => decision(r.body));
    expect(answers.map((a) => a.decision).sort()).toEqual(['allow', 'deny']);
    expect(answers.find((a) => a.decision === 'deny')!.reason).toContain('already');
    // Nor does the proposal's own tool call, asked again, get a second allow.
    const original = await post(s.url, '/hooks/claude-code', recorded('pre-bash'), bearer(token));
    expect(decision(original.body).decision).toBe('deny');
  });
});

function hookCli(input: string, env: Record<string, string>) {
  return runHook(input, { OPENEXEC_DATA_DIR: tempDir(), ...env });
}

describe('openexec hook claude-code (a command hook)', () => {
  let s: RunningServer;
  let token: string;
  beforeAll(async () => {
    ({ s, token } = await setUp('1'));
  });
  afterAll(() => s.stop());

  test("prints the route's decision and exits 0", async () => {
    const r = await hookCli(JSON.stringify(recorded('pre-mcp')), { OPENEXEC_URL: s.url, OPENEXEC_AGENT_TOKEN: token });
    expect(r.code).toBe(0);
    expect(decision(JSON.parse(r.stdout))).toMatchObject({ decision: 'deny', reason: expect.stringContaining('allow-list') });
  });

  test('exits 2 on any failure: no server, input that is not JSON, a URL that is not loopback', async () => {
    const dead = await hookCli(JSON.stringify(recorded('pre-mcp')), { OPENEXEC_URL: 'http://127.0.0.1:9', OPENEXEC_AGENT_TOKEN: token });
    expect(dead.code).toBe(2);
    expect(dead.stderr).toMatch(/^openexec hook: cannot reach OpenExec .*; blocking the tool call\n$/);
    expect((await hookCli('not json', { OPENEXEC_URL: s.url, OPENEXEC_AGENT_TOKEN: token })).code).toBe(2);
    expect((await hookCli('{}', { OPENEXEC_URL: 'http://example.com', OPENEXEC_AGENT_TOKEN: token })).code).toBe(2);
    expect((await hookCli('{}', {})).code).toBe(2);
  });
});
