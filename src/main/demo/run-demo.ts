/**
 * `openexec demo` / `npm run demo`: OpenExec headless on a fresh data directory, and a scripted
 * agent that plays a scenario against the real API while the terminal tells the story.
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DemoApprover } from './approver.ts';
import { Keyboard, KeyboardClosed } from './keyboard.ts';
import { Narrator } from './narrator.ts';
import { DemoOperator } from './operator.ts';
import { loadScenario, ScenarioError, type Step } from './scenario.ts';
import {
  DemoSetupError,
  displayAvailable,
  freshDataDir,
  installDemoActions,
  REPO_ROOT,
  startDemoServer,
  WindowUnavailable,
  type DemoServer,
} from './demo-server.ts';
import { StepFailed, type DemoContext } from './demo-context.ts';
import { decide, execute, grant, propose, replay, tamper, wait } from './request-steps.ts';
import { registerAgent } from './agent-identity.ts';
import { verify } from './verify-steps.ts';
import { RECEIPT_EVENTS, type ReceiptDto } from '../../shared/console-dto.ts';
import { tolerateUnwritableStdio } from '../app/tolerant-stdio.ts';

export const BUILTIN_SCENARIO = join(REPO_ROOT, 'demo/scenarios/tour.yaml');

export const DEMO_USAGE = `usage: openexec demo [--auto] [--step] [--headless] [--data-dir DIR] [--scenario FILE]

  --auto            play the operator's decisions too (no keys needed, no window)
  --headless        no console window even where Electron runs (decide with keys here)
  --step            wait for Enter before each step
  --data-dir DIR    keep the demo's ledger in DIR (new or empty); default: a temporary folder
  --scenario FILE   run this scenario (YAML, docs/demo/scenarios.md) instead of the built-in one`;

/** The names a step refers to: the receipts it leaves are filed under them. */
function namesOf(step: Step): string[] {
  switch (step.kind) {
    case 'propose':
      return [step.as];
    case 'execute':
      return step.as ? [step.as] : [];
    case 'replay':
      return [step.of];
    case 'wait':
      return [step.for];
    case 'decide':
      return [step.proposal];
    case 'grant':
      return [step.as, step.proposal];
    default:
      return [];
  }
}

async function runStep(ctx: DemoContext, step: Step, index: number): Promise<void> {
  switch (step.kind) {
    case 'propose':
      return propose(ctx, step, index);
    case 'execute':
      return execute(ctx, step, index);
    case 'replay':
      return replay(ctx, step);
    case 'tamper':
      return tamper(ctx, step, index);
    case 'wait':
      return wait(ctx, step);
    case 'decide':
      return decide(ctx, step);
    case 'grant':
      return grant(ctx, step);
    case 'verify':
      return verify(ctx, step);
  }
}

/** What a receipt's signed body says about who asked and under which grant it ran. */
function whoAndGrant(r: ReceiptDto): string {
  const body = JSON.parse(r.body) as { agent?: unknown; grant_id?: unknown; grant_use?: unknown };
  const agent = typeof body.agent === 'string' ? ` by agent ${body.agent}` : '';
  const grant =
    typeof body.grant_id === 'string' && body.grant_use !== undefined
      ? ` under grant ${body.grant_id.slice(0, 8)}… (use ${String(body.grant_use)})`
      : '';
  return agent + grant;
}

/** Tells what each new receipt says, and files it under the step's names. */
async function narrateReceipts(ctx: DemoContext, step: Step, afterSeq: number): Promise<number> {
  const fresh = await ctx.operator.receiptsAfter(afterSeq);
  for (const r of fresh) {
    const why = r.reason ? `: ${r.reason}` : '';
    ctx.narrator.line('receipt', `#${r.seq} ${r.event} '${r.action ?? '-'}'${whoAndGrant(r)}${why} (signed, hash ${r.hash.slice(0, 12)}…)`);
    for (const name of namesOf(step)) ctx.receiptsOf.set(name, [...(ctx.receiptsOf.get(name) ?? []), r.seq]);
  }
  return fresh.at(-1)?.seq ?? afterSeq;
}

