import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { post, tempDir } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { spawnServer, waitForExit, type ServerProcess } from '../support/server-process.ts';
import { terminalSafe, terminalSafeJson, utf8Prefix } from '../../src/main/cli/terminal-text.ts';

/**
 * What a terminal obeys instead of showing, or shows as nothing: C0/C1 controls (ESC, CR, the
 * 8-bit CSI), DEL, bidi embeddings/overrides/isolates/marks, zero-width and invisible
 * characters. Written out here, not taken from the code under test. A line feed is allowed:
 * the CLI ends its own lines with one.
 */
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\u{e0000}-\u{e007f}]/u;

/** A context that, printed raw, clears the screen and writes a fake request over the real one. */
const CONTEXT = [
  '\x1b[2J\x1b[H\x1b[1;1HAPPROVE: to cfo@example.com, amount 10',
  'cursor\x1b[3A\x1b[10Dup\rback',
  '\u202eevil\u202c \u2066iso\u2069 \u200emarks\u200f\u061c',
  'zero\u200bwidth\u200c\u200d\u2060\ufeffend \x9b2J c1 \x7f del \u{e0041}tag',
  'a literal \\x1b stays distinguishable',
].join('\n');

/** Sorted first in canonical JSON, so it is in the part of the payload `pending` shows. */
const PAYLOAD = { a_rtl: '\u202e01 tnuoma', amount: 1_000_000, to: 'attacker@evil.example', note: 'x'.repeat(5000) };

const MARKS = [
  '\\x1b[2J',
  '\\x1b[H',
  '\\x1b[3A',
  '\\r',
  '\\u202e',
  '\\u202c',
  '\\u2066',
  '\\u2069',
  '\\u200e',
  '\\u200f',
  '\\u061c',
  '\\u200b',
  '\\u200c',
  '\\u200d',
  '\\u2060',
  '\\ufeff',
  '\\x9b',
  '\\x7f',
  '\\u{e0041}',
  'a literal \\\\x1b stays',
];

describe('agent-written text reaches the operator as visible text', () => {
  const dataDir = tempDir();
  let server: ServerProcess;
  let id: string;
  let canonical: string;
  beforeAll(async () => {
    server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_MODE: 'clawshield' });
    const r = await post(server.url, '/proposals', { action: 'echo', payload: PAYLOAD, nonce: 'ctx-1', context: CONTEXT });
    expect(r.status).toBe(202);
    id = r.body.id;
    const shown = await cli(dataDir, 'show', id, '--json');
    canonical = (JSON.parse(shown.stdout) as { payloadCanonical: string }).payloadCanonical;
  }, 30_000);
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('pending: no raw control, bidi or invisible character; visible marks; payload first, never silently cut', async () => {
    const r = await cli(dataDir, 'pending');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW);
    for (const m of MARKS) expect(r.stdout).toContain(m);
    const lines = r.stdout.split('\n');
    const payloadAt = lines.findIndex((l) => l.startsWith('    payload '));
    const contextAt = lines.findIndex((l) => l.startsWith("    context (agent's words, untrusted) "));
    expect(payloadAt).toBeGreaterThan(0);
    expect(contextAt).toBe(payloadAt + 1); // the whole context stays on one labelled line

    const m = /^ {4}payload (.*)… \((\d+) more bytes hidden; see them with openexec show (\S+)\)$/.exec(lines[payloadAt]!);
    expect(m, lines[payloadAt]).not.toBeNull();
    const shown = m![1]!; // canonical JSON is printable ASCII (its own \u escapes): shown verbatim
    expect(canonical.startsWith(shown)).toBe(true);
    expect(Buffer.byteLength(shown) + Number(m![2])).toBe(Buffer.byteLength(canonical));
    expect(m![3]).toBe(id);
  });

  test('show ID: action, the whole payload, the full hash and expiry, then the context labelled as untrusted', async () => {
    const r = await cli(dataDir, 'show', id);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW);
    for (const m of MARKS) expect(r.stdout).toContain(m);
    const json = JSON.parse((await cli(dataDir, 'show', id, '--json')).stdout) as { requestHash: string; expiresAt: string };
    const at = (text: string) => r.stdout.indexOf(text);
    expect(at('action        echo')).toBeGreaterThan(-1);
    expect(at(`request hash  ${json.requestHash}`)).toBeGreaterThan(-1);
    expect(at(`expires       ${json.expiresAt}`)).toBeGreaterThan(-1);
    expect(canonical).toMatch(/^[\x20-\x7e]+$/);
    expect(at(`\n  ${canonical}\n`)).toBeGreaterThan(-1);
    expect(r.stdout).not.toContain('more bytes hidden');
    const label = at("context       the agent's own words, untrusted");
    expect(label).toBeGreaterThan(at(canonical.slice(-50)));
    expect(r.stdout).toContain('  | \\x1b[2J\\x1b[H\\x1b[1;1HAPPROVE: to cfo@example.com, amount 10\n');
  });

  test('show --json is the same value, with hidden characters as \\u escapes', async () => {
    const r = await cli(dataDir, 'show', id, '--json');
    expect(r.stdout).not.toMatch(RAW);
    const p = JSON.parse(r.stdout) as { context: string; payloadCanonical: string; id: string };
    expect(p.id).toBe(id);
    expect(p.context).toBe(CONTEXT);
    expect(JSON.parse(p.payloadCanonical)).toEqual(PAYLOAD);
  });

  test('show refuses an unknown id with one line', async () => {
    const r = await cli(dataDir, 'show', 'no-such-proposal');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('openexec: No proposal no-such-proposal\n');
    const tooLong = await cli(dataDir, 'show', 'x'.repeat(129));
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('receipts, approve results and error lines are escaped the same way', async () => {
    const refused = await post(server.url, '/proposals', { action: '\u202egnirts\x1b[2J', payload: {}, nonce: 'ctx-2' });
    expect(refused.status).toBe(400);
    const receipts = await cli(dataDir, 'receipts', '--event', 'refused');
    expect(receipts.code).toBe(0);
    expect(receipts.stdout).not.toMatch(RAW);
    expect(receipts.stdout).toContain('Unknown action: \\u202egnirts\\x1b[2J');

    const echoed = await post(server.url, '/proposals', { action: 'echo', payload: { m: 'pay \u202e01\x1b[1A' }, nonce: 'ctx-3' });
    const approved = await cli(dataDir, 'approve', echoed.body.id);
    expect(approved.code).toBe(0);
    expect(approved.stdout).not.toMatch(RAW);
    // Results are canonical JSON text, shown verbatim: its own escapes name each character.
    expect(approved.stdout).toContain('result {"echo":{"m":"pay \\u202e01\\u001b[1A"}}');

    const err = await cli(dataDir, 'approve', 'bad\u202eid\x1b[2J');
    expect(err.code).toBe(1);
    expect(err.stderr).not.toMatch(RAW);
    expect(err.stderr).toBe('openexec: No proposal bad\\u202eid\\x1b[2J\n');
  });
});

