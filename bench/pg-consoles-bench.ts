/**
 * The `pgconsoles` part of `npm run bench`: two instances on one PostgreSQL database (each its
 * pools, receipt key, operator key, event hub and ProposalService, its ledger store following
 * the other's commits), one change at a time: how long after A is asked to propose does B's
 * hub publish the proposal, and how long after A is asked to deny does B's long-poll wake. The
 * floor beside them is a `SELECT 1` round trip on the same server. No HTTP (OpenExecCore does not
 * open on PostgreSQL yet). Without PostgreSQL it prints why and reports `skipped`.
 */
import { loadavg } from 'node:os';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { sealRegistry } from '../src/main/core/actions/action-registry.ts';
import { ToolPins } from '../src/main/core/actions/tool-pins.ts';
import { OperatorRegistry } from '../src/main/core/approval/operator-registry.ts';
import { systemClock } from '../src/main/core/clock.ts';
import { Ed25519Signer } from '../src/main/core/crypto/ed25519.ts';
import { AllowList } from '../src/main/core/engine/allow-list.ts';
import { Engine } from '../src/main/core/engine/engine.ts';
import { recordCallbacks } from '../src/main/core/engine/record-callbacks.ts';
import { EventHub } from '../src/main/core/events/event-hub.ts';
import { GrantAuthority } from '../src/main/core/grants/grant-authority.ts';
import type { JsonObject } from '../src/main/core/json/json-value.ts';
import { parseJson } from '../src/main/core/json/parse.ts';
import { ProposalService } from '../src/main/core/proposals/proposal-service.ts';
import { PostgresExecutionRecords } from '../src/main/core/store/postgres/pg-execution-records.ts';
import { PostgresGrantRecords } from '../src/main/core/store/postgres/pg-grant-records.ts';
import { PostgresLedgerStore } from '../src/main/core/store/postgres/pg-ledger-store.ts';
import { PostgresProposalRecords } from '../src/main/core/store/postgres/pg-proposal-records.ts';
import { PostgresSettingRecords } from '../src/main/core/store/postgres/pg-setting-records.ts';
import { PostgresToolPinRecords } from '../src/main/core/store/postgres/pg-tool-pin-records.ts';
import { tempDir } from '../test/support/harness.ts';
import { migratedDatabase, postgresAvailability, startCluster } from '../test/support/postgres.ts';
import { percentile } from './execute-bench.ts';

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

interface Instance {
  proposals: ProposalService;
  hub: EventHub;
  close(): Promise<void>;
}

/** One instance as the app wires its proposals, on the database at `url`. */
async function instance(url: string, dir: string): Promise<Instance> {
  const key = Ed25519Signer.generate();
  const ledger = await PostgresLedgerStore.open({ url, signer: key, follow: {} });
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const registry = sealRegistry({ pay: (p) => p });
  const settings = new PostgresSettingRecords(pool);
  const allowList = new AllowList(settings, registry, ['pay']);
  await allowList.load();
  const proposalRecords = new PostgresProposalRecords(pool);
  const toolPinRecords = new PostgresToolPinRecords(pool);
  const executionRecords = new PostgresExecutionRecords(pool, key.keyId);
  const operators = new OperatorRegistry(dir, Ed25519Signer.generate(), ledger);
  const engine = new Engine(ledger, executionRecords, registry, allowList, systemClock, {
    mode: 'clawshield',
    approvalPolicy: { approvers: operators.approvers, tenantId: null, clockSkewMs: 0 },
    ...recordCallbacks(proposalRecords, toolPinRecords),
  });
  const hub = new EventHub();
  const proposals = new ProposalService(
    {
      ledgerStore: ledger,
      proposalRecords,
      executionRecords,
      registry,
      allowList,
      toolPins: new ToolPins(toolPinRecords, ledger, systemClock),
      operators,
      grants: new GrantAuthority(new PostgresGrantRecords(pool), () => null, systemClock, 'bench'),
      engine,
      clock: systemClock,
    },
    hub,
    { defaultTtlSeconds: 600, tenantId: null },
  );
  return {
    proposals,
    hub,
    async close() {
      proposals.stop();
      engine.close();
      await ledger.close();
      await pool.end();
    },
  };
}

