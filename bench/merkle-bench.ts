import { rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tempDir } from '../test/support/harness.ts';
import { loadConfig } from '../src/main/app/config.ts';
import { OpenExecCore } from '../src/main/core/openexec-core.ts';
import { fillLedger, rng } from '../test/support/fill-ledger.ts';
import { benchExecute, percentile } from './execute-bench.ts';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Ed25519Signer, Ed25519Verifier } from '../src/main/core/crypto/ed25519.ts';
import { verifyChainParallel } from '../src/main/core/ledger/parallel/verify-parallel.ts';
import { rawDb } from '../test/support/raw-db.ts';
import { measureFloor, parallelVerifyUs } from './machine-floor.ts';

function timed(runs: number, work: (i: number) => void): { p50ms: number; p95ms: number } {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    work(i);
    ms.push(performance.now() - t0);
  }
  return summary(ms);
}

/** As `timed`, for work that is asynchronous (a witnessed write waits for its group's turn). */
async function timedAsync(runs: number, work: (i: number) => Promise<unknown>): Promise<{ p50ms: number; p95ms: number }> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await work(i);
    ms.push(performance.now() - t0);
  }
  return summary(ms);
}

function summary(ms: number[]): { p50ms: number; p95ms: number } {
  ms.sort((a, b) => a - b);
  return { p50ms: percentile(ms, 50), p95ms: percentile(ms, 95) };
}

/**
 * The Merkle log at scale: proofs and checkpoints over a ledger of `count` receipts, each
 * beside the machine's floor for the same work (one primary-key read plus one SHA-256 per tree
 * level: what a proof cannot do without), and what checkpointing costs /execute at c16.
 */
export async function benchMerkle(count: number, executePerLevel: number) {
  const dir = tempDir('openexec-merkle-bench-');
  const core = await OpenExecCore.open({ ...loadConfig({ OPENEXEC_DATA_DIR: dir }), checkpointEvery: 1_000_000_000 });
  try {
    const fillSeconds = fillLedger(core, count);
    const size = core.ledger.size();
    const random = rng(7);
    const levels = Math.ceil(Math.log2(size));
    // The floor: random primary-key reads of stored nodes, and SHA-256 of two node hashes.
    const read = rawDb(core).prepare('SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?').pluck();
    const readFloor = timed(2000, () => {
      const level = 1 + Math.floor(random() * (levels - 2));
      read.get(level, Math.floor(random() * (size >> level)));
    });
    const block = Buffer.alloc(65, 7);
    const hashFloor = timed(2000, () => createHash('sha256').update(block).digest());
    const floorMs = levels * (readFloor.p50ms + hashFloor.p50ms);

    const inclusion = await timedAsync(500, () => core.proofs.inclusionIn(1 + Math.floor(random() * size), size));
    const consistency = await timedAsync(500, () => core.proofs.consistency(1 + Math.floor(random() * (size - 1)), size));
    const checkpoint = await timedAsync(50, (i) => {
      rawDb(core)
        .transaction(() => core.ledger.append({ event: 'config', reason: `bench checkpoint ${i}` }))
        .immediate();
      return core.checkpoints.issue();
    });
    const ratio = (ms: number) => Math.round((ms / floorMs) * 10) / 10;
    const merkle = {
      receipts: size,
      fillSeconds: Math.round(fillSeconds * 10) / 10,
      floor: { levels, pkReadP50ms: readFloor.p50ms, sha256P50ms: hashFloor.p50ms, proofFloorMs: Math.round(floorMs * 1000) / 1000 },
      inclusion: { ...inclusion, p95OverFloor: ratio(inclusion.p95ms) },
      consistency: { ...consistency, p95OverFloor: ratio(consistency.p95ms) },
      checkpoint,
    };
    const publicKey = core.ledger.publicKey;
    core.close();
    // verify-ledger's walk on every core, beside its floor: one Ed25519 verification per
    // receipt (node:crypto, measured here) shared out over the cores.
    const signer = Ed25519Signer.generate();
    const verifier = new Ed25519Verifier(signer.publicKey);
    const body = Buffer.alloc(450, 'x');
    const signature = signer.sign(body);
    const verifyOne = timed(2000, () => verifier.verify(body, signature));
    const cores = availableParallelism();
    const allCoresUs = await parallelVerifyUs(cores);
    const t0 = performance.now();
    const walk = await verifyChainParallel(join(dir, 'openexec.db'), publicKey, size + 50);
    const walkSeconds = (performance.now() - t0) / 1000;
    const floorSeconds = (size * verifyOne.p50ms) / 1000 / cores;
    const allCoresFloorSeconds = (size * allCoresUs) / 1e6;
    const verifyLedger = {
      valid: walk.valid,
      checked: walk.checked,
      cores,
      seconds: Math.round(walkSeconds * 10) / 10,
      // One core's verification time divided by the cores (what the README quoted before)…
      floorSeconds: Math.round(floorSeconds * 10) / 10,
      overFloor: Math.round((walkSeconds / floorSeconds) * 100) / 100,
      // …and the floor measured with every core verifying at once.
      allCoresVerifyUs: allCoresUs,
      allCoresFloorSeconds: Math.round(allCoresFloorSeconds * 10) / 10,
      overAllCoresFloor: Math.round((walkSeconds / allCoresFloorSeconds) * 100) / 100,
    };
    return { ...merkle, verifyLedger, checkpointingAtC16: await checkpointingCost(executePerLevel) };
  } finally {
    if (rawDb(core).open) core.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Checkpointing's cost to /execute at c16: a checkpoint every 1,000 receipts (the default)
 * against none at all, in alternating runs (none, every 1,000, none, …) so that a neighbour's
 * load falls on both alike; each pair gives a ratio, and the median of the ratios is the figure.
 */
async function checkpointingCost(perRun: number) {
  const rounds = Number(process.env['BENCH_AB_ROUNDS'] ?? 4);
  const floor = measureFloor('NORMAL');
  const none = { OPENEXEC_CHECKPOINT_EVERY: '1000000', OPENEXEC_CHECKPOINT_INTERVAL: '86400' };
  const every1000 = { OPENEXEC_CHECKPOINT_EVERY: '1000' };
  const pairs: { withoutPerSecond: number; every1000PerSecond: number; ratio: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    const [a] = await benchExecute('NORMAL', [16], perRun, none, floor);
    const [b] = await benchExecute('NORMAL', [16], perRun, every1000, floor);
    const ratio = b!.executionsPerSecond / a!.executionsPerSecond;
    pairs.push({
      withoutPerSecond: a!.executionsPerSecond,
      every1000PerSecond: b!.executionsPerSecond,
      ratio: Math.round(ratio * 1000) / 1000,
    });
  }
  const ratios = pairs.map((p) => p.ratio).sort((x, y) => x - y);
  const median = ratios.length % 2 ? ratios[(ratios.length - 1) / 2]! : (ratios[ratios.length / 2 - 1]! + ratios[ratios.length / 2]!) / 2;
  return { pairs, medianRatio: Math.round(median * 1000) / 1000, costPercent: Math.round((1 - median) * 1000) / 10 };
}
