import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OpenExecConfig } from '../app/config.ts';
import { hardeningReport, probeHost } from '../app/hardening-checks.ts';
import { SERVER_INFO_FILE } from '../app/server-info.ts';
import type { HardeningReportDto } from '../../shared/hardening.ts';
import type { ConsoleClient } from './console-client.ts';
import { CliError, type CliOutput } from './cli-error.ts';

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
