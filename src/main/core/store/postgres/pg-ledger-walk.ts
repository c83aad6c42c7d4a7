import { availableParallelism } from 'node:os';
import type pg from 'pg';
import type { ApproverKeys } from '../../approval/check-evidence.ts';
import type { JsonObject } from '../../json/json-value.ts';
import { isJsonObject } from '../../json/json-value.ts';
import { CheckpointMatcher, type CheckpointVerdict, type SavedCheckpoint } from '../../ledger/checkpoint/compare-checkpoints.ts';
import { hashesEqual, leafHash, StreamingRoot, type PerfectNode } from '../../ledger/merkle/rfc9162.ts';
import { saltedHash } from '../../ledger/receipt-bodies.ts';
import { GENESIS_PREV_HASH } from '../../ledger/receipt-body.ts';
import { RECEIPT_COLUMNS, type ReceiptRow } from '../../ledger/receipt-row.ts';
import { LedgerKeys, type ReceiptSigner } from './pg-ledger-keys.ts';
import type { BatchVerdict, CheckRow } from './pg-receipt-check.ts';
import { inlineChecker, ReceiptCheckPool, type ReceiptChecker } from './pg-receipt-check-pool.ts';
import { parsedBody, type StoreChainCheck } from './pg-verify.ts';

const PAGE = 1000;
/** 128 bits: the least salt that keeps a short body from being guessed back from its hash (as on SQLite). */
const MIN_SALT_BYTES = 16;

type PgRow = Omit<ReceiptRow, 'seq'> & { seq: string; agent: string | null };

interface BodyRow {
  seq: string;
  field: string;
  salt: Buffer | null;
  body: string | null;
  purged_at: string | null;
}

export interface MerkleCheck {
  valid: boolean;
  /** Stored nodes found equal to the ones the receipts' own hashes make. */
  nodes: number;
  problem: string | null;
}

export interface WalkResult {
  size: number;
  chain: StoreChainCheck;
  merkle: MerkleCheck;
  /** Bodies that do not match what their receipts commit to (up to the limit). */
  bodyProblems: string[];
  /** Receipts that name an approval but keep no evidence of it. */
  approvalsWithoutEvidence: number;
  checkpoints: CheckpointVerdict | null;
  /** The same for the checkpoints the ledger stores (`stored`). */
  storedCheckpoints: CheckpointVerdict | null;
}

export interface WalkOptions {
  pinnedKeyIds?: readonly string[] | undefined;
  approvers?: ApproverKeys | null | undefined;
  saved?: readonly SavedCheckpoint[] | undefined;
  /** The checkpoints table's rows: the ledger must extend them too. */
  stored?: readonly SavedCheckpoint[] | undefined;
  /** Threads that verify signatures (default: every core; 0: this thread). */
  workers?: number | undefined;
  /** Problems of bodies kept (default 20, as the SQLite side-table check). */
  problemLimit?: number | undefined;
}

/**
 * One pass over a PostgreSQL ledger in seq order, inside the caller's snapshot: the chain as the
 * SQLite walk checks it (seq, link, hash, signature by the key registered before it, the stored
 * columns and `agent` against the signed body, approval evidence), each kept body against its
 * salted hash, every stored Merkle node against the tree the receipts' own hashes make, and the
 * reviewer's saved checkpoints. The walk reads, links and picks each receipt's key in order;
 * the signatures are checked on every core (pg-receipt-check-pool.ts), and the verdict is the
 * first bad receipt in seq order, as a walk on one thread would report it. The tree, the bodies
 * and the checkpoints are judged over every receipt stored, as on SQLite.
 */
export async function walkPostgresLedger(client: pg.PoolClient, options: WalkOptions = {}): Promise<WalkResult> {
  const approvers = options.approvers ?? null;
  const threads = options.workers ?? availableParallelism();
  const pool =
    threads === 0 ? inlineChecker(approvers) : new ReceiptCheckPool(threads, approvers && [...approvers.values()].map((v) => v.publicKey));
  try {
    return await walk(client, options, pool);
  } finally {
    await pool.close();
  }
}

