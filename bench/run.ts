/**
 * `npm run bench`: prints JSON figures. Not a test: nothing here passes or fails on timing.
 * BENCH_ONLY=execute|logging|ledger|view|actions|merkle|events|mcp|postgres|migration runs one part (migration only when named:
 * the one-time rewrite of a previous version's receipts table, BENCH_RECEIPTS of them); BENCH_EXECUTE_REQUESTS sets the
 * requests per /execute level (default 6,000; FULL runs half); BENCH_RECEIPTS sets the ledger size (default 1,000,000)
 * for the ledger, the Ledger view (Chromium, through the console test bridge) and PostgreSQL's search;
 * BENCH_PG_APPENDS the timed appends per concurrency on PostgreSQL and SQLite (default 3000);
 * BENCH_ONLY=pgexecute runs the engine (no HTTP) on PostgreSQL beside SQLite, BENCH_PG_EXECUTE_REQUESTS
 * executions per engine and level (default 2000).
 * BENCH_ONLY=pgconsoles: two instances on one PostgreSQL database, how soon one's proposal and denial reach
 * the other's event hub and long-poll (pg-consoles-bench.ts), BENCH_PG_CONSOLES_CHANGES of each (default 300).
 * BENCH_ONLY=pghttp: POST /execute to headless servers on SQLite and on PostgreSQL (one server, and
 * two on one database), BENCH_PG_HTTP_REQUESTS per setup and level (default 2000).
 * BENCH_ONLY=walpages: WAL pages written per execution (wal-pages-bench.ts), after a ledger of
 * BENCH_WALPAGES_PREFILL executions (default 10,000), over BENCH_WALPAGES_MEASURED of them (default 1,024).
 */
import { benchExecute } from './execute-bench.ts';
import { measureFloor } from './machine-floor.ts';
import { benchLedger } from './ledger-bench.ts';
import { benchLedgerView } from './ledger-view-bench.ts';
import { benchActions } from './actions-bench.ts';
import { benchMerkle } from './merkle-bench.ts';
import { benchEvents } from './events-bench.ts';
import { benchLoggingCost } from './logging-bench.ts';
import { benchMcp } from './mcp-bench.ts';
import { benchPostgres } from './postgres-bench.ts';
import { benchMigration } from './migration-bench.ts';
import { benchPostgresExecute } from './pg-execute-bench.ts';
import { benchPostgresHttpExecute } from './pg-http-execute-bench.ts';
import { benchWalPages } from './wal-pages-bench.ts';
import { benchPostgresConsoles } from './pg-consoles-bench.ts';

const only = process.env['BENCH_ONLY'];
const results: Record<string, unknown> = {
  machine: { node: process.versions.node, cpus: (await import('node:os')).cpus().length },
};
if (!only || only === 'execute') {
  // The floor first, per synchronous mode; every figure is printed as a fraction of it too.
  const floors = { NORMAL: measureFloor('NORMAL'), FULL: measureFloor('FULL') };
  const perLevel = Number(process.env['BENCH_EXECUTE_REQUESTS'] ?? 6000);
  results['executeFloor'] = floors;
  const execute = [
    ...(await benchExecute('NORMAL', [1, 16, 64], perLevel, {}, floors.NORMAL, true)),
    ...(await benchExecute('FULL', [1, 16, 64], Math.ceil(perLevel / 2), {}, floors.FULL, true)),
  ];
  // HTTP alone, each level measured right after its /execute run (transport-floor.ts).
  results['transportFloor'] = execute.map((f) => ({ synchronous: f.synchronous, ...f.transportFloor, ofLoop: f.transportShareOfLoop }));
  results['execute'] = execute;
}
if (!only || only === 'walpages') {
  results['walpages'] = await benchWalPages(
    Number(process.env['BENCH_WALPAGES_PREFILL'] ?? 10_000),
    Number(process.env['BENCH_WALPAGES_MEASURED'] ?? 1024),
  );
}
if (!only || only === 'logging') {
  // At least 3 logged/silent pairs: fewer cannot tell the cost from a neighbour's burst.
  results['logging'] = await benchLoggingCost(Math.max(3, Number(process.env['BENCH_PAIRS'] ?? 20)), 600);
}
if (!only || only === 'ledger') {
  results['ledger'] = await benchLedger(Number(process.env['BENCH_RECEIPTS'] ?? 1_000_000));
}
if (!only || only === 'view') {
  results['view'] = await benchLedgerView(Number(process.env['BENCH_RECEIPTS'] ?? 1_000_000));
}
if (!only || only === 'actions') {
  results['actions'] = await benchActions(Number(process.env['BENCH_RUNS'] ?? 1000));
}
if (!only || only === 'merkle') {
  results['merkle'] = await benchMerkle(
    Number(process.env['BENCH_RECEIPTS'] ?? 1_000_000),
    Number(process.env['BENCH_EXECUTE_REQUESTS'] ?? 6000),
  );
}
if (!only || only === 'events') {
  results['events'] = await benchEvents();
}
if (!only || only === 'mcp') {
  results['mcp'] = await benchMcp(Number(process.env['BENCH_CALLS'] ?? 1000));
}
if (!only || only === 'postgres') {
  results['postgres'] = await benchPostgres({
    appends: Number(process.env['BENCH_PG_APPENDS'] ?? 3000),
    receipts: Number(process.env['BENCH_RECEIPTS'] ?? 1_000_000),
    searchRuns: Number(process.env['BENCH_PG_SEARCH_RUNS'] ?? 60),
  });
}
if (only === 'migration') {
  results['migration'] = await benchMigration(Number(process.env['BENCH_RECEIPTS'] ?? 1_000_000));
}
if (!only || only === 'pgexecute') {
  results['pgexecute'] = await benchPostgresExecute(Number(process.env['BENCH_PG_EXECUTE_REQUESTS'] ?? 2000));
}
if (!only || only === 'pgconsoles') {
  results['pgconsoles'] = await benchPostgresConsoles(Number(process.env['BENCH_PG_CONSOLES_CHANGES'] ?? 300));
}
if (!only || only === 'pghttp') {
  results['pghttp'] = await benchPostgresHttpExecute(Number(process.env['BENCH_PG_HTTP_REQUESTS'] ?? 2000));
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
