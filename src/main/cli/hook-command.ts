import type { ServerTrust } from './running-server.ts';
import { z } from 'zod';
import { CLAUDE_CODE_HOOK_PATH } from '../api/claude-code-hook.ts';
import { agentEndpoint } from './agent-endpoint.ts';
import { postJson, TransportError } from './server-transport.ts';
import { CliError } from './cli-error.ts';

const MAX_INPUT_BYTES = 1024 * 1024;

/** What the route answers a PreToolUse with; anything else is a failure. */
const preToolUseOutput = z.object({
  hookSpecificOutput: z.object({
    hookEventName: z.literal('PreToolUse'),
    permissionDecision: z.enum(['allow', 'deny']),
    permissionDecisionReason: z.string(),
  }),
});

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_INPUT_BYTES) throw new CliError(`hook input is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * `openexec hook claude-code`: Claude Code's command hook. Reads the hook input on stdin, asks
 * the running OpenExec (POST /hooks/claude-code, as the agent in OPENEXEC_AGENT_TOKEN) and
 * prints its answer. Any failure (no server, bad input, a broken answer) exits 2, which makes
 * Claude Code block the tool call: this hook fails closed.
 */
export async function hookCommand(args: readonly string[], env: NodeJS.ProcessEnv, dataDir: string, trust: ServerTrust): Promise<number> {
  try {
    if (args.length !== 1 || args[0] !== 'claude-code') throw new CliError('hook: expected `hook claude-code`');
    const input = await readStdin();
    const { base, tls } = agentEndpoint(env, dataDir, trust);
    const token = env['OPENEXEC_AGENT_TOKEN']?.trim();
    let answer: { status: number; text: string };
    try {
      answer = await postJson(base + CLAUDE_CODE_HOOK_PATH, input, token ? { authorization: `Bearer ${token}` } : {}, {
        trust: tls,
      });
    } catch (err) {
      const why =
        err instanceof TransportError && err.kind === 'untrusted' ? `: not the certificate in OPENEXEC_TLS_CERT (${err.message})` : '';
      throw new CliError(`cannot reach OpenExec at ${base}${why}`);
    }
    const { status, text } = answer;
    if (status !== 200) throw new CliError(`OpenExec answered HTTP ${status}: ${text.slice(0, 200)}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new CliError('OpenExec answered something that is not JSON');
    }
    const isPre = (JSON.parse(input.toString('utf8') || 'null') as { hook_event_name?: unknown } | null)?.hook_event_name === 'PreToolUse';
    if (isPre && !preToolUseOutput.safeParse(body).success) throw new CliError('OpenExec answered without a permission decision');
    process.stdout.write(`${JSON.stringify(body)}\n`);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    process.stderr.write(`openexec hook: ${message}; blocking the tool call\n`);
    return 2;
  }
}
