import { readCertificate, TLS_EXPIRY_WARNING_DAYS } from './tls-files.ts';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HardeningCheckDto, HardeningReportDto } from '../../shared/hardening.ts';
import { isLoopbackHost } from '../api/request-guard.ts';
import { postgresTrust } from './db-trust.ts';
import type { OpenExecConfig } from './config.ts';
import { check, type ServerFacts } from './hardening-check.ts';
import type { HostProbe } from './host-probe.ts';
import { dataDirModes, diskSpace, keyFileModes, ledgerTail, receiptKeyBackup } from './hardening-own-checks.ts';

export type { ServerFacts } from './hardening-check.ts';
export { probeHost, type HostProbe } from './host-probe.ts';

/**
 * The production checklist, checked. Core-free: it reads the configuration, the filesystem,
 * the process and what the running server says about itself (`ServerFacts`, gathered where the
 * core lives), so `openexec doctor` can run it with or without a server.
 */

/** statfs f_type of network filesystems: a SQLite file there risks broken locking. */
const NETWORK_FS: Record<number, string> = { 0x6969: 'NFS', 0xff534d42: 'CIFS', 0xfe534d42: 'SMB2', 0x517b: 'SMB' };

/** SHA-256 of the key's DER SubjectPublicKeyInfo, as `openssl pkey -pubin -outform DER | sha256sum` prints it. */
export function publicKeyFingerprint(raw: Uint8Array): string {
  const der = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' }).export({
    type: 'spki',
    format: 'der',
  });
  return createHash('sha256').update(der).digest('hex');
}

function bindChecks(config: OpenExecConfig, facts: ServerFacts | null): HardeningCheckDto[] {
  const host = facts?.boundHost ?? config.host;
  const port = facts?.boundPort ?? config.port;
  const seen = facts ? `bound to ${host}:${port}` : `configured for ${host}:${port} (no server running)`;
  if (isLoopbackHost(host)) {
    return [
      check('bind', 'pass', `${seen}: loopback only`, 'Keep OPENEXEC_HOST on loopback.'),
      check('firewall', 'pass', 'loopback bind: no other host can connect to the API', 'Nothing to do while the bind stays on loopback.'),
      check('tls', 'pass', 'loopback bind: traffic never leaves this host', 'Nothing to do while the bind stays on loopback.'),
    ];
  }
  return [
    check(
      'bind',
      'warn',
      `${seen}: not loopback, anyone who can reach it can submit proposals`,
      'Bind to 127.0.0.1 and let agents reach it through a local proxy or tunnel.',
    ),
    check('firewall', 'manual', `${seen}`, `Does a firewall admit only the agents' hosts to port ${port}?`),
    tlsCheck(config, seen),
  ];
}

/** Off loopback the API must be HTTPS (OPENEXEC_TLS_CERT/KEY) with a certificate still valid. */
function tlsCheck(config: OpenExecConfig, seen: string): HardeningCheckDto {
  if (config.tlsCertFile === null) {
    return check(
      'tls',
      'fail',
      `${seen}: plain HTTP (OPENEXEC_ALLOW_PLAINTEXT), so tokens and payloads cross the network unencrypted`,
      'Set OPENEXEC_TLS_CERT and OPENEXEC_TLS_KEY, or bind to loopback.',
    );
  }
  let validTo: Date;
  try {
    validTo = new Date(readCertificate(config.tlsCertFile).leaf.validTo);
  } catch (err) {
    return check(
      'tls',
      'fail',
      `OPENEXEC_TLS_CERT ${config.tlsCertFile}: ${(err as Error).message}`,
      'Point OPENEXEC_TLS_CERT at a readable PEM certificate.',
    );
  }
  const days = Math.floor((validTo.getTime() - Date.now()) / 86_400_000);
  const evidence = `${seen}: HTTPS with ${config.tlsCertFile}, valid until ${validTo.toISOString()} (${days} days)`;
  if (days < 0) return check('tls', 'fail', evidence, 'The certificate has expired: replace it and restart.');
  if (days <= TLS_EXPIRY_WARNING_DAYS) return check('tls', 'warn', evidence, 'Renew the certificate before it expires, then restart.');
  return check('tls', 'pass', evidence, 'Renew the certificate before it expires.');
}

