/**
 * `npm run bench`: prints JSON figures. Not a test: nothing here passes or fails on timing.
 * BENCH_ONLY=execute|logging|ledger|view|actions|merkle|events|mcp|postgres runs one part; BENCH_RECEIPTS sets the ledger size (default 1,000,000)
 * for the ledger, the Ledger view (Chromium, through the console test bridge) and PostgreSQL's search;
 * BENCH_PG_APPENDS the timed appends per concurrency on PostgreSQL and SQLite (default 3000).
 */
import { benchExecute } from './execute-bench.ts';
import { benchLedger } from './ledger-bench.ts';
import { benchLedgerView } from './ledger-view-bench.ts';
import { benchActions } from './actions-bench.ts';
import { benchMerkle } from './merkle-bench.ts';
import { benchEvents } from './events-bench.ts';
import { benchLoggingCost } from './logging-bench.ts';
import { benchMcp } from './mcp-bench.ts';
import { benchPostgres } from './postgres-bench.ts';

const only = process.env['BENCH_ONLY'];
const results: Record<string, unknown> = {
  machine: { node: process.versions.node, cpus: (await import('node:os')).cpus().length },
};
if (!only || only === 'execute') {
  results['execute'] = [...(await benchExecute('NORMAL', [1, 16, 64], 6000)), ...(await benchExecute('FULL', [1, 16, 64], 3000))];
}
if (!only || only === 'logging') {
  results['logging'] = await benchLoggingCost(Number(process.env['BENCH_ROUNDS'] ?? 3), 4000);
}
if (!only || only === 'ledger') {
  results['ledger'] = benchLedger(Number(process.env['BENCH_RECEIPTS'] ?? 1_000_000));
}
if (!only || only === 'view') {
  results['view'] = await benchLedgerView(Number(process.env['BENCH_RECEIPTS'] ?? 1_000_000));
}
if (!only || only === 'actions') {
  results['actions'] = await benchActions(Number(process.env['BENCH_RUNS'] ?? 1000));
}
if (!only || only === 'merkle') {
  results['merkle'] = await benchMerkle(Number(process.env['BENCH_RECEIPTS'] ?? 1_000_000), 6000);
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
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
