import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { REPO_ROOT, type RunningServer } from './harness.ts';
import { pendingId } from './pending.ts';
import { rawDb } from './raw-db.ts';

/** A real third-party MCP server from the registry, run over stdio. */
export const EVERYTHING = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

/** The upstream started with `marker` among its arguments (ignored by it), not our CLI that names it too. */
export function pidWith(marker: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(marker) && !cmdline.includes('openexec-cli')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** What OpenExec decided about a tool call. */
export const gate = (r: { _meta?: Record<string, unknown> }) => r._meta?.['openexec/gate'] as Record<string, any>;

/** A receipt's body, by sequence number. */
export const receipt = (s: RunningServer, seq: number) =>
  JSON.parse(rawDb(s.app.core).prepare('SELECT body FROM receipts WHERE seq = ?').pluck().get(seq) as string);

/** Call options for a call held open while the operator decides (progress keeps it alive). */
export const held = { onprogress: () => {}, resetTimeoutOnProgress: true, timeout: 120_000 };

/** How many `reported` receipts witness calls forwarded under this proposal. */
export const reportedFor = (s: RunningServer, id: string): number =>
  rawDb(s.app.core).prepare("SELECT count(*) FROM receipts WHERE event = 'reported' AND proposal_id = ?").pluck().get(id) as number;

/**
 * A long call is approved, forwarded, and its upstream (found by `marker`) killed while it
 * runs: the call must answer `outcome_unknown`, witnessed once. Returns the proposal and the
 * killed upstream's pid.
 */
export async function crashMidCall(s: RunningServer, client: Client, marker: string): Promise<{ id: string; upstream: number }> {
  const call = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }, undefined, held);
  const id = await pendingId(s, (p) => p.action === 'mcp:everything/trigger-long-running-operation');
  await s.app.console.approve({ id });
  const upstream = pidWith(marker);
  expect(upstream).not.toBeNull();
  // The approval is seen at once; give the forwarded call a moment to arrive.
  await new Promise((r) => setTimeout(r, 1500));
  process.kill(upstream!, 'SIGKILL');
  const r = await call;
  expect(r.isError).toBe(true);
  expect(gate(r)).toMatchObject({ outcome: 'outcome_unknown', proposal_id: id });
  expect(receipt(s, gate(r)['receipt_seq'])).toMatchObject({
    event: 'reported',
    proposal_id: id,
    details: { outcome: 'outcome_unknown', matched: true },
  });
  expect(reportedFor(s, id)).toBe(1);
  return { id, upstream: upstream! };
}

/** test/support/duplicate-tools-upstream.ts as an upstream command: its listing names `echo` twice. */
export const DUPLICATE_TOOLS_UPSTREAM = {
  command: process.execPath,
  args: ['--import', join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs'), join(REPO_ROOT, 'test/support/duplicate-tools-upstream.ts')],
};