/** The app's package.json pins every dependency exactly and a lockfile sits beside it. */
function pinnedDependencies(): HardeningCheckDto {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const pkgFile = join(dir, 'package.json');
  if (!existsSync(pkgFile))
    return check(
      'pinned_dependencies',
      'manual',
      'no package.json found beside the program',
      'Are the installed dependencies pinned and reviewed?',
    );
  try {
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as Record<string, Record<string, string> | undefined>;
    const all = { ...pkg['dependencies'], ...pkg['devDependencies'] };
    const loose = Object.entries(all)
      .filter(([, v]) => !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(v))
      .map(([n, v]) => `${n}@${v}`);
    const lock = existsSync(join(dir, 'package-lock.json'));
    if (loose.length === 0 && lock)
      return check(
        'pinned_dependencies',
        'pass',
        `${Object.keys(all).length} dependencies pinned exactly, package-lock.json present`,
        'Install with npm ci; review each upgrade.',
      );
    return check(
      'pinned_dependencies',
      'warn',
      `${loose.length ? `not exact: ${loose.slice(0, 5).join(', ')}` : 'exact versions'}${lock ? '' : '; no package-lock.json'}`,
      'Pin exact versions and install with npm ci from the lockfile.',
    );
  } catch (err) {
    return check(
      'pinned_dependencies',
      'manual',
      `${pkgFile} unreadable: ${(err as Error).message}`,
      'Are the installed dependencies pinned and reviewed?',
    );
  }
}

function isolation(probe: HostProbe): HardeningCheckDto {
  if (probe.containerMarkers.length > 0)
    return check('isolation', 'pass', probe.containerMarkers.join('; '), 'Keep the container or VM free of other services.');
  return check(
    'isolation',
    'warn',
    'no container or VM marker (/.dockerenv, /run/.containerenv, /proc/1/cgroup, systemd-detect-virt)',
    'Run OpenExec in a container or VM of its own, so a handler that misbehaves reaches nothing else.',
  );
}

function notRoot(uid: number | null): HardeningCheckDto {
  if (uid === null) return check('not_root', 'manual', 'no POSIX uid on this platform', 'Does OpenExec run as an unprivileged account?');
  if (uid === 0)
    return check('not_root', 'fail', 'running as root (uid 0)', 'Run OpenExec as an unprivileged user that owns only its data directory.');
  return check('not_root', 'pass', `running as uid ${uid}`, 'Keep it unprivileged.');
}

function allowedActions(config: OpenExecConfig, facts: ServerFacts | null): HardeningCheckDto {
  const list = facts ? facts.allowList : config.allowedActions;
  if (list !== null) {
    const how = (facts?.allowListLocked ?? true) ? 'fixed by OPENEXEC_ALLOWED_ACTIONS' : "the operator's list";
    return check(
      'allowed_actions',
      'pass',
      `allow-list in force (${how}): ${list.length ? list.join(', ') : '(none)'}`,
      'Allow only the actions agents need.',
    );
  }
  if (facts === null)
    return check(
      'allowed_actions',
      'warn',
      'OPENEXEC_ALLOWED_ACTIONS unset; the console may hold a list (no server running to ask)',
      'Set OPENEXEC_ALLOWED_ACTIONS, or start the server and run doctor again.',
    );
  return check(
    'allowed_actions',
    'fail',
    'no allow-list: every registered action may run',
    'Set OPENEXEC_ALLOWED_ACTIONS (or allow actions one by one in the console).',
  );
}

function clawshieldKey(config: OpenExecConfig): HardeningCheckDto {
  const key = config.clawshieldPublicKey;
  if (key !== null) {
    return check(
      'clawshield_public_key',
      config.mode === 'clawshield' ? 'pass' : 'warn',
      `CLAWSHIELD_PUBLIC_KEY parses; SHA-256 of its DER: ${publicKeyFingerprint(key)}${config.mode === 'demo' ? ' (unused: demo mode)' : ''}`,
      "Compare this fingerprint with the approver's, out of band.",
    );
  }
  if (config.mode === 'clawshield')
    return check(
      'clawshield_public_key',
      'fail',
      'clawshield mode without CLAWSHIELD_PUBLIC_KEY: every ClawShield artifact is refused',
      "Set CLAWSHIELD_PUBLIC_KEY to the approver's Ed25519 PEM key.",
    );
  return check(
    'clawshield_public_key',
    'warn',
    'demo mode: allowed actions run without any approval',
    'Set OPENEXEC_MODE=clawshield and CLAWSHIELD_PUBLIC_KEY.',
  );
}

