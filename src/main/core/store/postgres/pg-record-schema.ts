import pg from 'pg';

/**
 * Migration 2 (see pg-migrations.ts; never edit it once shipped, add a version): the tables
 * beside the ledger, each the PostgreSQL form of its SQLite table with the guarantees OpenExec
 * depends on written as constraints and triggers. Text that is sorted is COLLATE "C", so
 * rows come back in SQLite's (byte) order whatever the server's locale.
 */
export const RECORD_TABLES = `
  -- Rows that change in place but are never removed: the history an operator reads.
  CREATE FUNCTION openexec_keep_rows() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION '% are kept: no row is ever deleted', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
  END $$;

  CREATE TABLE proposals (
    id text COLLATE "C" PRIMARY KEY,
    -- One proposal per nonce, whichever instance proposes it.
    nonce text NOT NULL UNIQUE,
    action text NOT NULL,
    payload text NOT NULL,
    request_hash text NOT NULL,
    context text,
    status text NOT NULL CHECK (status IN ('pending', 'executed', 'denied', 'expired', 'failed')),
    created_at text COLLATE "C" NOT NULL,
    expires_at text COLLATE "C" NOT NULL,
    decided_at text COLLATE "C",
    reason text,
    result text,
    exec_id text,
    approval_id text,
    receipt_seq bigint REFERENCES receipts (seq),
    action_def_hash text,
    agent text,
    -- A decision names when it was made and the receipt that witnesses it.
    CHECK (status = 'pending' OR (decided_at IS NOT NULL AND receipt_seq IS NOT NULL))
  );
  CREATE INDEX proposals_pending ON proposals (status, expires_at);
  CREATE INDEX proposals_action_decided ON proposals (action, status, decided_at);

  -- A row whose column TG_ARGV[0] has left its open value (TG_ARGV[1], or NULL) is final:
  -- a decided proposal, an ended grant, a revoked agent.
  CREATE FUNCTION openexec_closed_final() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF (to_jsonb(OLD) ->> TG_ARGV[0]) IS DISTINCT FROM TG_ARGV[1] THEN
      RAISE EXCEPTION '% is closed (% is %): it never changes again', TG_TABLE_NAME, TG_ARGV[0], to_jsonb(OLD) ->> TG_ARGV[0]
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
  END $$;
  -- One decision per proposal.
  CREATE TRIGGER proposals_decided_final BEFORE UPDATE ON proposals
    FOR EACH ROW EXECUTE FUNCTION openexec_closed_final('status', 'pending');
  CREATE TRIGGER proposals_kept BEFORE DELETE OR TRUNCATE ON proposals
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_keep_rows();

  -- One approval per (proposal, operator key).
  CREATE TABLE proposal_approvals (
    proposal_id text NOT NULL REFERENCES proposals (id),
    key_id text NOT NULL,
    operator text NOT NULL,
    approved_at text NOT NULL,
    receipt_seq bigint NOT NULL REFERENCES receipts (seq),
    PRIMARY KEY (proposal_id, key_id)
  );
  CREATE INDEX proposal_approvals_order ON proposal_approvals (proposal_id, receipt_seq);
  CREATE TRIGGER proposal_approvals_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON proposal_approvals
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_refuse_change();

  CREATE TABLE grants (
    id text COLLATE "C" PRIMARY KEY,
    action text NOT NULL,
    body text NOT NULL,
    signature text NOT NULL,
    key_id text NOT NULL,
    boot_id text NOT NULL,
    -- The signed terms' limit.uses, copied at insert so the database holds the count to it too.
    uses_limit integer CHECK (uses_limit >= 1),
    uses_spent integer NOT NULL DEFAULT 0 CHECK (uses_spent >= 0 AND (uses_limit IS NULL OR uses_spent <= uses_limit)),
    created_at text COLLATE "C" NOT NULL,
    ended_at text,
    ended_reason text CHECK (ended_reason IN ('revoked', 'expired', 'exhausted', 'restart')),
    ended_seq bigint REFERENCES receipts (seq),
    CHECK ((ended_at IS NULL) = (ended_reason IS NULL) AND (ended_at IS NULL) = (ended_seq IS NULL))
  );
  CREATE INDEX grants_live ON grants (action) WHERE ended_at IS NULL;

  -- An ended grant stays ended with the uses it had, and a use is never given back.
  CREATE TRIGGER grants_ended_final BEFORE UPDATE ON grants FOR EACH ROW EXECUTE FUNCTION openexec_closed_final('ended_at');
  CREATE FUNCTION openexec_grant_uses_forward() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.uses_spent < OLD.uses_spent OR NEW.uses_limit IS DISTINCT FROM OLD.uses_limit THEN
      RAISE EXCEPTION 'grant %: uses are never given back', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER grants_uses_forward BEFORE UPDATE ON grants FOR EACH ROW EXECUTE FUNCTION openexec_grant_uses_forward();
  CREATE TRIGGER grants_kept BEFORE DELETE OR TRUNCATE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_keep_rows();

  CREATE TABLE agents (
    name text COLLATE "C" PRIMARY KEY,
    token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at text NOT NULL,
    revoked_at text
  );
  -- A revoked agent stays revoked (and its name is never reused: the row stays).
  CREATE TRIGGER agents_revoked_final BEFORE UPDATE ON agents FOR EACH ROW EXECUTE FUNCTION openexec_closed_final('revoked_at');
  CREATE TRIGGER agents_kept BEFORE DELETE OR TRUNCATE ON agents
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_keep_rows();

  CREATE TABLE mcp_tool_pins (
    action text PRIMARY KEY,
    definition_hash text NOT NULL,
    definition text NOT NULL,
    pending_hash text,
    pending_definition text,
    pinned_at text NOT NULL,
    CHECK ((pending_hash IS NULL) = (pending_definition IS NULL))
  );
  CREATE TRIGGER mcp_tool_pins_kept BEFORE DELETE OR TRUNCATE ON mcp_tool_pins
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_keep_rows();

  CREATE TABLE settings (
    key text PRIMARY KEY,
    value text NOT NULL
  );

  CREATE TABLE checkpoints (
    size bigint PRIMARY KEY CHECK (size >= 0),
    root bytea NOT NULL CHECK (length(root) = 32),
    note text NOT NULL,
    created_at text NOT NULL
  );
  CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_refuse_change();
`;

/**
 * The application role's privileges on these tables (SECURITY.md): read them all; no DELETE
 * or TRUNCATE of any; UPDATE only of the columns that change after a row is written; quorum
 * approvals and checkpoints are insert-only.
 */
export function recordGrants(role: string): string {
  const r = pg.escapeIdentifier(role);
  return `
  REVOKE ALL ON proposals, proposal_approvals, grants, agents, mcp_tool_pins, settings, checkpoints FROM ${r};
  GRANT SELECT, INSERT ON proposals, proposal_approvals, grants, agents, mcp_tool_pins, settings, checkpoints TO ${r};
  GRANT UPDATE (status, decided_at, reason, result, exec_id, approval_id, receipt_seq, expires_at) ON proposals TO ${r};
  GRANT UPDATE (uses_spent, ended_at, ended_reason, ended_seq) ON grants TO ${r};
  GRANT UPDATE (revoked_at) ON agents TO ${r};
  GRANT UPDATE (definition_hash, definition, pending_hash, pending_definition, pinned_at) ON mcp_tool_pins TO ${r};
  GRANT UPDATE (value) ON settings TO ${r};
  `;
}
