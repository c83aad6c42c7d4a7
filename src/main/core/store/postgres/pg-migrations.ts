import pg from 'pg';
import { checkout, PostgresStoreError } from './pg-pool.ts';
import { MIGRATION_LOCK } from './pg-locks.ts';
import { AGENT_SEARCH_SCHEMA } from './pg-agent-search-schema.ts';
import { FILTER_COUNT_SCHEMA } from './pg-count-schema.ts';
import { PURGE_SCHEMA, purgeGrants } from './pg-purge-schema.ts';
import { RECORD_TABLES, recordGrants } from './pg-record-schema.ts';

/**
 * Each instance's receipt key, once, pointing at the config receipt that registered it.
 * An index the store keeps (one registration per key, whoever inserts); verifiers read the
 * registrations from the receipts themselves.
 */
const RECEIPT_KEYS = `
  CREATE TABLE receipt_keys (
    key_id text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{16}$'),
    public_key_pem text NOT NULL,
    seq bigint NOT NULL UNIQUE REFERENCES receipts (seq)
  );
  CREATE TRIGGER receipt_keys_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON receipt_keys
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_refuse_change();
  `;

/**
 * The payloads, contexts, previews and results receipts of format 2 commit to by salted hash
 * (src/main/core/ledger/receipt-bodies.ts), written with their receipt, and the columns that say
 * when retention purged an execution's result or a proposal's payload. Retention's purge is not
 * yet on PostgreSQL, so the application role may only add bodies and no role may delete them.
 */
const RECEIPT_BODIES = `
  CREATE TABLE receipt_bodies (
    seq bigint NOT NULL REFERENCES receipts (seq),
    field text NOT NULL CHECK (field IN ('payload', 'context', 'preview', 'result')),
    salt bytea CHECK (length(salt) = 32),
    body text,
    purged_at text,
    purge_seq bigint REFERENCES receipts (seq),
    PRIMARY KEY (seq, field)
  );
  CREATE TRIGGER receipt_bodies_kept BEFORE DELETE OR TRUNCATE ON receipt_bodies
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_refuse_change();
  -- When retention purged an execution's result or a decided proposal's payload (as on SQLite).
  ALTER TABLE executions ADD COLUMN purged_at text;
  ALTER TABLE proposals ADD COLUMN purged_at text;
  `;

/**
 * Which instance (by its receipt key) reserved each execution. Several instances share the
 * table, and only the one that reserved an execution can tell that its handler is no longer
 * running: it closes its own as interrupted when it starts again, and another instance asked
 * for the same nonce meanwhile answers that it runs elsewhere rather than closing it.
 */
const EXECUTION_INSTANCE = `
  ALTER TABLE executions ADD COLUMN reserved_by text CHECK (reserved_by ~ '^[0-9a-f]{16}$');
  CREATE INDEX executions_started ON executions (reserved_by, created_at) WHERE status = 'started';
  `;

/**
 * The order approvals were spent in, which SQLite's rowid keeps: the console lists them newest
 * first, a page at a time before a `seq` (ExecutionRecords.listApprovals). Approvals spent
 * before this migration are numbered in the order the table returns them.
 */
const APPROVAL_ORDER = `
  ALTER TABLE approvals ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
  CREATE UNIQUE INDEX approvals_seq ON approvals (seq);
  `;

/**
 * The PostgreSQL schema, one version per entry, recorded in schema_migrations. Never edit a
 * shipped migration: add a new one. README "PostgreSQL" describes the tables and guarantees.
 */
