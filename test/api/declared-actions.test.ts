import { afterEach, describe, expect, test } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { get, post, startServer, tempDir, type RunningServer } from '../support/harness.ts';
import { jobAction, script, startJobService, GREET, stringSchema } from '../support/declared.ts';
import { rawDb } from '../support/raw-db.ts';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

function manifest(actions: Record<string, unknown>, dir = tempDir()): string {
  const file = join(dir, 'actions.yaml');
  writeFileSync(file, toYaml({ actions }));
  return file;
}

async function serve(env: Record<string, string>): Promise<RunningServer> {
  const s = await startServer(env);
  running.push(s);
  return s;
}

function receipts(s: RunningServer): Record<string, any>[] {
  const rows = rawDb(s.app.core).prepare('SELECT body FROM receipts ORDER BY seq').pluck().all() as string[];
  return rows.map((b) => JSON.parse(b));
}

const greet = GREET;

describe('declared actions through the boundary', () => {
  test('/execute runs a declared action and every receipt carries its definition hash', async () => {
    const s = await serve({ OPENEXEC_ACTIONS: manifest({ greet }) });
    const defHash = s.app.core.registry.get('greet')!.definitionHash!;
    const r = await post(s.url, '/execute', { action: 'greet', payload: { name: 'ana' }, nonce: 'n-1' });
    expect(r.status).toBe(200);
    expect(r.body.result).toMatchObject({ exit_code: 0, stdout: 'hello ana\n', truncated: false });
    const executed = receipts(s).find((b) => b.event === 'executed')!;
    expect(executed.action_def_hash).toBe(defHash);
    // A built-in has none.
    await post(s.url, '/execute', { action: 'add', payload: { a: 1, b: 2 }, nonce: 'n-2' });
    expect(receipts(s).at(-1)).not.toHaveProperty('action_def_hash');
  });

  test('a payload that fails its schema is refused 422 with the schema message, at /execute and /proposals, before anything runs', async () => {
    const dir = tempDir();
    const marker = join(dir, 'ran');
    const touch = {
      kind: 'run',
      description: 'Touch',
      risk: 'low',
      program: script(`touch ${marker}`, dir),
      payload_schema: stringSchema('name'),
    };
    const s = await serve({ OPENEXEC_ACTIONS: manifest({ touch }), OPENEXEC_MODE: 'clawshield' });
    const execute = await post(s.url, '/execute', { action: 'touch', payload: { name: 'x', extra: true }, nonce: 'e-1' });
    expect(execute.status).toBe(422);
    expect(execute.body.detail).toBe("Payload refused by the schema of 'touch': payload must NOT have additional properties ('extra')");
    const proposal = await post(s.url, '/proposals', { action: 'touch', payload: {}, nonce: 'p-1' });
    expect(proposal.status).toBe(422);
    expect(proposal.body.detail).toBe("Payload refused by the schema of 'touch': payload must have required property 'name'");
    expect(existsSync(marker)).toBe(false);
    expect(
      receipts(s)
        .filter((b) => b.event === 'refused')
        .map((b) => b.status),
    ).toEqual([422, 422]);
  });

  test('propose, see exactly what will run, approve: the receipts name the definition', async () => {
    const root = tempDir();
    const note = {
      kind: 'write_file',
      description: 'Write a note',
      risk: 'medium',
      root,
      path: 'notes/{file}',
      content: '{text}',
      payload_schema: stringSchema('file', 'text'),
    };
    const s = await serve({ OPENEXEC_ACTIONS: manifest({ greet, note }) });
    const defHash = s.app.core.registry.get('note')!.definitionHash!;
    const proposed = await post(s.url, '/proposals', { action: 'note', payload: { file: 'a.txt', text: 'hi' }, nonce: 'p-1' });
    expect(proposed.status).toBe(202);
    expect(proposed.body.action_def_hash).toBe(defHash);
    const pending = await s.app.console.listPending();
    if (!pending.ok) throw new Error(pending.error.message);
    expect(pending.value[0]!.preview).toEqual({
      kind: 'write_file',
      lines: [`write ${root}/notes/a.txt`, '2 bytes, mode 0600, refused if the file exists'],
      risk: 'medium',
      definitionHash: defHash,
    });
    const approved = await s.app.console.approve({ id: proposed.body.id });
    expect(approved.ok && approved.value.status).toBe('executed');
    expect(readFileSync(join(root, 'notes/a.txt'), 'utf8')).toBe('hi');
    const trail = receipts(s).filter((b) => b.proposal_id === proposed.body.id);
    expect(trail.map((b) => [b.event, b.action_def_hash])).toEqual([
      ['proposed', defHash],
      ['approved', defHash],
      ['executed', defHash],
    ]);
  });

  test('a definition changed while a proposal waited refuses its execution, with a receipt, and nothing runs', async () => {
    const dataDir = tempDir();
    const work = tempDir();
    const marker = join(work, 'ran');
    const touch = (argv: string[]) => ({
      kind: 'run',
      description: 'Touch',
      risk: 'high',
      program: '/usr/bin/touch',
      argv,
      payload_schema: stringSchema('name'),
    });
    const file = manifest({ touch: touch([`${marker}-{name}`]) }, work);
    const first = await serve({ OPENEXEC_ACTIONS: file, OPENEXEC_DATA_DIR: dataDir });
    const proposed = await post(first.url, '/proposals', { action: 'touch', payload: { name: 'x' }, nonce: 'p-1' });
    const before = proposed.body.action_def_hash as string;
    await first.app.close();
    running.splice(0);

    writeFileSync(file, toYaml({ actions: { touch: touch([`${marker}-{name}`, `${marker}-also`]) } }));
    const second = await serve({ OPENEXEC_ACTIONS: file, OPENEXEC_DATA_DIR: dataDir });
    const now = second.app.core.registry.get('touch')!.definitionHash!;
    expect(now).not.toBe(before);
    const shown = await second.app.console.listPending();
    expect(shown.ok && shown.value[0]!.preview!.lines[0]).toBe(
      `the definition changed since this was proposed (was ${before}): approving will be refused`,
    );
    const approved = await second.app.console.approve({ id: proposed.body.id });
    if (!approved.ok) throw new Error(approved.error.message);
    expect(approved.value.status).toBe('failed');
    expect(approved.value.reason).toBe(
      `The definition of 'touch' changed after it was proposed (proposed ${before}, now ${now}); not executed`,
    );
    expect(existsSync(`${marker}-x`)).toBe(false);
    const refused = receipts(second).find((b) => b.event === 'refused' && b.proposal_id === proposed.body.id)!;
    expect(refused).toMatchObject({ status: 409, action_def_hash: now });
    // The restart recorded the change of manifest.
    const config = receipts(second).filter((b) => b.event === 'config');
    expect(config.map((b) => [b.details.added, b.details.changed])).toEqual([
      [['touch'], []],
      [[], ['touch']],
    ]);
    expect(config[1]!.details.previous_hash).toBe(config[0]!.details.manifest_hash);
    const health = await second.app.console.health();
    expect(health.ok && health.value.manifest).toEqual({ path: file, hash: config[1]!.details.manifest_hash, count: 1 });
  });

  test('64 concurrent requests with one nonce run the program once', async () => {
    const work = tempDir();
    const log = join(work, 'runs');
    const once = {
      kind: 'run',
      description: 'Append',
      risk: 'low',
      program: script(`echo ran >> ${log}; sleep 0.2`, work),
      payload_schema: { type: 'object' },
    };
    const s = await serve({ OPENEXEC_ACTIONS: manifest({ once }) });
    const answers = await Promise.all(
      Array.from({ length: 64 }, () => post(s.url, '/execute', { action: 'once', payload: {}, nonce: 'same' })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(64).fill(200));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(readFileSync(log, 'utf8')).toBe('ran\n');
  });

  test('header secrets reach the service but never a receipt', async () => {
    const service = await startJobService();
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'job-token'), 'Bearer s3cr3t-from-file\n', { mode: 0o600 });
    const job = jobAction(service.port, { file: 'job-token' });
    try {
      const s = await serve({ OPENEXEC_ACTIONS: manifest({ job }), OPENEXEC_DATA_DIR: dataDir });
      const r = await post(s.url, '/execute', { action: 'job', payload: { id: '7' }, nonce: 'j-1' });
      expect(r.body.result).toEqual({
        status: 200,
        headers: { 'content-type': 'application/json', 'content-length': '16' },
        body: '{"state":"done"}',
        truncated: false,
      });
      expect(service.authorization()).toBe('Bearer s3cr3t-from-file');
      const all = rawDb(s.app.core).prepare('SELECT body FROM receipts').pluck().all().join('\n');
      expect(all).not.toContain('s3cr3t');
      expect((await get(s.url, '/health')).status).toBe(200);
    } finally {
      service.close();
    }
  });
});