async function walk(client: pg.PoolClient, options: WalkOptions, pool: ReceiptChecker): Promise<WalkResult> {
  const keys = new LedgerKeys(options.pinnedKeyIds);
  const limit = options.problemLimit ?? 20;
  const { rows: sized } = await client.query<{ n: string }>('SELECT coalesce(max(seq), 0) AS n FROM receipts');
  const size = Number(sized[0]!.n);
  const matchers = [options.saved, options.stored].map((list) => (list && list.length > 0 ? new CheckpointMatcher(list) : null));
  const tree = new MerkleWalk();
  const bodyProblems: string[] = [];
  // What the walk finds itself (seq, link, key); what the threads find in the batches handed them.
  let linkBad: { seq: number; problem: string } | null = null;
  const batches: Promise<BatchVerdict>[] = [];
  let threadFound = false;
  let prevHash = GENESIS_PREV_HASH;
  let expected = 1;
  for (let from = 1; ;) {
    const { rows } = await client.query<PgRow>(`SELECT ${RECEIPT_COLUMNS}, agent FROM receipts WHERE seq >= $1 ORDER BY seq LIMIT $2`, [
      from,
      PAGE,
    ]);
    if (rows.length === 0) break;
    const last = Number(rows.at(-1)!.seq);
    const stored = await bodiesOf(client, from, last);
    const batch: CheckRow[] = [];
    for (const pgRow of rows) {
      const row: ReceiptRow = { ...pgRow, seq: Number(pgRow.seq) };
      const body = parsedBody(row.body);
      if (linkBad === null && !threadFound) {
        const signer = linkProblem(row, body, prevHash, expected, keys);
        if (typeof signer === 'string') linkBad = { seq: row.seq, problem: signer };
        else {
          batch.push({ row, agent: pgRow.agent, keyId: signer.verifier.keyId });
          // Taken as registered now; if its own receipt fails in a thread, the verdict stops there.
          keys.accept(signer, row.seq);
        }
      }
      if (bodyProblems.length < limit) bodyProblems.push(...committedBodyProblems(row.seq, body, stored.get(row.seq) ?? []));
      tree.push(row.hash);
      for (const m of matchers) m?.push(row.hash);
      prevHash = row.hash;
      expected = row.seq + 1;
    }
    if (batch.length > 0) {
      const verdict = pool.check({ keys: keys.publicKeys(batch.map((r) => r.keyId)), rows: batch });
      verdict.then((v) => (threadFound ||= v.bad !== null)).catch(() => undefined);
      batches.push(verdict);
      // At most two batches queued per thread: the rows wait in the database, not in memory.
      const oldest = batches.length - 2 * pool.size - 1;
      if (oldest >= 0) await batches[oldest];
    }
    await tree.compareStored(client);
    from = last + 1;
  }
  let checked = 0;
  let withoutEvidence = 0;
  let bad: { seq: number; problem: string } | null = null;
  for (const v of await Promise.all(batches)) {
    checked += v.checked;
    withoutEvidence += v.evidenceAbsent;
    if (v.bad !== null) {
      bad = v.bad;
      break;
    }
  }
  bad ??= linkBad;
  const chain: StoreChainCheck = {
    valid: bad === null,
    checked,
    firstBadSeq: bad?.seq ?? null,
    problem: bad?.problem ?? null,
    keys: keys.list(bad?.seq),
  };
  return {
    size,
    chain,
    merkle: await tree.finish(client),
    bodyProblems: bodyProblems.slice(0, limit),
    approvalsWithoutEvidence: withoutEvidence,
    checkpoints: matchers[0]?.finish(size) ?? null,
    storedCheckpoints: matchers[1]?.finish(size) ?? null,
  };
}

/** The key a receipt must be signed by, once its seq, link and body hold; else what is wrong. */
function linkProblem(
  row: ReceiptRow,
  body: JsonObject | null,
  prevHash: string,
  expected: number,
  keys: LedgerKeys,
): ReceiptSigner | string {
  if (row.seq !== expected) return `sequence gap: expected ${expected}, found ${row.seq}`;
  if (row.prev_hash !== prevHash) return "link broken: prev_hash is not the previous receipt's hash";
  if (body === null) return 'body is not a JSON object';
  return keys.signerOf(body);
}

