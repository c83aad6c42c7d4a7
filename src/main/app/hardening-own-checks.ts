import { existsSync, statSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HardeningCheckDto } from '../../shared/hardening.ts';
import type { OpenExecConfig } from './config.ts';
import { check, type ServerFacts } from './hardening-check.ts';

/**
 * The checks of our own beyond the checklist's twelve: the data directory's and key files'
 * modes, free disk space, the ledger's tail verifying, and a backup on record.
 */

/** Free space below this warns; below the floor fails (a full disk makes every write a 503). */
const DISK_WARN_BYTES = 1024 ** 3;
const DISK_FAIL_BYTES = 100 * 1024 ** 2;
function modeOf(path: string): string {
  return (statSync(path).mode & 0o777).toString(8).padStart(3, '0');
}

export function dataDirModes(config: OpenExecConfig, uid: number | null): HardeningCheckDto {
  try {
    const st = statSync(config.dataDir);
    const problems = [
      ...(uid !== null && st.uid !== uid ? [`owned by uid ${st.uid}`] : []),
      ...((st.mode & 0o077) !== 0 ? [`mode ${modeOf(config.dataDir)} lets others in`] : []),
    ];
    if (problems.length === 0) return check('data_dir_modes', 'pass', `${config.dataDir} mode ${modeOf(config.dataDir)}`, 'Keep it 0700.');
    return check(
      'data_dir_modes',
      (st.mode & 0o022) !== 0 ? 'fail' : 'warn',
      `${config.dataDir}: ${problems.join(', ')}`,
      `chmod 700 ${config.dataDir}`,
    );
  } catch (err) {
    return check(
      'data_dir_modes',
      'warn',
      `${config.dataDir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'Start OpenExec once to create it.',
    );
  }
}

export function keyFileModes(config: OpenExecConfig): HardeningCheckDto {
  const seen: string[] = [];
  const open: string[] = [];
  for (const name of ['receipt-key.pem', 'operator-key.pem']) {
    const file = join(config.dataDir, name);
    if (!existsSync(file)) continue;
    const mode = modeOf(file);
    seen.push(`${name} ${mode}`);
    if ((statSync(file).mode & 0o077) !== 0) open.push(file);
  }
  if (seen.length === 0) return check('key_file_modes', 'warn', 'no key files yet', 'Start OpenExec once to create them.');
  if (open.length > 0) return check('key_file_modes', 'fail', seen.join(', '), `chmod 600 ${open.join(' ')}`);
  return check('key_file_modes', 'pass', seen.join(', '), 'Keep them 0600.');
}

export function diskSpace(config: OpenExecConfig): HardeningCheckDto {
  let free: number;
  try {
    // On PostgreSQL the database's disk is the server's; the data directory (keys, logs) is ours.
    let dir = config.dbPath === null ? config.dataDir : dirname(config.dbPath);
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    const st = statfsSync(dir);
    free = st.bavail * st.bsize;
  } catch (err) {
    return check(
      'disk_space',
      'warn',
      `cannot read free space: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'Check the database directory exists.',
    );
  }
  const where =
    config.dbPath === null ? 'where the data directory lives (the PostgreSQL server watches its own disk)' : 'where the database lives';
  const mib = `${Math.floor(free / 1024 ** 2)} MiB free ${where}`;
  if (free < DISK_FAIL_BYTES) return check('disk_space', 'fail', mib, 'Free space now: a full disk makes every write a 503.');
  if (free < DISK_WARN_BYTES) return check('disk_space', 'warn', mib, 'Free space, or move the data directory to a larger disk.');
  return check('disk_space', 'pass', mib, 'Alert when it runs low.');
}

export function ledgerTail(facts: ServerFacts | null): HardeningCheckDto {
  if (facts === null) return check('ledger_tail', 'manual', 'no server running', 'Run openexec verify-ledger.');
  const { tail } = facts;
  if (tail.valid)
    return check(
      'ledger_tail',
      'pass',
      `the last ${tail.checked} receipts hold: hashes, links and signatures`,
      'Run openexec verify-ledger now and then for the whole chain.',
    );
  return check(
    'ledger_tail',
    'fail',
    `receipt #${tail.firstBadSeq ?? '?'}: ${tail.problem ?? 'does not verify'}`,
    'Stop, run openexec verify-ledger, and restore from a backup that verifies.',
  );
}

export function receiptKeyBackup(facts: ServerFacts | null): HardeningCheckDto {
  if (facts === null)
    return check('receipt_key_backup', 'manual', 'no server running', 'Have you a backup of the ledger and of receipt-key.pem?');
  if (facts.lastBackup === null)
    return check(
      'receipt_key_backup',
      'warn',
      'the ledger records no backup',
      'Run openexec backup --out FILE, and keep receipt-key.pem and operator-key.pem with it.',
    );
  const b = facts.lastBackup;
  return check(
    'receipt_key_backup',
    'pass',
    `last backup at ${b.time} (receipt #${b.receiptSeq}) copied ${b.seq} receipts`,
    'Back up again regularly; keep the key files with the copies.',
  );
}
