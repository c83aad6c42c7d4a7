import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { statSync } from 'node:fs';
import { canonicalJson } from '../../src/main/core/json/canonical.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { requestHash } from '../../src/main/core/json/request-hash.ts';
import { PREVIEW_LIMIT_BYTES } from '../../src/main/core/engine/attempt-receipts.ts';
import { post, startServer, type RunningServer } from '../support/harness.ts';
import { rawDb } from '../support/raw-db.ts';

/** ~0.9 MiB of junk, with a non-ASCII tail so that cutting must respect characters. */
const junk = { to: 'someone', blob: 'x'.repeat(900 * 1024), tail: 'é€😀' };
const junkCanonical = canonicalJson(parseJson(JSON.stringify(junk)) as JsonObject);
const contextText = 'Please send this. ' + 'ü'.repeat(3900);

let server: RunningServer;
beforeEach(async () => {
  server = await startServer({ OPENEXEC_ALLOWED_ACTIONS: 'echo' });
});
afterEach(async () => {
  await server.stop();
});

/**
 * What the ledger keeps of each receipt: its signed body with the bodies it commits to by salted
 * hash (format 2: payload, context, preview, result, kept beside it) put back in their places.
 */
function receipts(event: string): Record<string, unknown>[] {
  const db = rawDb(server.app.core);
  const kept = db.prepare('SELECT field, body FROM receipt_bodies WHERE seq = ?');
  const rows = db.prepare('SELECT seq, body FROM receipts WHERE event = ? ORDER BY seq').all(event) as { seq: number; body: string }[];
  return rows.map((r) => {
    const body = JSON.parse(r.body) as Record<string, unknown>;
    for (const b of kept.all(r.seq) as { field: string; body: string }[])
      body[b.field] = b.field === 'context' ? b.body : JSON.parse(b.body);
    return body;
  });
}

/** The database's size on disk once the WAL is folded in. */
function ledgerBytes(): number {
  const db = rawDb(server.app.core);
  db.pragma('wal_checkpoint(TRUNCATE)');
  return statSync(server.app.core.options.dbPath!).size;
}

describe('a refused request keeps its hash and a bounded preview, not its body', () => {
  test('a 0.9 MiB refused payload leaves at most ~4 KiB in the ledger, and the receipt still commits to the request', async () => {
    const before = ledgerBytes();
    for (let i = 0; i < 20; i++) {
      const r = await post(server.url, '/execute', { action: 'add', payload: junk, nonce: `junk-${i}` });
      expect(r.status).toBe(403); // not in the allow-list
    }
    const refused = receipts('refused');
    expect(refused).toHaveLength(20);
    for (const body of refused) {
      expect(JSON.stringify(body).length).toBeLessThan(PREVIEW_LIMIT_BYTES + 1024);
      expect(body['payload']).toBeUndefined();
      expect(body['request_hash']).toBe(requestHash('add', parseJson(JSON.stringify(junk)) as JsonObject));
      const preview = body['preview'] as { truncated: boolean; payload: string; payload_bytes: number };
      expect(preview.truncated).toBe(true);
      expect(preview.payload_bytes).toBe(Buffer.byteLength(junkCanonical));
      expect(junkCanonical.startsWith(preview.payload)).toBe(true);
      expect(Buffer.byteLength(preview.payload)).toBeLessThanOrEqual(PREVIEW_LIMIT_BYTES);
    }
    // 20 × 0.9 MiB arrived; well under 1 MiB stayed (the payload is no longer indexed either).
    expect(ledgerBytes() - before).toBeLessThan(1024 * 1024);
    const chain = await server.app.console.verifyChain();
    expect(chain.ok && chain.value.valid).toBe(true);
  });

  test('a refused proposal: payload and context previews share the 4 KiB, cut on character boundaries', async () => {
    const r = await post(server.url, '/proposals', { action: 'add', payload: junk, nonce: 'junk-p', context: contextText });
    expect(r.status).toBe(403);
    const [body] = receipts('refused');
    const preview = body!['preview'] as { payload: string; payload_bytes: number; context: string; context_bytes: number };
    expect(body!['context']).toBeUndefined();
    expect(preview.context_bytes).toBe(Buffer.byteLength(contextText));
    expect(contextText.startsWith(preview.context)).toBe(true);
    expect(preview.context.length).toBeGreaterThan(100);
    expect(Buffer.byteLength(preview.payload) + Buffer.byteLength(preview.context)).toBeLessThanOrEqual(PREVIEW_LIMIT_BYTES);
    expect(body!['details']).toEqual({ proposal: true });
  });

  test('replays are bounded too; an execution keeps its whole payload; a small refusal keeps its payload as before', async () => {
    const first = await post(server.url, '/execute', { action: 'echo', payload: junk, nonce: 'big-run' });
    expect(first.status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await post(server.url, '/execute', { action: 'echo', payload: junk, nonce: 'big-run' })).status).toBe(200);
    const [executed] = receipts('executed');
    expect(executed!['payload']).toEqual(junk);
    const replays = receipts('replayed');
    expect(replays).toHaveLength(3);
    for (const body of replays) {
      expect(body['payload']).toBeUndefined();
      expect((body['preview'] as { truncated: boolean }).truncated).toBe(true);
      expect(body['request_hash']).toBe(executed!['request_hash']);
    }
    expect((await post(server.url, '/execute', { action: 'add', payload: { a: 1 }, nonce: 'small' })).status).toBe(403);
    const small = receipts('refused').at(-1)!;
    expect(small['payload']).toEqual({ a: 1 });
    expect(small['preview']).toBeUndefined();
  });
});
