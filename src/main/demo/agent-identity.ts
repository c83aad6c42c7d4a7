import { z } from 'zod';
import { DemoAgent } from './agent.ts';
import { runCommand } from './demo-commands.ts';
import { DemoSetupError, OPENEXEC_BIN } from './demo-server.ts';
import type { Narrator } from './narrator.ts';

const added = z.object({ name: z.string(), token: z.string().min(1) });

/**
 * Gives the scripted agent its identity as an operator would (`openexec agents add NAME`, a
 * `config` receipt), and the client an integrator writes around the token it prints. The token
 * is shown cut short: it is a secret, and the ledger only keeps its hash.
 */
export async function registerAgent(narrator: Narrator, dataDir: string, name: string, url: string): Promise<DemoAgent> {
  narrator.line('operator', `gives the agent an identity: $ openexec agents add ${name}`);
  const r = await runCommand(OPENEXEC_BIN, ['agents', 'add', name, '--json'], { OPENEXEC_DATA_DIR: dataDir });
  let parsed: z.infer<typeof added>;
  try {
    if (r.code !== 0) throw new Error(r.output.trim().split('\n')[0] ?? `exit ${r.code}`);
    parsed = added.parse(JSON.parse(r.output));
  } catch (err) {
    throw new DemoSetupError(`openexec agents add ${name} failed: ${(err as Error).message}`);
  }
  narrator.line(
    'operator',
    `agent ${parsed.name} added; its token (${parsed.token.slice(0, 8)}…) is shown once and handed to the agent; OpenExec keeps only its hash`,
  );
  narrator.line('agent', `> const openexec = new OpenExecClient({ url: '${url}', token })   // from 'openexec-console/client'`);
  return new DemoAgent(parsed.name, url, parsed.token);
}
