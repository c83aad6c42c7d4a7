/**
 * Advisory lock keys (pg_advisory_xact_lock takes a bigint; passed as text, which the
 * server casts). Every OpenExec instance on one database uses the same keys, so they
 * serialise against each other and nothing else.
 */
/** Held while migrating, so two instances starting together do not race. */
export const MIGRATION_LOCK = '7305901001';
/** Held by each group transaction that appends receipts or spends nonces and approvals. */
export const LEDGER_LOCK = '7305901002';
/** The LISTEN/NOTIFY channel: a committed group announces the new head here. */
export const LEDGER_CHANNEL = 'openexec_ledger';