function tenant(config: OpenExecConfig): HardeningCheckDto {
  if (config.tenantId !== null)
    return check(
      'tenant_id',
      'pass',
      `CLAWSHIELD_TENANT_ID = ${config.tenantId}`,
      'Keep the environment that sets it readable only by the service account.',
    );
  return check(
    'tenant_id',
    config.mode === 'clawshield' ? 'warn' : 'manual',
    'CLAWSHIELD_TENANT_ID unset: artifacts for any tenant are accepted',
    "Set CLAWSHIELD_TENANT_ID to this deployment's tenant.",
  );
}

function handlers(facts: ServerFacts | null): HardeningCheckDto {
  if (facts === null)
    return check(
      'handlers_audited',
      'manual',
      'no server running to list the actions',
      'Has someone reviewed every action handler and the manifest?',
    );
  const list = facts.actions.map((a) => `${a.name}${a.definitionHash ? ` ${a.definitionHash.slice(0, 12)}` : ' (built-in)'}`).join(', ');
  const manifest = facts.manifest
    ? `; manifest ${facts.manifest.path} sha256 ${facts.manifest.hash}${facts.manifest.recordedSeq ? `, recorded at receipt #${facts.manifest.recordedSeq}` : ''}`
    : '; no manifest';
  return check(
    'handlers_audited',
    'manual',
    `actions: ${list}${manifest}`,
    'Has someone reviewed each of these definitions (hash by hash) since it last changed?',
  );
}

/** On PostgreSQL: what leaves this host and whom it trusts (db-trust.ts), as start-up says it. */
function postgresDb(url: string): HardeningCheckDto {
  const trust = postgresTrust(url);
  if (trust.problem !== null) return check('remote_db_trust', 'warn', trust.line, trust.problem);
  return check(
    'remote_db_trust',
    trust.remote ? 'manual' : 'pass',
    trust.line,
    trust.remote
      ? 'Do you trust that server and its administrators with the ledger, and does OpenExec connect as the application role only (SECURITY.md)?'
      : 'Connect as the application role only (SECURITY.md, "PostgreSQL: roles and trust").',
  );
}

function remoteDb(config: OpenExecConfig): HardeningCheckDto {
  if (config.postgresUrl !== null) return postgresDb(config.postgresUrl);
  try {
    const type = statfsSync(dirname(config.dbPath)).type;
    const network = NETWORK_FS[type];
    if (network)
      return check(
        'remote_db_trust',
        'warn',
        `SQLite file ${config.dbPath} is on ${network}`,
        'Keep the database on a local disk: network filesystems break SQLite locking.',
      );
  } catch {
    // the directory may not exist yet; the start-up check reports that
  }
  return check(
    'remote_db_trust',
    'pass',
    `local SQLite file ${config.dbPath}: no database server, no network, no password`,
    'Nothing to do while the ledger is a local SQLite file.',
  );
}

function logsAndMonitoring(facts: ServerFacts | null): HardeningCheckDto {
  if (facts === null)
    return check('logs_and_monitoring', 'manual', 'no server running', 'Is the log rotated and are /metrics scraped and alerted on?');
  const { logging } = facts;
  const seen = `log ${logging.file ?? '(stderr only)'} rotated at ${logging.maxBytes} bytes, ${logging.files} files kept, level ${logging.level}; /metrics ${facts.metrics ? 'on' : 'off'}`;
  if (logging.file !== null && logging.level !== 'silent' && facts.metrics)
    return check('logs_and_monitoring', 'pass', seen, 'Scrape /metrics and alert on refusals and failures.');
  return check('logs_and_monitoring', 'warn', seen, 'Keep the log file writable, OPENEXEC_LOG_LEVEL above silent, and scrape /metrics.');
}

/** Facts are the running server's, gathered in its own process (so is the probe), or null offline. */
export function hardeningReport(config: OpenExecConfig, facts: ServerFacts | null, probe: HostProbe): HardeningReportDto {
  const { uid } = probe;
  return {
    checks: [
      ...bindChecks(config, facts),
      pinnedDependencies(),
      isolation(probe),
      notRoot(uid),
      allowedActions(config, facts),
      clawshieldKey(config),
      tenant(config),
      handlers(facts),
      remoteDb(config),
      logsAndMonitoring(facts),
      dataDirModes(config, uid),
      keyFileModes(config),
      diskSpace(config),
      ledgerTail(facts),
      receiptKeyBackup(facts),
    ],
  };
}
