import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { JsonObject, JsonValue } from '../../json/json-value.ts';
import { HandlerInputError } from '../action-registry.ts';
import { fieldText, render, startsWithField, wholeField, type Template } from './template.ts';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/** What a program sees of OpenExec's own environment unless the manifest lists more. */
export const INHERITED_ENV = ['PATH', 'HOME', 'LANG'] as const;
/** A process that left its group (setsid) may hold the pipes open; we stop reading after this. */
const DRAIN_GRACE_MS = 1000;

export interface RunSpec {
  program: string;
  sha256: string | null;
  argv: readonly Template[];
  /** Fields whose whole-element values may start with '-' (the schema says so). */
  dashAllowed: ReadonlySet<string>;
  cwd: string;
  env: Readonly<Record<string, string>>;
  stdin: Template | null;
  timeoutMs: number;
  maxOutputBytes: number;
}

/** The argv this payload gives; refuses option injection through a field. */
export function renderArgv(spec: RunSpec, payload: JsonObject): string[] {
  return spec.argv.map((t, i) => {
    const whole = wholeField(t);
    const value = whole === null ? render(t, payload) : fieldText(payload, whole);
    // Only a value that starts the element can be taken for an option; a literal prefix
    // such as `--name={name}` keeps it an argument.
    if (value.startsWith('-') && startsWithField(t) && !(whole !== null && spec.dashAllowed.has(whole))) {
      throw new HandlerInputError(`argv[${i}]: a value starting with '-' is refused (it would be read as an option)`);
    }
    if (value.includes('\0')) throw new HandlerInputError(`argv[${i}]: a value with a NUL byte cannot be an argument`);
    return value;
  });
}

export async function programDigest(program: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(program))
    .digest('hex');
}

/** Collects a stream up to a cap, draining the rest so the program never blocks on a full pipe. */
class Capped {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    const room = this.cap - this.size;
    if (room <= 0) {
      this.truncated ||= chunk.length > 0;
      return;
    }
    if (chunk.length > room) this.truncated = true;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * Runs the program with no shell, in its own process group, with only the environment the
 * manifest gives. On timeout, and once the program has exited, the whole group is killed:
 * nothing it started outlives the execution.
 */
export async function runProgram(spec: RunSpec, payload: JsonObject): Promise<JsonValue> {
  const args = renderArgv(spec, payload);
  const input = spec.stdin ? render(spec.stdin, payload) : null;
  if (spec.sha256 !== null) {
    const digest = await programDigest(spec.program);
    if (digest !== spec.sha256) throw new Error(`${spec.program} has sha256 ${digest}, not the pinned ${spec.sha256}; not run`);
  }
  const started = performance.now();
  const child = spawn(spec.program, args, {
    cwd: spec.cwd,
    env: { ...spec.env },
    shell: false,
    detached: true,
    stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const stdout = new Capped(spec.maxOutputBytes);
  const stderr = new Capped(spec.maxOutputBytes);
  // Both are pipes (stdio above), so never null.
  const pipes = [child.stdout!, child.stderr!];
  pipes[0]!.on('data', (c: Buffer) => stdout.push(c));
  pipes[1]!.on('data', (c: Buffer) => stderr.push(c));
  if (input !== null && child.stdin) {
    child.stdin.on('error', () => {}); // a program that does not read its input closes the pipe early
    child.stdin.end(input);
  }
  let timedOut = false;
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    // 'exit' rather than 'close': a forked child holding the pipes open must not keep us waiting.
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) killGroup(child.pid);
  }, spec.timeoutMs);
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await ended;
  } catch (err) {
    throw new Error(`cannot start ${spec.program}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  } finally {
    clearTimeout(timer);
    if (child.pid !== undefined) killGroup(child.pid);
  }
  await outputDrained(pipes);
  const durationMs = Math.round(performance.now() - started);
  if (timedOut) throw new Error(`timed out after ${spec.timeoutMs} ms; its process group was killed`);
  const result = Object.create(null) as JsonObject;
  result['exit_code'] = exit.code === null ? null : BigInt(exit.code);
  result['signal'] = exit.signal;
  result['stdout'] = stdout.text();
  result['stderr'] = stderr.text();
  result['truncated'] = stdout.truncated || stderr.truncated;
  result['duration_ms'] = BigInt(durationMs);
  return result;
}

/** Output still in the pipes once the group is dead; a bounded wait for anything that escaped it. */
async function outputDrained(streams: import('node:stream').Readable[]): Promise<void> {
  const closed = (s: import('node:stream').Readable) =>
    s.closed ? Promise.resolve() : new Promise<void>((resolve) => s.once('close', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_GRACE_MS)));
  await Promise.race([Promise.all(streams.map(closed)), late]);
  clearTimeout(timer);
  for (const s of streams) s.destroy();
}