describe('terminalSafe', () => {
  test('every hidden character becomes a mark, other text is untouched', () => {
    expect(terminalSafe('plain text, é, 中文, 😀, ✓')).toBe('plain text, é, 中文, 😀, ✓');
    expect(terminalSafe('\x00\x1b\t\n\r\x7f\x85\x9b')).toBe('\\x00\\x1b\\t\\n\\r\\x7f\\x85\\x9b');
    expect(terminalSafe('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c')).toBe(
      '\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c',
    );
    expect(terminalSafe('\u200b\u200c\u200d\u2060\ufeff\u00ad\u034f\u3164\ufe0f\u2028\u2029')).toBe(
      '\\u200b\\u200c\\u200d\\u2060\\ufeff\\xad\\u034f\\u3164\\ufe0f\\u2028\\u2029',
    );
    expect(terminalSafe('\u{e0041}\u{f0000}\ud800x\udc00')).toBe('\\u{e0041}\\u{f0000}\\ud800x\\udc00');
    expect(terminalSafe('a\\b')).toBe('a\\\\b');
  });

  test('terminalSafeJson keeps the value (and, asked to, the layout); JSON escapes stay as they are', () => {
    const value = { s: '\u202e\u200b\x9b\u{e0041}\\"', n: [1, 2] };
    const pretty = JSON.stringify(value, null, 2);
    const text = terminalSafeJson(pretty, true);
    expect(text).not.toMatch(RAW);
    expect(text.split('\n')).toHaveLength(pretty.split('\n').length);
    expect(JSON.parse(text)).toEqual(value);
    const inline = terminalSafeJson(pretty);
    expect(inline).not.toMatch(RAW);
    expect(inline).not.toContain('\n');
    expect(terminalSafeJson('{"m":"a\\u202e\\\\x1b"}')).toBe('{"m":"a\\u202e\\\\x1b"}');
  });

  test('utf8Prefix counts exact bytes and never splits a character', () => {
    expect(utf8Prefix('aé😀b', 3)).toEqual({ shown: 'aé', hiddenBytes: 5 });
    expect(utf8Prefix('aé😀b', 4)).toEqual({ shown: 'aé', hiddenBytes: 5 });
    expect(utf8Prefix('aé😀b', 7)).toEqual({ shown: 'aé😀', hiddenBytes: 1 });
    expect(utf8Prefix('aé😀b', 8)).toEqual({ shown: 'aé😀b', hiddenBytes: 0 });
  });
});
