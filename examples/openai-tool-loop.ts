/**
 * An OpenAI-style tool loop routed through OpenExec: every tool call the model makes becomes a
 * proposal, waits for the operator's decision, and only an approved call's result goes back to
 * the model. Run it against a running OpenExec (npm run serve) with an agent token:
 *
 *   OPENEXEC_AGENT_TOKEN=$(openexec agents add demo-loop --json | jq -r .token) \
 *     node --import tsx examples/openai-tool-loop.ts
 *
 * then approve (or deny) the proposals in the console or with `openexec approve ID`.
 *
 * The model here is scripted so that the example needs no network and no API key: replace
 * `scriptedModel` with your client's `chat.completions.create({ model, messages, tools })`; the
 * messages and tool calls have the same shapes.
 */
import { OpenExecClient, OpenExecError } from 'openexec-console/client';

type ToolCall = { id: string; type: 'function'; function: { name: string; arguments: string } };
type Message =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** The tools as the model sees them (OpenAI function-calling format; pass them as `tools`); names are OpenExec actions. */
export const tools = [
  {
    type: 'function',
    function: {
      name: 'add',
      description: 'Add two integers',
      parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'echo',
      description: 'Echo a message back',
      parameters: { type: 'object', properties: { message: { type: 'string' } } },
    },
  },
];

/** Stands in for the model: asks for two tools, then answers from their results. */
async function scriptedModel(messages: Message[]): Promise<Extract<Message, { role: 'assistant' }>> {
  const results = messages.filter((m): m is Extract<Message, { role: 'tool' }> => m.role === 'tool');
  if (results.length === 0) {
    return {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_add_1', type: 'function', function: { name: 'add', arguments: JSON.stringify({ a: 2, b: 40 }) } },
        { id: 'call_echo_1', type: 'function', function: { name: 'echo', arguments: JSON.stringify({ message: 'hello from the loop' }) } },
      ],
    };
  }
  return { role: 'assistant', content: `Tool results: ${results.map((r) => r.content).join('; ')}` };
}

/** One tool call through the boundary: propose, wait for the operator, return what the model sees. */
async function runThroughOpenExec(client: OpenExecClient, runId: string, call: ToolCall): Promise<string> {
  try {
    const proposal = await client.propose({
      action: call.function.name,
      payload: JSON.parse(call.function.arguments) as Record<string, unknown>,
      // Stable per call: a retry of this loop step joins the same proposal instead of asking twice.
      nonce: `${runId}:${call.id}`,
      context: `OpenAI-style tool loop ${runId}: the model called ${call.function.name}`,
    });
    const decided = await client.waitForDecision(proposal.id, { timeoutMs: 10 * 60_000 });
    if (decided.status === 'executed') return JSON.stringify(decided.result);
    return `not run: ${decided.status}${decided.reason ? ` (${decided.reason})` : ''}`;
  } catch (err) {
    // A refusal is an answer the model can read; it never means "go ahead".
    if (err instanceof OpenExecError) return `refused by OpenExec: ${err.detail}`;
    throw err;
  }
}

export async function toolLoop(client: OpenExecClient, runId: string, prompt: string): Promise<string> {
  const messages: Message[] = [
    { role: 'system', content: 'Use the tools; every call is approved by a human first.' },
    { role: 'user', content: prompt },
  ];
  for (let turn = 0; turn < 8; turn++) {
    const reply = await scriptedModel(messages);
    messages.push(reply);
    if (!reply.tool_calls?.length) return reply.content ?? '';
    for (const call of reply.tool_calls) {
      messages.push({ role: 'tool', tool_call_id: call.id, content: await runThroughOpenExec(client, runId, call) });
    }
  }
  throw new Error('the model did not finish within 8 turns');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const client = new OpenExecClient({
    url: process.env['OPENEXEC_URL'] ?? 'http://127.0.0.1:5000',
    token: process.env['OPENEXEC_AGENT_TOKEN'],
  });
  const answer = await toolLoop(client, process.env['RUN_ID'] ?? `run-${Date.now()}`, 'What is 2 + 40? Then say hello.');
  process.stdout.write(`${answer}\n`);
}