async function bodiesOf(client: pg.PoolClient, from: number, to: number): Promise<Map<number, BodyRow[]>> {
  const { rows } = await client.query<BodyRow>(
    'SELECT seq, field, salt, body, purged_at FROM receipt_bodies WHERE seq BETWEEN $1 AND $2 ORDER BY seq, field',
    [from, to],
  );
  const bySeq = new Map<number, BodyRow[]>();
  for (const r of rows) {
    const seq = Number(r.seq);
    bySeq.set(seq, [...(bySeq.get(seq) ?? []), r]);
  }
  return bySeq;
}

/**
 * The bodies a receipt of format 2 commits to by salted hash are not signed themselves: every
 * committed field has its row, every row is committed to, and a kept body with its salt hashes
 * to the committed value. (Whether a purged one was purged by a purge that covers it is a
 * side-table check, pg-side-tables.ts.)
 */
function committedBodyProblems(seq: number, body: JsonObject | null, stored: readonly BodyRow[]): string[] {
  const committed = body !== null && isJsonObject(body['salted_hashes']) ? body['salted_hashes'] : {};
  const problems: string[] = [];
  for (const field of Object.keys(committed)) {
    if (!stored.some((b) => b.field === field)) problems.push(`receipt ${seq} commits to a ${field} body that is missing`);
  }
  for (const b of stored) {
    const where = `receipt ${seq}'s ${b.field} body`;
    const hash = committed[b.field];
    if (hash === undefined) problems.push(`receipt ${seq} keeps a ${b.field} body it does not commit to`);
    else if (b.purged_at !== null) continue;
    else if (b.salt === null || b.body === null) problems.push(`${where} has no salt or text and no purge`);
    else if (b.salt.length < MIN_SALT_BYTES) problems.push(`${where} has a salt shorter than 128 bits`);
    else if (saltedHash(b.salt, b.body) !== hash) problems.push(`${where} does not hash to its salted hash`);
  }
  return problems;
}

/**
 * The stored Merkle nodes against the tree the receipts' own hashes make: each perfect subtree
 * of two or more leaves must be stored, equal, and nothing else (proofs and checkpoints are
 * built from these nodes, so a wrong one would make this instance sign a wrong root).
 */
class MerkleWalk {
  private readonly tree = new StreamingRoot();
  private pending: PerfectNode[] = [];
  private matched = 0;
  private problem: string | null = null;

  push(receiptHash: string): void {
    const completed = this.tree.push(leafHash(Buffer.from(receiptHash, 'hex')));
    if (this.problem === null) this.pending.push(...completed);
  }

  /** Compares the nodes completed since the last call with the stored ones, in one query. */
  async compareStored(client: pg.PoolClient): Promise<void> {
    const wanted = this.pending;
    this.pending = [];
    if (this.problem !== null || wanted.length === 0) return;
    const { rows } = await client.query<{ hash: Buffer | null }>(
      `SELECT n.hash FROM unnest($1::integer[], $2::bigint[]) WITH ORDINALITY AS k (level, idx, i)
       LEFT JOIN merkle_nodes n ON n.level = k.level AND n.idx = k.idx ORDER BY k.i`,
      [wanted.map((n) => n.level), wanted.map((n) => n.index)],
    );
    for (const [i, node] of wanted.entries()) {
      const stored = rows[i]?.hash ?? null;
      const name = `Merkle node ${node.level}/${node.index} (receipts ${node.index * 2 ** node.level + 1} to ${(node.index + 1) * 2 ** node.level})`;
      if (stored === null) this.problem = `${name} is missing`;
      else if (!hashesEqual(stored, node.hash)) this.problem = `${name} is not the hash of those receipts`;
      if (this.problem !== null) return;
      this.matched++;
    }
  }

  async finish(client: pg.PoolClient): Promise<MerkleCheck> {
    if (this.problem === null) {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM merkle_nodes');
      const stored = Number(rows[0]!.n);
      if (stored !== this.matched) {
        this.problem = `the tree stores ${stored} nodes, but the ${this.tree.size} receipts make ${this.matched}: nodes for receipts that are not in the ledger`;
      }
    }
    return { valid: this.problem === null, nodes: this.matched, problem: this.problem };
  }
}
