import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { get, post, REPO_ROOT, startServer, tempDir, type RunningServer } from './harness.ts';
import { executeWire, TestApprover } from './clawshield.ts';

export interface EveryEventLedger {
  server: RunningServer;
  approver: TestApprover;
  /** Where the approver's public key (PEM) and the manifest live. */
  dir: string;
  approverKeyFile: string;
}

async function expectStatus(what: string, answer: Promise<{ status: number; text: string }>, status: number): Promise<void> {
  const r = await answer;
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.text}`);
}

function okValue<T>(what: string, r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(`${what}: ${r.error.message}`);
  return r.value;
}

/**
 * A real server (ClawShield mode, a declared action that times out) whose ledger holds every
 * event kind a receipt can record, each made the way an agent or operator makes it.
 */
export async function everyEventLedger(): Promise<EveryEventLedger> {
  const dir = tempDir('openexec-every-event-');
  const approver = new TestApprover();
  const approverKeyFile = join(dir, 'clawshield.pem');
  writeFileSync(approverKeyFile, approver.publicKeyPem);
  const manifest = join(dir, 'actions.yaml');
  writeFileSync(
    manifest,
    toYaml({
      actions: {
        stall: {
          kind: 'run',
          description: 'Sleeps past its timeout: its ending is failed',
          risk: 'low',
          program: '/bin/sleep',
          argv: ['5'],
          timeout_ms: 200,
          payload_schema: { type: 'object' },
        },
      },
    }),
  );
  // config: the manifest's receipt at start-up.
  const server = await startServer({
    OPENEXEC_MODE: 'clawshield',
    CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem,
    OPENEXEC_ACTIONS: manifest,
  });
  const { url } = server;
  const add = '{"a":1,"b":2.5}';
  const artifact = approver.mint('add', add);
  // executed, then replayed (the same request again).
  await expectStatus('executed', post(url, '/execute', executeWire('add', add, 'every-1', artifact)), 200);
  await expectStatus('replayed', post(url, '/execute', executeWire('add', add, 'every-1', artifact)), 200);
  // refused before anything ran: no artifact, and no payload at all (recorded as {}).
  await expectStatus('refused', post(url, '/execute', executeWire('add', null, 'every-2')), 403);
  // refused by the handler after an approval authorised it.
  const bad = '{"a":"one","b":2}';
  await expectStatus('handler refusal', post(url, '/execute', executeWire('add', bad, 'every-3', approver.mint('add', bad))), 400);
  // failed: the declared action times out.
  await expectStatus('failed', post(url, '/execute', executeWire('stall', '{}', 'every-4', approver.mint('stall', '{}'))), 500);
  // proposed, approved (by the operator) and executed.
  const approvedP = await post(url, '/proposals', { action: 'add', payload: { a: 2, b: 3 }, nonce: 'every-5', context: 'sum it' });
  okValue('approve', await server.app.console.approve({ id: approvedP.body.id }));
  // proposed and denied.
  const deniedP = await post(url, '/proposals', { action: 'add', payload: { a: 4, b: 5 }, nonce: 'every-6' });
  okValue('deny', await server.app.console.deny({ id: deniedP.body.id, reason: 'not today' }));
  // proposed and extended (left pending).
  const extendedP = await post(url, '/proposals', { action: 'add', payload: { a: 6, b: 7 }, nonce: 'every-7' });
  okValue('extend', await server.app.console.extend({ id: extendedP.body.id, seconds: 60 }));
  // proposed and expired.
  const expiringP = await post(url, '/proposals', { action: 'add', payload: { a: 8, b: 9 }, nonce: 'every-8', ttl_seconds: 1 });
  const expired = await get(url, `/proposals/${expiringP.body.id}?wait=15`);
  if (expired.body?.status !== 'expired') throw new Error(`expected an expired proposal, got ${expired.text}`);
  // reported: a client (Claude Code's PostToolUse) tells what it ran itself.
  const postToolUse = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/claude-code/post-bash.json'), 'utf8')) as object;
  await expectStatus('reported', post(url, '/hooks/claude-code', { ...postToolUse, tool_use_id: 'every-hook' }), 200);
  // config: an allow-list change.
  okValue('allow-list', await server.app.console.setAllowed({ action: 'stall', allowed: false }));
  return { server, approver, dir, approverKeyFile };
}
