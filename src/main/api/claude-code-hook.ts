import { z } from 'zod';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { OpenExecCore } from '../core/openexec-core.ts';
import type { ProposalService } from '../core/proposals/proposal-service.ts';
import type { ProposalRow } from '../core/proposals/proposal-store.ts';
import type { JsonValue } from '../core/json/json-value.ts';
import { requestHash as hashRequest } from '../core/json/request-hash.ts';
import { Refusal } from '../core/errors.ts';
import { RetryJoins } from '../core/proposals/retry-joins.ts';
import { recordClientReport } from '../core/proposals/client-report.ts';
import { jsonObject, parseBody } from './json-body.ts';
import { sendJson } from './reply.ts';
import type { AgentAuth } from './agent-auth.ts';

export const CLAUDE_CODE_HOOK_PATH = '/hooks/claude-code';

const anyJson = z.custom<JsonValue>(() => true);
const hookInput = z.looseObject({
  hook_event_name: z.enum(['PreToolUse', 'PostToolUse']),
  session_id: z.string().max(256).optional(),
  cwd: z.string().max(4096).optional(),
  tool_name: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'a tool name of 1-128 letters, digits, _ . : -'),
  tool_input: jsonObject,
  tool_use_id: z.string().min(1).max(256),
  tool_response: anyJson.optional(),
});
type HookInput = z.infer<typeof hookInput>;

type Decision = { allow: boolean; reason: string };

function answer(reply: FastifyReply, d: Decision): void {
  sendJson(reply, 200, {
    hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: d.allow ? 'allow' : 'deny', permissionDecisionReason: d.reason },
  });
}

function decisionOf(row: ProposalRow): Decision {
  switch (row.status) {
    case 'executed':
      return { allow: true, reason: `Approved by the OpenExec operator (proposal ${row.id}, receipt #${row.receipt_seq})` };
    case 'pending':
      return {
        allow: false,
        reason: `Waiting for the OpenExec operator's decision on proposal ${row.id}: not run yet. Make the same tool call again to wait for the decision; do not work around it.`,
      };
    default:
      return { allow: false, reason: `OpenExec ${row.status} this call (proposal ${row.id})${row.reason ? `: ${row.reason}` : ''}` };
  }
}

/**
 * Claude Code's hooks over HTTP. PreToolUse makes a proposal (`claude-code:TOOL`, the tool input
 * as payload, `tool_use_id` as nonce), holds it up to `holdMs`, and always answers 200 with a
 * permission decision: anything but an approval, including every failure here, is `deny`.
 * PostToolUse records what the client reports as a `reported` receipt (it ran the tool, not us).
 */
export function registerClaudeCodeHook(
  app: FastifyInstance,
  core: OpenExecCore,
  proposals: ProposalService,
  agentAuth: AgentAuth,
  holdMs: number,
): void {
  const joins = new RetryJoins();

  async function preToolUse(input: HookInput, agent: string | null): Promise<Decision> {
    const action = `claude-code:${input.tool_name}`;
    const hash = hashRequest(action, input.tool_input);
    const joinedId = joins.joined(agent, hash);
    let row = joinedId === null ? undefined : await proposals.get(joinedId);
    if (row === undefined) {
      const where = [input.session_id && `session ${input.session_id}`, input.cwd && `in ${input.cwd}`].filter(Boolean).join(' ');
      row = (
        await proposals.propose({
          action,
          payload: input.tool_input,
          nonce: input.tool_use_id,
          context: `Claude Code tool call${where ? ` (${where})` : ''}`,
          agent,
        })
      ).proposal;
    }
    const decided = (await proposals.wait(row.id, holdMs)) ?? row;
    if (decided.status === 'pending') joins.remember(agent, hash, decided.id);
    else joins.settled(agent, hash, decided.nonce === input.tool_use_id ? null : input.tool_use_id, decided.id);
    const holder = decided.status === 'executed' ? joins.deliver(decided.id, input.tool_use_id) : null;
    if (holder !== null) {
      return {
        allow: false,
        reason: `OpenExec's approval (proposal ${decided.id}) was already used by another tool call (${holder}): it allows one call. Make the call again to ask for a new decision.`,
      };
    }
    return decisionOf(decided);
  }

  async function postToolUse(input: HookInput, agent: string | null): Promise<void> {
    const action = `claude-code:${input.tool_name}`;
    const joined = joins.proposalOf(input.tool_use_id);
    const found =
      (await proposals.records.findByNonce(input.tool_use_id)) ?? (joined === null ? undefined : await proposals.get(joined)) ?? null;
    // Another agent's proposal is not this report's: its receipt must not be linked to it.
    const row = found !== null && found.agent === agent ? found : null;
    await recordClientReport(core, {
      client: 'claude-code',
      action,
      payload: input.tool_input,
      nonce: input.tool_use_id,
      agent,
      proposal: row,
      outcome: 'reported',
      result: input.tool_response ?? null,
    });
  }

  app.post(CLAUDE_CODE_HOOK_PATH, async (req, reply) => {
    let input: HookInput;
    let agent: string | null;
    try {
      agent = await agentAuth.of(req);
      const parsed = hookInput.safeParse(parseBody(req.body));
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
        throw new Refusal('invalid_request', `Not a Claude Code PreToolUse/PostToolUse hook input: ${problems.join('; ')}`);
      }
      input = parsed.data;
    } catch (err) {
      return answer(reply, { allow: false, reason: `OpenExec refused the hook call: ${refusalText(err)}` });
    }
    if (input.hook_event_name === 'PostToolUse') {
      try {
        await postToolUse(input, agent);
        return sendJson(reply, 200, {});
      } catch (err) {
        // The tool already ran; the client can only be told that it was not witnessed.
        return sendJson(reply, 500, { detail: `OpenExec could not record the outcome: ${refusalText(err)}` });
      }
    }
    try {
      return answer(reply, await preToolUse(input, agent));
    } catch (err) {
      return answer(reply, { allow: false, reason: `OpenExec refused this call: ${refusalText(err)}` });
    }
  });
}

function refusalText(err: unknown): string {
  if (err instanceof Refusal) return err.detail;
  process.stderr.write(`openexec: hook error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 'internal error (see the OpenExec log)';
}
