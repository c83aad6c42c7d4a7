import type { Logger } from 'pino';
import type { LedgerStore } from '../core/store/ledger-store.ts';
import type { OpenExecConfig } from './config.ts';
import type { OpenExecLogger } from './logging.ts';

/** Receipts worth a line of their own: every refusal, denial, expiry and failure, and every change of configuration. */
const LOGGED_EVENTS = new Set(['refused', 'denied', 'expired', 'failed', 'config']);

/** Refusals not answered to a request (an expiry, a denial in the console) reach the log here. */
export function logReceipts(ledger: Pick<LedgerStore, 'subscribe'>, logger: Logger): void {
  ledger.subscribe((receipts) => {
    for (const r of receipts) {
      if (!LOGGED_EVENTS.has(r.event)) continue;
      logger.info({ seq: r.seq, event: r.event, action: r.action, reason: r.reason?.slice(0, 300) ?? null }, 'receipt');
    }
  });
}

/**
 * The configuration in force, named field by field: never the environment wholesale (it holds
 * whatever else the operator keeps there) and never a key, only key fingerprints' owners.
 */
export function logStartup(log: OpenExecLogger, config: OpenExecConfig, address: string, warnings: readonly string[]): void {
  log.logger.info(
    {
      address,
      mode: config.mode,
      dataDir: config.dataDir,
      // Never the PostgreSQL URL itself: it may hold the password.
      db: config.postgresUrl === null ? config.dbPath : config.dbDisplay,
      allowedActions: config.allowedActions,
      clawshieldKey: config.clawshieldPublicKey !== null,
      tenant: config.tenantId,
      actionsFile: config.actionsFile,
      witnessDir: config.witnessDir,
      synchronous: config.synchronous,
      retentionMs: config.retentionMs,
      log: { file: log.file, level: config.logLevel, maxBytes: config.logMaxBytes, files: config.logFiles },
    },
    'started',
  );
  for (const w of warnings) log.logger.warn(w);
}