const MIGRATIONS: readonly string[] = [
  // 1: the receipt chain, spent nonces and approvals, and the receipts' Merkle tree.
  `
  CREATE FUNCTION openexec_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION '% are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
  END $$;

  CREATE TABLE receipts (
    seq bigint PRIMARY KEY CHECK (seq >= 1),
    event text NOT NULL,
    time text NOT NULL,
    action text,
    hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
    -- Unique: two receipts naming the same predecessor would fork the chain.
    prev_hash text NOT NULL UNIQUE CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    body text NOT NULL,
    signature text NOT NULL,
    reason text,
    exec_id text,
    proposal_id text,
    approval_id text,
    approver_key_id text,
    request_hash text,
    grant_id text,
    agent text,
    search tsvector NOT NULL
  );
  CREATE INDEX receipts_event ON receipts (event, seq);
  CREATE INDEX receipts_action ON receipts (action, seq);
  CREATE INDEX receipts_approver ON receipts (approver_key_id, seq);
  CREATE INDEX receipts_agent ON receipts (agent, seq);
  CREATE INDEX receipts_time ON receipts (time);
  CREATE INDEX receipts_exec ON receipts (exec_id);
  CREATE INDEX receipts_proposal ON receipts (proposal_id);
  CREATE INDEX receipts_approval ON receipts (approval_id);
  CREATE INDEX receipts_request_hash ON receipts (request_hash);
  CREATE INDEX receipts_grant ON receipts (grant_id);
  CREATE INDEX receipts_search ON receipts USING gin (search);

  -- Whoever inserts, with or without OpenExec's lock: receipt n links to receipt n - 1, so seq
  -- stays gapless and the chain single (with the primary key and the unique prev_hash).
  CREATE FUNCTION openexec_receipt_link() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.seq = 1 THEN
      IF NEW.prev_hash <> repeat('0', 64) THEN
        RAISE EXCEPTION 'receipt 1 must link to the genesis hash' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
    ELSIF NEW.prev_hash IS DISTINCT FROM (SELECT hash FROM receipts WHERE seq = NEW.seq - 1) THEN
      RAISE EXCEPTION 'receipt % does not follow receipt %: a gap or a broken link', NEW.seq, NEW.seq - 1
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER receipts_link BEFORE INSERT ON receipts FOR EACH ROW EXECUTE FUNCTION openexec_receipt_link();
  -- Statement triggers: refused even when no row matches, and TRUNCATE too.
  CREATE TRIGGER receipts_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON receipts
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_refuse_change();

  -- A row is a spent nonce: 'started' commits before the handler runs.
  CREATE TABLE executions (
    id text PRIMARY KEY,
    nonce text NOT NULL UNIQUE,
    request_hash text NOT NULL,
    action text NOT NULL,
    status text NOT NULL CHECK (status IN ('started', 'executed', 'failed')),
    result text,
    result_legacy_json text,
    error text,
    error_status integer,
    approved integer NOT NULL,
    approval_id text,
    created_at text NOT NULL,
    receipt_seq bigint REFERENCES receipts (seq),
    action_def_hash text,
    grant_id text,
    grant_use integer,
    agent text
  );

  -- A row is a spent approval, unique by its id and by the hash of the signed message.
  CREATE TABLE approvals (
    approval_id text PRIMARY KEY,
    message_hash text NOT NULL UNIQUE,
    tenant_id text NOT NULL,
    action_hash text NOT NULL,
    issued_at text NOT NULL,
    expires_at text NOT NULL,
    approver text NOT NULL,
    approver_key_id text NOT NULL,
    verified_at text NOT NULL,
    action text,
    used_by_exec_id text NOT NULL REFERENCES executions (id)
  );
  -- A spent nonce or approval is never freed, whoever asks.
  CREATE TRIGGER executions_never_freed BEFORE DELETE OR TRUNCATE ON executions
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_refuse_change();
  CREATE TRIGGER approvals_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON approvals
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_refuse_change();

  CREATE TABLE merkle_nodes (
    level integer NOT NULL CHECK (level >= 1),
    idx bigint NOT NULL CHECK (idx >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
  );
  CREATE TRIGGER merkle_nodes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_refuse_change();
  `,
  // 2: proposals and their quorum approvals, grants, agents, MCP tool pins, settings and checkpoints.
  RECORD_TABLES,
  // 3: each instance's receipt key (RECEIPT_KEYS).
  RECEIPT_KEYS,
  // 4: the bodies receipts commit to by salted hash (RECEIPT_BODIES).
  RECEIPT_BODIES,
  // 5: retention's purge: the search words beside the receipts, bodies purged once (PURGE_SCHEMA).
  PURGE_SCHEMA,
  // 6: the instance that reserved each execution (EXECUTION_INSTANCE).
  EXECUTION_INSTANCE,
  // 7: the order approvals were spent in (APPROVAL_ORDER).
  APPROVAL_ORDER,
  // 8: counts of an event with an action or an agent from an index alone (FILTER_COUNT_SCHEMA).
  FILTER_COUNT_SCHEMA,
  // 9: text with an agent answered from receipt_search alone (AGENT_SEARCH_SCHEMA).
  AGENT_SEARCH_SCHEMA,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** The version the database's schema is at (0: none, or not an OpenExec database). */
export async function schemaVersion(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows: table } = await db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (table[0]?.t == null) return 0;
  const { rows } = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return rows[0]?.v ?? 0;
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** An execution's outcome, the only part of it that changes after it is reserved. */
const EXECUTION_OUTCOME = [
  'status',
  'result',
  'result_legacy_json',
  'error',
  'error_status',
  'receipt_seq',
  'action_def_hash',
  'grant_id',
  'grant_use',
];

/**
 * What the application role may do: read everything; append receipts, Merkle nodes, spent
 * approvals and registered receipt keys (never UPDATE, DELETE or TRUNCATE them); reserve executions and record their
 * outcome, never their id or nonce. Applied on every start, so a role created later or a
 * privilege granted by hand is put right.
 */
function grants(role: string, version: number): string {
  const r = pg.escapeIdentifier(role);
  const records = version >= MIGRATIONS.indexOf(RECORD_TABLES) + 1 ? recordGrants(role) : '';
  const purge = version >= MIGRATIONS.indexOf(PURGE_SCHEMA) + 1 ? purgeGrants(role) : '';
  const appendOnly = [
    'receipts',
    'merkle_nodes',
    'approvals',
    ...(version >= MIGRATIONS.indexOf(RECEIPT_KEYS) + 1 ? ['receipt_keys'] : []),
    ...(version >= MIGRATIONS.indexOf(RECEIPT_BODIES) + 1 ? ['receipt_bodies'] : []),
  ].join(', ');
  return `${records}
  REVOKE ALL ON ${appendOnly}, executions, schema_migrations FROM ${r};
  GRANT SELECT, INSERT ON ${appendOnly}, executions TO ${r};
  GRANT UPDATE (${EXECUTION_OUTCOME.join(', ')}) ON executions TO ${r};
  GRANT SELECT ON schema_migrations TO ${r};
  ${purge}`;
}

export interface MigrateOptions {
  /** The role OpenExec connects as at run time; granted only what it needs (SECURITY.md). */
  appRole?: string;
  /** For tests that need a database as an older version left it. */
  target?: number;
}

/**
 * Brings the database to this version, as its owner. Every step runs in one transaction
 * holding an advisory lock, so two instances starting together apply each migration once
 * and neither sees half a schema. Returns the versions it applied.
 */
export async function migratePostgres(pool: pg.Pool, options: MigrateOptions = {}): Promise<number[]> {
  const target = options.target ?? PG_SCHEMA_VERSION;
  if (options.appRole !== undefined && !ROLE_NAME.test(options.appRole)) {
    throw new PostgresStoreError('schema', `application role '${options.appRole}' is not a plain lower-case identifier`);
  }
  const client = await checkout(pool);
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number }>('SELECT coalesce(max(version), 0)::integer AS v FROM schema_migrations');
    const current = rows[0]?.v ?? 0;
    if (current > PG_SCHEMA_VERSION) {
      throw new PostgresStoreError(
        'schema',
        `database schema version ${current} is newer than this OpenExec (${PG_SCHEMA_VERSION}); refusing to touch it`,
      );
    }
    for (let version = current + 1; version <= target; version++) {
      await client.query(MIGRATIONS[version - 1]!);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      applied.push(version);
    }
    if (options.appRole !== undefined) await client.query(grants(options.appRole, Math.max(current, target)));
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof PostgresStoreError) throw err;
    throw PostgresStoreError.from('schema', 'migrating the PostgreSQL schema failed', err);
  } finally {
    client.release();
  }
}