/** Resolves when `hub` publishes proposal `id` with `status`. */
function published(hub: EventHub, id: string, status: string): Promise<void> {
  return new Promise((resolve) => {
    const stop = hub.subscribe((e) => {
      if (e.type === 'proposal' && e.proposal.id === id && e.proposal.status === status) {
        stop();
        resolve();
      }
    });
  });
}

const summary = (ms: number[]) => {
  const sorted = [...ms].sort((x, y) => x - y);
  return { p50ms: round(percentile(sorted, 50)), p99ms: round(percentile(sorted, 99)) };
};

export async function benchPostgresConsoles(changes: number) {
  const available = postgresAvailability();
  if (!available.ok) {
    process.stderr.write(`pgconsoles bench skipped: ${available.reason}\n`);
    return { skipped: available.reason };
  }
  const loadBefore = loadavg().map((x) => round(x));
  const dir = tempDir('openexec-pgconsoles-bench-');
  const cluster = await startCluster(available, { fsync: true });
  const opened: Instance[] = [];
  try {
    const db = await migratedDatabase(cluster, 'bench_consoles');
    const [a, b] = [await instance(db.appUrl, dir), await instance(db.appUrl, dir)];
    opened.push(a!, b!);
    const floorPool = new pg.Pool({ connectionString: db.appUrl, max: 1 });
    const roundTrips: number[] = [];
    const proposeAtA: number[] = [];
    const seenAtB: number[] = [];
    const denyAtA: number[] = [];
    const wokenAtB: number[] = [];
    // How long after A's own answer B heard of it: what following another instance adds.
    const seenLag: number[] = [];
    const wokenLag: number[] = [];
    try {
      const payload = parseJson('{"amount":1}') as JsonObject;
      // Warm-up (pools, each instance's key registered), then the timed changes.
      for (let i = -20; i < changes; i++) {
        const s0 = performance.now();
        await floorPool.query('SELECT 1');
        const rt = performance.now() - s0;
        // The proposal's id is not known before A makes it: B's first proposal event after the start is it.
        const seen = new Promise<number>((resolve) => {
          const stop = b!.hub.subscribe((e) => {
            if (e.type === 'proposal' && e.proposal.status === 'pending') {
              stop();
              resolve(performance.now());
            }
          });
        });
        const t0 = performance.now();
        const { proposal } = await a!.proposals.propose({ action: 'pay', payload, nonce: `bench-${i}` });
        const t1 = performance.now();
        const t2 = await seen;
        const waiting = b!.proposals.wait(proposal.id, 60_000).then(() => performance.now());
        const denied = published(b!.hub, proposal.id, 'denied');
        const t3 = performance.now();
        await a!.proposals.deny(proposal.id, 'bench');
        const t4 = performance.now();
        const t5 = await waiting;
        await denied;
        if (i < 0) continue;
        roundTrips.push(rt);
        proposeAtA.push(t1 - t0);
        seenAtB.push(t2 - t0);
        denyAtA.push(t4 - t3);
        wokenAtB.push(t5 - t3);
        seenLag.push(t2 - t1);
        wokenLag.push(t5 - t4);
      }
    } finally {
      await floorPool.end();
    }
    const floor = summary(roundTrips);
    const seen = summary(seenAtB);
    const woken = summary(wokenAtB);
    const lags = { seen: summary(seenLag), woken: summary(wokenLag) };
    return {
      what: 'two instances on one database, one change at a time, no HTTP; PostgreSQL: throwaway cluster on 127.0.0.1, fsync on',
      changes,
      loadAverage: { before: loadBefore, after: loadavg().map((x) => round(x)) },
      roundTrip: floor,
      proposeAtA: summary(proposeAtA),
      seenAtB: seen,
      denyAtA: summary(denyAtA),
      wokenAtB: woken,
      /** After A's answer: how much later B published the proposal, and B's long-poll woke. */
      seenAtBAfterA: lags.seen,
      wokenAtBAfterA: lags.woken,
      ratios: {
        seenAtBP50OverRoundTrip: round(seen.p50ms / floor.p50ms),
        wokenAtBP50OverRoundTrip: round(woken.p50ms / floor.p50ms),
        seenAfterAP50OverRoundTrip: round(lags.seen.p50ms / floor.p50ms),
        wokenAfterAP50OverRoundTrip: round(lags.woken.p50ms / floor.p50ms),
      },
    };
  } finally {
    for (const o of opened) await o.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