describe('a manifest that cannot be used stops start-up', () => {
  test('with one line naming the file, the action and the field', async () => {
    const { spawn } = await import('node:child_process');
    const { NODE_BIN } = await import('../support/server-process.ts');
    const { REPO_ROOT } = await import('../support/harness.ts');
    const file = manifest({ greet: { ...greet, argv: ['{who}'] } });
    const child = spawn(NODE_BIN, ['--import', 'tsx', 'src/main/headless.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: tempDir(), OPENEXEC_ACTIONS: file },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toBe(`openexec: ${file}: action 'greet': argv[0]: {who} must be a required property of payload_schema\n`);
  });
});

describe('a crash while a declared program runs', () => {
  test('is closed as interrupted at the next start, with its definition hash, and never re-run', async () => {
    const { spawnServer, waitForExit } = await import('../support/server-process.ts');
    const dataDir = tempDir();
    const work = tempDir();
    const log = join(work, 'runs');
    // The program kills the server that started it, mid-run.
    const crash = {
      kind: 'run',
      description: 'Crash the host',
      risk: 'high',
      program: script(`echo ran >> ${log}; kill -9 $PPID; sleep 1`, work),
      payload_schema: { type: 'object' },
    };
    const file = manifest({ crash }, work);
    const server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_ACTIONS: file });
    await expect(post(server.url, '/execute', { action: 'crash', payload: {}, nonce: 'c-1' })).rejects.toThrow();
    expect((await waitForExit(server.child)).signal).toBe('SIGKILL');

    const again = await serve({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_ACTIONS: file });
    const interrupted = receipts(again).find((b) => b.event === 'failed')!;
    expect(interrupted.reason).toMatch(/^Interrupted: /);
    expect(interrupted.action_def_hash).toBe(again.app.core.registry.get('crash')!.definitionHash);
    const retry = await post(again.url, '/execute', { action: 'crash', payload: {}, nonce: 'c-1' });
    expect(retry.status).toBe(500);
    expect(retry.body.detail).toMatch(/^Interrupted: /);
    expect(readFileSync(log, 'utf8')).toBe('ran\n');
  });
});
