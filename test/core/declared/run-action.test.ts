import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HandlerInputError } from '../../../src/main/core/actions/action-registry.ts';
import { tempDir } from '../../support/harness.ts';
import { declare, payload, script, stringSchema } from '../../support/declared.ts';

const run = (action: ReturnType<typeof declare>, p: unknown) => Promise.resolve(action.run(payload(p))) as Promise<Record<string, unknown>>;
const base = { description: 'test', risk: 'low' };

/** Gone, or a zombie nobody has reaped yet: either way no longer running. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('run: real programs, no shell', () => {
  test('/bin/echo with a whole-element field and /usr/bin/printf with a format', async () => {
    const echo = declare('e', {
      ...base,
      kind: 'run',
      program: '/bin/echo',
      argv: ['hello', '{name}'],
      payload_schema: stringSchema('name'),
    });
    const r = await run(echo, { name: 'world; rm -rf / $(id)' });
    expect(r).toMatchObject({ exit_code: 0n, signal: null, stdout: 'hello world; rm -rf / $(id)\n', stderr: '', truncated: false });
    expect(typeof r['duration_ms']).toBe('bigint');
    const printf = declare('p', {
      ...base,
      kind: 'run',
      program: '/usr/bin/printf',
      argv: ['hello %s, id=%s\\n', '{name}', 'x{name}y'],
      payload_schema: stringSchema('name'),
    });
    expect((await run(printf, { name: 'ana' }))['stdout']).toBe('hello ana, id=xanay\n');
  });

  test('a whole-element value starting with - is refused unless the schema allows it', async () => {
    const echo = declare('e', { ...base, kind: 'run', program: '/bin/echo', argv: ['{name}'], payload_schema: stringSchema('name') });
    await expect(run(echo, { name: '-n' })).rejects.toThrow(HandlerInputError);
    await expect(run(echo, { name: '-n' })).rejects.toThrow(/argv\[0\]: a value starting with '-' is refused/);
    await expect(run(echo, { name: 'a\u0000b' })).rejects.toThrow(/argv\[0\]: a value with a NUL byte/);
    const inside = declare('i', {
      ...base,
      kind: 'run',
      program: '/bin/echo',
      argv: ['--name={name}', '{a}{name}'],
      payload_schema: stringSchema('name', 'a'),
    });
    await expect(run(inside, { name: '-x', a: '-' })).rejects.toThrow(/argv\[1\]/);
    expect((await run(inside, { name: '-x', a: 'a' }))['stdout']).toBe('--name=-x a-x\n');
    const allowed = declare('a', {
      ...base,
      kind: 'run',
      program: '/bin/echo',
      argv: ['{n}'],
      payload_schema: { type: 'object', properties: { n: { type: 'string', 'x-allow-leading-dash': true } }, required: ['n'] },
    });
    expect((await run(allowed, { n: '-e' }))['stdout']).toBe('\n');
  });

  test('exit status, stdin from a field and the preview', async () => {
    const failing = declare('f', { ...base, kind: 'run', program: script('echo oops >&2; exit 3'), payload_schema: { type: 'object' } });
    expect(await run(failing, {})).toMatchObject({ exit_code: 3n, stderr: 'oops\n' });
    const cat = declare('c', { ...base, kind: 'run', program: '/bin/cat', stdin: 'dear {who}', payload_schema: stringSchema('who') });
    expect((await run(cat, { who: 'ana' }))['stdout']).toBe('dear ana');
    const echo = declare('e', { ...base, kind: 'run', program: '/bin/echo', argv: ['hi', '{name}'], payload_schema: stringSchema('name') });
    expect(echo.preview!(payload({ name: "it's me" }))).toEqual([`/bin/echo hi 'it'\\''s me'`]);
    // A newline or carriage return cannot hide the rest of the command line from the operator.
    expect(echo.preview!(payload({ name: 'ok\r\n; evil' }))).toEqual([`/bin/echo hi $'ok\\r\\n; evil'`]);
    expect(cat.preview!(payload({ who: 'x\ny' }))).toEqual(['/bin/cat', `stdin $'dear x\\ny'`]);
  });

  test('only PATH, HOME and LANG are inherited, plus what the manifest lists', async () => {
    const env = { PATH: '/usr/bin:/bin', HOME: '/home/x', SECRET: 'hunter2', KEEP: 'kept' };
    const action = declare(
      'env',
      { ...base, kind: 'run', program: '/usr/bin/env', env: { MODE: 'test' }, inherit_env: ['KEEP'], payload_schema: { type: 'object' } },
      env,
    );
    const lines = String((await run(action, {}))['stdout'])
      .trim()
      .split('\n')
      .sort();
    expect(lines).toEqual(['HOME=/home/x', 'KEEP=kept', 'MODE=test', 'PATH=/usr/bin:/bin']);
  });

  test('output over the cap is cut and marked, and the program still finishes', async () => {
    const flood = declare('flood', {
      ...base,
      kind: 'run',
      program: script('head -c 3000000 /dev/zero | tr "\\0" x; echo done >&2'),
      max_output_bytes: 1000,
      payload_schema: { type: 'object' },
    });
    const r = await run(flood, {});
    expect(r['truncated']).toBe(true);
    expect(String(r['stdout'])).toBe('x'.repeat(1000));
    expect(r['stderr']).toBe('done\n');
    expect(r['exit_code']).toBe(0n);
  });

  test('on timeout the whole process group is killed: no orphan is left', async () => {
    const dir = tempDir();
    const pids = join(dir, 'pids');
    const forker = declare('fork', {
      ...base,
      kind: 'run',
      timeout_ms: 500,
      payload_schema: { type: 'object' },
      program: script(`sleep 30 & echo $! >> ${pids}\n(sleep 30; echo never) & echo $! >> ${pids}\necho $$ >> ${pids}\nsleep 30`, dir),
    });
    await expect(run(forker, {})).rejects.toThrow(/timed out after 500 ms; its process group was killed/);
    const started = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(started).toHaveLength(3);
    // SIGKILL is delivered at once; allow the kernel a moment to tear the processes down.
    for (let i = 0; i < 50 && started.some(running); i++) await new Promise((r) => setTimeout(r, 20));
    expect(started.filter(running)).toEqual([]);
  });

  test('background children are killed when the program exits, and do not hold the result', async () => {
    const dir = tempDir();
    const pids = join(dir, 'pids');
    const action = declare('bg', {
      ...base,
      kind: 'run',
      payload_schema: { type: 'object' },
      program: script(`sleep 30 & echo $! >> ${pids}\necho started`, dir),
    });
    const r = await run(action, {});
    expect(r['stdout']).toBe('started\n');
    const [pid] = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    for (let i = 0; i < 50 && running(pid!); i++) await new Promise((r) => setTimeout(r, 20));
    expect(running(pid!)).toBe(false);
  });

  test('the sha256 pin is checked at start-up and before every run', async () => {
    const dir = tempDir();
    const file = script('echo original', dir);
    const pin = createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(() => declare('x', { ...base, kind: 'run', program: file, sha256: '0'.repeat(64), payload_schema: { type: 'object' } })).toThrow(
      /sha256/,
    );
    const pinned = declare('x', { ...base, kind: 'run', program: file, sha256: pin, payload_schema: { type: 'object' } });
    expect((await run(pinned, {}))['stdout']).toBe('original\n');
    const marker = join(dir, 'ran');
    appendFileSync(file, `touch ${marker}\n`);
    await expect(run(pinned, {})).rejects.toThrow(/not the pinned/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('run: the schema judges the integer that runs', () => {
  /** `/bin/echo {id}`, with `id` judged by this schema. */
  const echoId = (id: Record<string, unknown>) =>
    declare('echo-id', {
      ...base,
      kind: 'run',
      program: '/bin/echo',
      argv: ['{id}'],
      payload_schema: { type: 'object', properties: { id }, required: ['id'] },
    });

  test('an integer a double cannot hold exactly is refused, not judged rounded and then run exact', async () => {
    // The manifest allows one account by its 64-bit id; JSON readers hold it as a double. The
    // payload's integer stays exact (it is hashed and rendered as sent), and its neighbour
    // rounds to the same double: judged as that double it passed, and ran with the other id.
    const action = echoId({ type: 'integer', enum: [JSON.parse('1234567890123456789')] });
    expect(action.checkPayload!(payload('{"id": 1234567890123456700}'))).toBe(
      'payload/id is an integer beyond ±2^53, which the schema cannot judge exactly (send it as a string)',
    );
    // An integer a double holds exactly is judged as it is, however large.
    const exact = echoId({ type: 'integer', maximum: 2 ** 60 });
    expect(exact.checkPayload!(payload(`{"id": ${2n ** 60n}}`))).toBeNull();
    expect(exact.checkPayload!(payload(`{"id": ${2n ** 60n + 1n}}`))).toMatch(/beyond ±2\^53/);
    expect(exact.checkPayload!(payload(`{"id": ${2n ** 61n}}`))).toMatch(/^payload\/id must be <= 1152921504606847/);
    expect((await run(exact, { id: 7 }))['stdout']).toBe('7\n');
  });
});