export async function runDemo(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      auto: { type: 'boolean', default: false },
      headless: { type: 'boolean', default: false },
      step: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      scenario: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const write = (text: string) => process.stdout.write(text);
  const fail = (line: string, code: number) => {
    process.stderr.write(`openexec demo: ${line}\n`);
    return code;
  };
  if (values.help) {
    write(`${DEMO_USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) return fail(`unexpected argument '${positionals[0]}' (see openexec demo --help)`, 2);
  let scenario;
  try {
    scenario = loadScenario(values.scenario ?? BUILTIN_SCENARIO);
  } catch (err) {
    if (err instanceof ScenarioError) return fail(err.message, 2);
    throw err;
  }
  const color = process.stdout.isTTY === true || process.env['FORCE_COLOR'] === '1';
  const narrator = new Narrator(write, color);
  const needKeys = !values.auto || values.step;
  let keyboard: Keyboard | null = null;
  let server: DemoServer | null = null;
  let data: { dataDir: string; temporary: boolean } | null = null;
  let current = '';
  // Stopped by the presenter at any moment: the server is stopped and a temporary ledger removed.
  const interrupt = () => {
    process.stderr.write(`openexec demo: stopped${current ? ` at ${current}` : ''}\n`);
    keyboard?.close();
    void (server?.stop() ?? Promise.resolve()).finally(() => {
      if (data?.temporary) rmSync(data.dataDir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupt);
  // A reader that goes away (`| head`) stops the demo the same way; a line that cannot be
  // written is dropped rather than ending the process before the server is stopped.
  tolerateUnwritableStdio();
  process.stdout.once('error', interrupt);
  try {
    data = freshDataDir(values['data-dir']);
    const { dataDir } = data;
    const approver = new DemoApprover();
    const { manifest, actions } = installDemoActions(dataDir);
    narrator.banner(scenario.title);
    narrator.line('demo', `declared actions: ${actions.join(', ')} (from demo/actions.yaml); the approver's key is made for this run`);
    const start = (host: 'window' | 'headless') => {
      narrator.line(
        'demo',
        `starting OpenExec ${host === 'window' ? 'in its console window' : 'headless'} on ${dataDir} (ClawShield mode: nothing runs without an approval)`,
      );
      return startDemoServer(host, dataDir, approver.publicKeyPem, manifest, actions);
    };
    // The presenter's console window where Electron runs; hands-off runs need none.
    if (!values.auto && !values.headless && displayAvailable()) {
      server = await start('window').catch((err: unknown) => {
        if (!(err instanceof WindowUnavailable)) throw err;
        narrator.line('demo', `no console window: ${err.message}`);
        return null;
      });
      if (server) narrator.line('operator', 'decide in the console window (Pending), or with single keys here');
    }
    server ??= await start('headless');
    narrator.line('demo', `OpenExec is listening on ${server.url}; every agent request must carry an agent token`);
    const agent = await registerAgent(narrator, dataDir, scenario.agent, server.url);
    if (needKeys) keyboard = new Keyboard(process.stdin, interrupt);
    const ctx: DemoContext = {
      agent,
      approver,
      operator: new DemoOperator(dataDir, narrator, values.auto ? null : keyboard),
      narrator,
      dataDir,
      evidenceDir: join(dataDir, 'demo-evidence'),
      runId: randomBytes(4).toString('hex'),
      proposals: new Map(),
      executions: new Map(),
      grants: new Map(),
      decisions: new Map(),
      receiptsOf: new Map(),
    };
    let lastSeq = (await ctx.operator.receiptsAfter(0)).at(-1)?.seq ?? 0;
    const total = scenario.steps.length;
    for (const [i, step] of scenario.steps.entries()) {
      current = `step ${i + 1} (${step.kind} "${step.title}")`;
      if (values.step && keyboard) {
        narrator.line('demo', 'press Enter for the next step');
        await keyboard.key(['\n']);
      }
      narrator.step(i + 1, total, step.kind, step.title);
      if (step.say) narrator.say(step.say);
      await runStep(ctx, step, i + 1);
      lastSeq = await narrateReceipts(ctx, step, lastSeq);
    }
    current = '';
    const counts = new Map<string, number>();
    for (const r of await ctx.operator.allReceipts()) counts.set(r.event, (counts.get(r.event) ?? 0) + 1);
    narrator.banner('The ledger');
    const tally = RECEIPT_EVENTS.filter((e) => counts.has(e)).map((e) => `${counts.get(e)} ${e}`);
    narrator.line('demo', `${tally.join(', ')}: every attempt left a signed receipt`);
    if (!data.temporary)
      narrator.line(
        'demo',
        `kept in ${dataDir}: OPENEXEC_DATA_DIR=${dataDir} openexec verify-ledger --approver-key ${join(dataDir, 'demo-evidence/approver-key.pem')}`,
      );
    return 0;
  } catch (err) {
    const why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    if (err instanceof DemoSetupError || err instanceof ScenarioError) return fail(why, 2);
    if (err instanceof KeyboardClosed) return fail(`${current ? `${current}: ` : ''}${why}`, 130);
    const kind = err instanceof StepFailed ? 'failed' : 'failed with an error';
    return fail(current ? `${current} ${kind}: ${why}` : `could not run: ${why}`, 1);
  } finally {
    process.off('SIGINT', interrupt);
    process.stdout.off('error', interrupt);
    keyboard?.close();
    await server?.stop();
    if (data?.temporary) rmSync(data.dataDir, { recursive: true, force: true });
  }
}
