import { afterAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { REPO_ROOT, tempDir } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { findElectronBinary } from '../../scripts/electron-binary.mjs';

const BIN = join(REPO_ROOT, 'bin/openexec');
const TOUR = join(REPO_ROOT, 'demo/scenarios/tour.yaml');
/** The whole tour starts a server and a dozen CLI processes: generous on a loaded machine. */
const DEMO_TIMEOUT_MS = 240_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `openexec demo …` in its own process, with no terminal: stdin is a pipe fed `input`. */
function demo(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(BIN, ['demo', ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `[n/N] title` for every step of the built-in tour: the heading the demo prints for it. */
function tourHeadings(): string[] {
  const steps = (parse(readFileSync(TOUR, 'utf8')) as { steps: Record<string, { title: string }>[] }).steps;
  return steps.map((s, i) => `[${i + 1}/${steps.length}] ${Object.values(s)[0]!.title}`);
}

/** Every receipt's signed body, oldest first, straight from the ledger file. */
function receiptsIn(dataDir: string): Record<string, unknown>[] {
  const db = new Database(join(dataDir, 'openexec.db'), { readonly: true, fileMustExist: true });
  try {
    const bodies = db.prepare('SELECT body FROM receipts ORDER BY seq').pluck().all() as string[];
    return bodies.map((b) => JSON.parse(b) as Record<string, unknown>);
  } finally {
    db.close();
  }
}

function eventsIn(dataDir: string): Set<string> {
  return new Set(receiptsIn(dataDir).map((r) => String(r['event'])));
}

describe('openexec demo', () => {
  const work = tempDir('openexec-demo-test-');
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const scenario = (name: string, text: string): string => {
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, text);
    return file;
  };

  test(
    '--auto --data-dir: every step printed, exit 0, a ledger verify-ledger accepts with every kind of receipt',
    async () => {
      const dir = join(work, 'kept');
      const r = await demo(['--auto', '--data-dir', dir]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      for (const heading of tourHeadings()) expect(r.stdout).toContain(heading);
      // The story's key moments, as the boundary told them.
      expect(r.stdout).toContain('Action hash mismatch');
      expect(r.stdout).toContain('already used for a different request');
      expect(r.stdout).toContain('Signature Verified Successfully');
      expect(r.stdout).toContain('receipts were removed');

      // The demo's approver key, which it leaves beside its evidence, vouches for its approvals.
      const verified = await cli(dir, 'verify-ledger', '--approver-key', join(dir, 'demo-evidence/approver-key.pem'));
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout).toMatch(/^ledger valid: \d+ receipts/m);
      const events = eventsIn(dir);
      for (const e of ['executed', 'refused', 'replayed', 'proposed', 'approved', 'denied', 'expired']) expect(events).toContain(e);
      // The approved note was written once, the liar's never.
      expect(readdirSync(join(dir, 'files/notes'))).toEqual(['meeting.md']);

      // The read ran under the grant the operator signed: no approval of its own, and its
      // receipt names the grant and the use; the replay of it spent no second use.
      const receipts = receiptsIn(dir);
      const granted = receipts.filter((r) => r['event'] === 'config' && String(r['reason']).includes(' granted: '));
      expect(granted).toHaveLength(1);
      const grantId = granted[0]!['grant_id'];
      expect(grantId).toMatch(/^[0-9a-f-]{36}$/);
      const underGrant = receipts.filter((r) => r['grant_id'] === grantId && r['event'] === 'executed');
      expect(underGrant).toHaveLength(1);
      expect(underGrant[0]).toMatchObject({ action: 'read-file', grant_use: 1, approver: 'operator', agent: 'demo-agent' });
      expect(underGrant[0]).not.toHaveProperty('approval_id');
      expect(r.stdout).toContain(`under grant ${String(grantId).slice(0, 8)}… (use 1)`);
      // The agent went through the client with its own identity: every receipt about an agent's
      // request names it.
      const byAgent = receipts.filter((r) =>
        ['proposed', 'approved', 'executed', 'refused', 'replayed', 'denied', 'expired'].includes(String(r['event'])),
      );
      expect(byAgent.length).toBeGreaterThan(10);
      for (const receipt of byAgent) expect(receipt['agent'], JSON.stringify(receipt)).toBe('demo-agent');
      expect(r.stdout).toContain('$ openexec agents add demo-agent');
      expect(r.stdout).toContain('> await openexec.execute({ action, payload, nonce })');
      // The truncated copy fails on the checkpoint alone, not on keys it could not find.
      expect(r.stdout).toContain('the chain alone still holds');
    },
    DEMO_TIMEOUT_MS,
  );

  test('a data directory that is not empty is refused before anything starts', async () => {
    const dir = join(work, 'busy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'something'), 'x');
    const r = await demo(['--auto', '--data-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `openexec demo: --data-dir ${dir} is not empty; the demo starts a fresh ledger (give a new or empty directory)\n`,
    );
    expect(readdirSync(dir)).toEqual(['something']);
  });

  test.each([
    [
      'a misspelt field',
      'title: t\nsteps:\n  - execute: { title: ok, action: greet, payload: { name: a }, approval: approver }\n  - propose: { title: p, as: p, action: greet, ttl: 2 }\n',
      'step 2 (propose): (the step itself): Unrecognized key: "ttl"',
    ],
    [
      'a field of the wrong type',
      'title: t\nsteps:\n  - propose: { title: p, as: p, action: greet, ttl_seconds: soon }\n',
      'step 1 (propose): ttl_seconds: Invalid input: expected number, received string',
    ],
    [
      'an unknown step kind',
      'title: t\nsteps:\n  - approve: { title: x }\n',
      "step 1: unknown step kind 'approve' (one of propose, execute, replay, tamper, wait, decide, grant, verify)",
    ],
    [
      'a grant without a limit',
      'title: t\nsteps:\n  - propose: { title: p, as: p, action: greet, payload: { name: a } }\n  - grant: { title: g, as: g, proposal: p }\n',
      'step 2 (grant): uses: a grant needs a limit: uses and/or for_seconds',
    ],
    [
      'an execution under a grant no earlier step issued',
      'title: t\nsteps:\n  - execute: { title: e, action: greet, payload: { name: a }, grant: g }\n',
      `step 1 (execute "e"): grant: no earlier grant step is named 'g'`,
    ],
    [
      'an agent name that cannot be registered',
      'title: t\nagent: "no spaces"\nsteps:\n  - propose: { title: p, as: p, action: greet }\n',
      "agent: must be 1-64 letters, digits, '.', '_' or '-'",
    ],
    [
      'a reference to no earlier step',
      'title: t\nsteps:\n  - decide: { title: d, proposal: ghost, decision: approve }\n',
      `step 1 (decide "d"): proposal: no earlier propose step is named 'ghost'`,
    ],
    ['no steps', 'title: t\nsteps: []\n', 'steps: Too small: expected array to have >=1 items'],
  ])('a scenario file with %s is refused in one line naming the file, the step and the field', async (_what, text, problem) => {
    const file = scenario(`bad-${readdirSync(work).length}`, text);
    const dir = join(work, `unused-${readdirSync(work).length}`);
    const r = await demo(['--auto', '--scenario', file, '--data-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`openexec demo: ${file}: ${problem}\n`);
    expect(r.stdout).toBe('');
    // Refused before any server or data directory was made.
    expect(existsSync(dir)).toBe(false);
  });

  test('the committed recording is an asciinema v2 cast of a whole run of the current built-in tour', () => {
    const [header, ...frames] = readFileSync(join(REPO_ROOT, 'docs/demo/demo.cast'), 'utf8').trimEnd().split('\n');
    expect(JSON.parse(header!)).toMatchObject({ version: 2, width: expect.any(Number), height: expect.any(Number) });
    const events = frames.map((f) => JSON.parse(f) as [number, string, string]);
    let last = 0;
    for (const [time, kind, text] of events) {
      expect(kind).toBe('o');
      expect(typeof text).toBe('string');
      expect(time).toBeGreaterThanOrEqual(last);
      last = time;
    }
    // Stale after the tour changes: `npm run demo:record` refreshes it.
    const shown = events
      .map((e) => e[2])
      .join('')
      .replace(/\x1b\[[0-9;]*m/g, '');
    for (const heading of tourHeadings()) expect(shown).toContain(heading);
    expect(shown).toContain('every attempt left a signed receipt');
  });

  test(
    'a custom small scenario runs step by step, the operator played from stdin (a denial the script did not expect)',
    async () => {
      const file = scenario(
        'small',
        [
          'title: A small one',
          'agent: small-agent',
          'steps:',
          '  - execute: { title: Greet at once, as: hi, action: greet, payload: { name: small }, approval: approver }',
          '  - propose: { title: Ask to write, as: w, action: write-note, payload: { name: n1, text: t } }',
          '  - decide: { title: Decide it, proposal: w, decision: approve }',
          '  - wait: { title: Outcome, for: w, until: executed }',
          '  - verify: { title: Ledger, check: ledger }',
        ].join('\n'),
      );
      const dir = join(work, 'small');
      // Not --auto: the presenter presses Enter before each step (--step) and answers 'd' (deny)
      // on stdin, against the script's approve.
      const r = await demo(['--step', '--scenario', file, '--data-dir', dir], '\n\n\nd\n\n\n');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('[1/5] Greet at once');
      expect(r.stdout.split('press Enter for the next step').length - 1).toBe(5);
      // The scenario's own agent name, registered before the first step (receipt #2).
      expect(r.stdout).toContain("#3 executed 'greet' by agent small-agent");
      expect(r.stdout).toContain('(the script would approve)');
      expect(r.stdout).toContain('learns: denied, because: Denied by the operator');
      expect(r.stdout).toContain('ledger valid:');
      const events = eventsIn(dir);
      expect(events).toContain('denied');
      expect(events).not.toContain('approved');
      expect(existsSync(join(dir, 'files/notes/n1.md'))).toBe(false);
    },
    DEMO_TIMEOUT_MS,
  );

  test(
    'a presenter who declines the grant: the proposal is denied, nothing is granted, and the read that needed it is refused',
    async () => {
      const file = scenario(
        'declined',
        [
          'title: Declined',
          'steps:',
          '  - propose: { title: Ask, as: ask, action: read-file, payload: { file: welcome.txt } }',
          '  - grant: { title: Grant it, as: g, proposal: ask, uses: 2 }',
          '  - execute: { title: Read under it, action: read-file, payload: { file: welcome.txt }, grant: g }',
          '  - wait: { title: Outcome, for: ask, until: executed }',
        ].join('\n'),
      );
      const dir = join(work, 'declined');
      const r = await demo(['--scenario', file, '--data-dir', dir], 'd\n');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('limit: 2 uses');
      expect(r.stdout).toContain('[g] approve and grant [d] deny (the script would grant)');
      expect(r.stdout).toContain('no grant covers it (the operator did not grant one): refused, nothing ran');
      expect(r.stdout).toContain('learns: denied');
      const receipts = receiptsIn(dir);
      expect(receipts.some((x) => 'grant_id' in x)).toBe(false);
      expect(receipts.filter((x) => x['event'] === 'executed')).toEqual([]);
      expect(receipts.filter((x) => x['event'] === 'refused')).toHaveLength(1);
    },
    DEMO_TIMEOUT_MS,
  );

  test(
    'interactive: a decision taken in another console (here `openexec deny`) while the demo waits for a key is the one that counts',
    async () => {
      const file = scenario(
        'elsewhere',
        [
          'title: Elsewhere',
          'steps:',
          '  - propose: { title: Ask, as: ask, action: greet, payload: { name: room } }',
          '  - decide: { title: Decide it, proposal: ask, decision: approve }',
          '  - wait: { title: Outcome, for: ask, until: executed }',
        ].join('\n'),
      );
      const dir = join(work, 'elsewhere');
      // stdin stays open and silent: the presenter presses nothing in the terminal.
      const child = spawn(BIN, ['demo', '--scenario', file, '--data-dir', dir], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      while (!stdout.includes('your decision:')) {
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const pending = await cli(dir, 'pending', '--json');
      const id = /"id":\s*"([0-9a-f-]{36})"/.exec(pending.stdout)?.[1];
      expect(id, pending.stdout + pending.stderr).toBeDefined();
      const denied = await cli(dir, 'deny', id!, '--reason', 'Decided in the console');
      expect(denied.code, denied.stderr).toBe(0);
      const code = await closed;
      child.stdin.end();
      expect(code, stdout + stderr).toBe(0);
      expect(stdout).toContain('decided elsewhere (a console on this ledger): the proposal is denied');
      expect(stdout).toContain('learns: denied, because: Decided in the console');
      expect(eventsIn(dir)).not.toContain('executed');
    },
    DEMO_TIMEOUT_MS,
  );

  test.skipIf('path' in findElectronBinary())(
    'interactive with a display but no Electron binary: it says why there is no console window and runs headless',
    async () => {
      const file = scenario('windowless', 'title: Windowless\nsteps:\n  - verify: { title: Ledger, check: ledger }\n');
      const dir = join(work, 'windowless');
      const r = await new Promise<Run>((resolve) => {
        const child = spawn(BIN, ['demo', '--scenario', file, '--data-dir', dir], {
          cwd: REPO_ROOT,
          env: { ...process.env, DISPLAY: ':99' },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdin.end();
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const flat = r.stdout.replace(/\n\s+\| /g, ' ');
      expect(flat).toContain('starting OpenExec in its console window');
      expect(flat).toContain('no console window: OpenExec exited (code 1) before it was ready: openexec: cannot open the console window:');
      expect(flat).toContain('starting OpenExec headless');
      expect(flat).toContain('ledger valid:');
    },
    DEMO_TIMEOUT_MS,
  );

  test(
    'a failing step exits non-zero, saying which step and why, and stops the server',
    async () => {
      const file = scenario(
        'failing',
        [
          'title: Fails',
          'steps:',
          '  - execute: { title: Runs without approval, action: greet, payload: { name: x } }',
          '  - verify: { title: Never reached, check: ledger }',
        ].join('\n'),
      );
      const dir = join(work, 'failing');
      const r = await demo(['--auto', '--scenario', file, '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'openexec demo: step 1 (execute "Runs without approval") failed: expected the execution to run (200), got HTTP 403: ClawShield mode requires an approval artifact\n',
      );
      expect(r.stdout).not.toContain('Never reached');
      // The server is gone: its lock is free and the ledger verifies.
      expect(existsSync(join(dir, 'openexec.lock'))).toBe(false);
      expect((await cli(dir, 'verify-ledger')).code).toBe(0);
    },
    DEMO_TIMEOUT_MS,
  );
});
