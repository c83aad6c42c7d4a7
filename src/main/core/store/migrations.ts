import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { backfillMerkleNodes } from '../ledger/merkle/merkle-store.ts';
import { compactReceiptsTable } from '../ledger/receipts-layout.ts';

/**
 * A step that rebuilds a table other tables reference: SQLite's documented way (create the new
 * table, copy, drop the old, rename) needs foreign keys off, and the step must leave none broken.
 */
interface TableRebuild {
  rebuild: (db: Database.Database) => void;
}

/** A migration is SQL, a step that needs code (a hash SQLite cannot compute), or a table rebuild. */
type Migration = string | ((db: Database.Database) => void) | TableRebuild;

/**
 * Schema versions, applied in order inside one transaction each; PRAGMA user_version
 * records how far a database has come. Never edit a shipped migration: add a new one.
 */
const MIGRATIONS: readonly Migration[] = [
  // 1: the ledger, executions, approvals and settings.
  `
  CREATE TABLE receipts (
    seq INTEGER PRIMARY KEY,
    event TEXT NOT NULL,
    time TEXT NOT NULL,
    action TEXT,
    hash TEXT NOT NULL UNIQUE,
    prev_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL,
    reason TEXT,
    exec_id TEXT,
    proposal_id TEXT,
    approval_id TEXT,
    approver_key_id TEXT,
    request_hash TEXT
  ) STRICT;
  CREATE INDEX receipts_event ON receipts(event, seq);
  CREATE INDEX receipts_action ON receipts(action, seq);
  CREATE INDEX receipts_approver ON receipts(approver_key_id, seq);
  CREATE INDEX receipts_time ON receipts(time);
  CREATE INDEX receipts_exec ON receipts(exec_id);
  CREATE INDEX receipts_proposal ON receipts(proposal_id);
  CREATE TRIGGER receipts_append_only_update BEFORE UPDATE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
  CREATE TRIGGER receipts_append_only_delete BEFORE DELETE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;

  -- 'started' is committed before the handler runs, so a crash can never free the nonce or
  -- the approval of something that may have had effects; it has no receipt until it ends.
  CREATE TABLE executions (
    id TEXT PRIMARY KEY,
    nonce TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('started', 'executed', 'failed')),
    result TEXT,
    result_legacy_json TEXT,
    error TEXT,
    error_status INTEGER,
    approved INTEGER NOT NULL,
    approval_id TEXT,
    created_at TEXT NOT NULL,
    receipt_seq INTEGER REFERENCES receipts(seq)
  ) STRICT;

  CREATE TABLE approvals (
    approval_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    action_hash TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    approver TEXT NOT NULL,
    approver_key_id TEXT NOT NULL,
    verified_at TEXT NOT NULL,
    action TEXT,
    used_by_exec_id TEXT REFERENCES executions(id)
  ) STRICT;

  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
  // 2: proposals awaiting an operator, and full-text search over the ledger.
  `
  CREATE TABLE proposals (
    id TEXT PRIMARY KEY,
    nonce TEXT NOT NULL UNIQUE,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    context TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'executed', 'denied', 'expired', 'failed')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_at TEXT,
    reason TEXT,
    result TEXT,
    exec_id TEXT,
    approval_id TEXT,
    receipt_seq INTEGER REFERENCES receipts(seq)
  ) STRICT;
  CREATE INDEX proposals_pending ON proposals(status, expires_at);

  CREATE VIRTUAL TABLE receipts_fts USING fts5(
    action, reason, context, payload,
    content = '', tokenize = 'unicode61 remove_diacritics 2'
  );
  INSERT INTO receipts_fts (rowid, action, reason, context, payload)
    SELECT seq, action, reason, json_extract(body, '$.context'), json_extract(body, '$.payload') FROM receipts;
  `,
  // 3: single use keyed on the signed message. Every stored field of the message is in the
  // row, so existing approvals are backfilled; where one message was already spent under
  // several ids, the first keeps the hash (the later rows are spent anyway).
  (db) => {
    db.exec('ALTER TABLE approvals ADD COLUMN message_hash TEXT');
    const rows = db
      .prepare('SELECT rowid, approval_id, tenant_id, action_hash, issued_at, expires_at FROM approvals ORDER BY rowid')
      .all() as { rowid: number; approval_id: string; tenant_id: string; action_hash: string; issued_at: string; expires_at: string }[];
    const seen = new Set<string>();
    const set = db.prepare('UPDATE approvals SET message_hash = ? WHERE rowid = ?');
    for (const r of rows) {
      const message = r.approval_id + r.tenant_id + r.action_hash + r.issued_at + r.expires_at;
      const hash = createHash('sha256').update(message, 'utf8').digest('hex');
      if (seen.has(hash)) continue;
      seen.add(hash);
      set.run(hash, r.rowid);
    }
    db.exec('CREATE UNIQUE INDEX approvals_message ON approvals(message_hash)');
  },
  // 4: the receipts' Merkle tree (RFC 9162) and the signed checkpoints over it.
  (db) => {
    db.exec(`
      CREATE TABLE merkle_nodes (
        level INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (level, idx)
      ) STRICT, WITHOUT ROWID;
      CREATE TRIGGER merkle_nodes_append_only_update BEFORE UPDATE ON merkle_nodes
        BEGIN SELECT RAISE(ABORT, 'merkle nodes are append-only'); END;
      CREATE TRIGGER merkle_nodes_append_only_delete BEFORE DELETE ON merkle_nodes
        BEGIN SELECT RAISE(ABORT, 'merkle nodes are append-only'); END;
      CREATE TABLE checkpoints (
        size INTEGER PRIMARY KEY,
        root BLOB NOT NULL,
        note TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
    `);
    backfillMerkleNodes(db);
  },
  // 5: the last executed proposal of an action, which the console compares a new one with.
  `
  CREATE INDEX proposals_action_decided ON proposals(action, status, decided_at);
  `,
  // 6: declared actions: the definition a proposal was made under and an execution ran under.
  `
  ALTER TABLE proposals ADD COLUMN action_def_hash TEXT;
  ALTER TABLE executions ADD COLUMN action_def_hash TEXT;
  `,
  // 7: the console looks receipts up by approval id and by request hash (a proposal's or an
  // execution's id already has an index).
  `
  CREATE INDEX receipts_approval ON receipts(approval_id);
  CREATE INDEX receipts_request_hash ON receipts(request_hash);
  `,
  // 8: grants (docs/receipts.md "Grants"): the signed terms as issued, the uses spent under
  // them and how they ended; the grant a receipt and an execution were authorised by. And the
  // operator keys that approved a proposal of an action that needs a quorum.
  `
  CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL,
    key_id TEXT NOT NULL,
    boot_id TEXT NOT NULL,
    uses_spent INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    ended_at TEXT,
    ended_reason TEXT CHECK (ended_reason IN ('revoked', 'expired', 'exhausted', 'restart')),
    ended_seq INTEGER
  ) STRICT;
  CREATE INDEX grants_live ON grants(action) WHERE ended_at IS NULL;
  ALTER TABLE receipts ADD COLUMN grant_id TEXT;
  CREATE INDEX receipts_grant ON receipts(grant_id);
  ALTER TABLE executions ADD COLUMN grant_id TEXT;
  ALTER TABLE executions ADD COLUMN grant_use INTEGER;
  CREATE TABLE proposal_approvals (
    proposal_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    operator TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    receipt_seq INTEGER NOT NULL,
    PRIMARY KEY (proposal_id, key_id)
  ) STRICT;
  `,
  // 9: agent identity: named bearer tokens (only their sha256 is kept), and the verified agent
  // a proposal or an execution was made by (null: no token was presented).
  `
  CREATE TABLE agents (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  ) STRICT;
  ALTER TABLE proposals ADD COLUMN agent TEXT;
  ALTER TABLE executions ADD COLUMN agent TEXT;
  -- The tool definitions of upstream MCP servers behind 'openexec mcp proxy', pinned by hash;
  -- a definition seen to change waits in pending_* until the operator accepts it.
  CREATE TABLE mcp_tool_pins (
    action TEXT PRIMARY KEY,
    definition_hash TEXT NOT NULL,
    definition TEXT NOT NULL,
    pending_hash TEXT,
    pending_definition TEXT,
    pinned_at TEXT NOT NULL
  ) STRICT;
  `,
  // 10: retention (docs/receipts.md "Bodies and retention"). A receipt of format 2 commits to its
  // payload, context, preview and result by a salted hash; the bodies and their salts live here,
  // beside it, until a purge clears both (the row stays, saying when and by which receipt). The
  // side tables' copies of the same bodies say when they were purged too.
  `
  CREATE TABLE receipt_bodies (
    seq INTEGER NOT NULL REFERENCES receipts(seq),
    field TEXT NOT NULL CHECK (field IN ('payload', 'context', 'preview', 'result')),
    salt BLOB,
    body TEXT,
    purged_at TEXT,
    purge_seq INTEGER REFERENCES receipts(seq),
    PRIMARY KEY (seq, field),
    CHECK ((salt IS NULL) = (body IS NULL) AND (body IS NULL) = (purged_at IS NOT NULL))
  ) STRICT;
  CREATE INDEX receipt_bodies_kept ON receipt_bodies(seq) WHERE purged_at IS NULL;
  ALTER TABLE executions ADD COLUMN purged_at TEXT;
  ALTER TABLE proposals ADD COLUMN purged_at TEXT;
  `,
  // 11: the receipts table rewritten for size (issue 14 "Storage"; README "How a receipt is
  // stored"): hashes and signature as bytes, the body's fields read from the body instead of
  // copied beside it, partial and prefix indexes.
  { rebuild: compactReceiptsTable },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** `target` exists for tests that need a database as an older version left it. */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than this OpenExec (${SCHEMA_VERSION}); refusing to touch it`);
  }
  for (let version = current; version < target; version++) {
    const step = MIGRATIONS[version];
    if (step === undefined) break;
    const rebuild = typeof step === 'object';
    // Only outside a transaction does this pragma take effect.
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
    if (rebuild) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        if (typeof step === 'string') db.exec(step);
        else if (typeof step === 'function') step(db);
        else {
          // A reference already broken (a ledger altered by hand) is not the rebuild's doing.
          const before = (db.pragma('foreign_key_check') as unknown[]).length;
          step.rebuild(db);
          const after = db.pragma('foreign_key_check') as { table: string; parent: string }[];
          if (after.length > before)
            throw new Error(`migration ${version + 1} would break references from ${after[0]!.table} to ${after[0]!.parent}`);
        }
        db.pragma(`user_version = ${version + 1}`);
      }).immediate();
    } finally {
      if (rebuild) db.pragma(`foreign_keys = ${foreignKeys}`);
    }
  }
}
