/**
 * One OpenExec-like process appending to a PostgreSQL ledger, for the multi-process tests. It
 * opens its store, prints "ready", waits for a line on stdin, then submits all its writes at
 * once and prints one JSON line with what happened.
 *   nonce:  `count` requests with the same nonce; each one that takes it appends 'executed',
 *           each one refused appends 'replayed'.
 *   append: `count` receipts of its own, in waves of ten (many groups, each taking the lock).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import { PostgresLedgerStore } from '../../src/main/core/store/postgres/pg-ledger-store.ts';
import { newReservation } from './record-fixtures.ts';

const [url, seedHex, mode, countText, tag] = process.argv.slice(2);
if (!url || !seedHex || !mode || !countText || !tag) throw new Error('usage: pg-ledger-child <url> <seed> <nonce|append> <count> <tag>');
const count = Number(countText);
const store = await PostgresLedgerStore.open({ url, signer: Ed25519Signer.fromSeed(Buffer.from(seedHex, 'hex')) });
process.stdout.write('ready\n');
await once(process.stdin, 'data');

async function appendInWaves(): Promise<PromiseSettledResult<boolean>[]> {
  const outcomes: PromiseSettledResult<boolean>[] = [];
  for (let wave = 0; wave < count; wave += 10) {
    const writes = Array.from({ length: Math.min(10, count - wave) }, (_, i) =>
      store.witness(async (tx) => {
        await tx.append({ event: 'config', action: 'child', reason: `${tag} ${wave + i}` });
        return false;
      }),
    );
    outcomes.push(...(await Promise.allSettled(writes)));
  }
  return outcomes;
}

const spendOneNonce = () =>
  store.witness(async (tx) => {
    const id = randomUUID();
    const won = await tx.reserveNonce(newReservation('the-one-nonce', { id, request_hash: 'f'.repeat(64) }));
    await tx.append(
      won
        ? { event: 'executed', action: 'greet', nonce: 'the-one-nonce', exec_id: id }
        : { event: 'replayed', action: 'greet', nonce: 'the-one-nonce', reason: 'nonce already used' },
    );
    return won;
  });

const outcomes = mode === 'append' ? await appendInWaves() : await Promise.allSettled(Array.from({ length: count }, spendOneNonce));
await store.close();
process.stdout.write(
  `${JSON.stringify({
    won: outcomes.filter((o) => o.status === 'fulfilled' && o.value).length,
    failed: outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
  })}\n`,
);
process.stdin.destroy();
