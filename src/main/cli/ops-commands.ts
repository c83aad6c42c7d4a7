import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OpenExecConfig } from '../app/config.ts';
import { hardeningReport, probeHost } from '../app/hardening-checks.ts';
import { SERVER_INFO_FILE } from '../app/server-info.ts';
import type { HardeningReportDto } from '../../shared/hardening.ts';
import type { ConsoleClient } from './console-client.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { parseRetention } from '../../shared/retention.ts';
import { describeServer } from '../core/store/postgres/pg-server-name.ts';

/**
 * `openexec doctor [--json]`: the hardening checklist. With a server running, its own report
 * (the address it bound, the uid it runs as, its ledger); without one, what the configuration
 * and the filesystem show, the rest marked `manual`. Exit 1 when any item fails.
 */
export async function doctorCommand(config: OpenExecConfig, client: () => ConsoleClient, out: CliOutput): Promise<number> {
  const running = existsSync(join(config.dataDir, SERVER_INFO_FILE));
  const report: HardeningReportDto = running ? await client().call('hardeningReport') : hardeningReport(config, null, probeHost());
  const failed = report.checks.some((c) => c.status === 'fail');
  if (out.json) {
    out.printJson({ checks: report.checks });
    return failed ? 1 : 0;
  }
  if (!running) out.print(`no running OpenExec in ${config.dataDir}: checking the configuration only`);
  for (const c of report.checks) {
    out.print(`${c.status.toUpperCase().padEnd(6)} ${c.id}: ${c.evidence}`);
    if (c.status !== 'pass') out.print(`       → ${c.remedy}`);
  }
  const count = (s: string) => report.checks.filter((c) => c.status === s).length;
  out.print(`${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail, ${count('manual')} to check by hand`);
  return failed ? 1 : 0;
}

/**
 * `openexec backup` on a PostgreSQL ledger: refused. The server's own tools copy a database
 * that several instances write consistently (pg_dump's snapshot, base backups and WAL
 * archiving); README "Backups and restores" says how, and how to verify a restore.
 */
export function refusePostgresBackup(url: string): never {
  throw new CliError(
    `openexec backup copies a SQLite ledger; the ledger at ${describeServer(url)} is on PostgreSQL: back it up with pg_dump or the server's own backups, and check a restored copy with openexec verify-ledger --db-url`,
  );
}

/** `openexec backup --out FILE`: the running server copies, verifies and records; we report. */
export async function backupCommand(client: ConsoleClient, outFile: string | undefined, out: CliOutput): Promise<number> {
  if (outFile === undefined || outFile.trim() === '') throw new CliError('backup needs --out FILE (a file that does not exist yet)', 2);
  const path = resolve(outFile);
  if (existsSync(path)) throw new CliError(`${path} already exists; a backup never overwrites a file`);
  const b = await client.call('backup', { path });
  if (out.json) out.printJson(b);
  else {
    out.print(`backup of ${b.seq} receipts (head ${b.hash}) written to ${b.path}: ${b.bytes} bytes, sha256 ${b.sha256}`);
    out.print(`verified like verify-ledger; recorded by receipt #${b.receiptSeq}`);
  }
  return 0;
}

/**
 * `openexec purge --older-than DURATION`: the running server removes the bodies older than that
 * and records the purge in the ledger; we report what it did. The period is checked here first,
 * so a bad one never reaches the server.
 */
export async function purgeCommand(
  client: () => ConsoleClient,
  olderThan: string | undefined,
  out: CliOutput,
  onPostgres = false,
): Promise<number> {
  if (olderThan === undefined) throw new CliError('purge needs --older-than DURATION (12h, 90d, 8w, …)', 2);
  const period = parseRetention(olderThan);
  if (!period.ok) throw new CliError(`--older-than ${period.problem}`, 2);
  const p = await client().call('purge', { olderThan });
  if (out.json) return (out.printJson(p), 0);
  if (p.receiptSeq === null) {
    out.print(`nothing older than ${p.cutoff} to purge; no receipt written`);
    return 0;
  }
  const span = p.fromSeq === null ? 'no receipt bodies' : `the bodies of ${p.receipts} receipts (#${p.fromSeq} to #${p.toSeq})`;
  out.print(`purged ${span}, ${p.executions} execution results and ${p.proposals} proposals older than ${p.cutoff}`);
  out.print(`recorded by receipt #${p.receiptSeq}; every receipt still verifies (openexec verify-ledger)`);
  if (onPostgres)
    out.print(
      'note: PostgreSQL keeps the old row versions until VACUUM; to have the bytes gone from its files, the database owner runs VACUUM (FULL, ANALYZE) and REINDEX as README "PostgreSQL" says',
    );
  else if (!p.walTruncated)
    out.print(
      'note: a reader held the WAL open, so it was not cut yet; purged bytes may linger in openexec.db-wal until the next checkpoint',
    );
  return 0;
}
