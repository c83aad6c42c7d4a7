import pg from 'pg';

/**
 * Migration 5 (see pg-migrations.ts; never edit it once shipped, add a version): what
 * retention's purge needs on PostgreSQL.
 *
 * The search words move out of the append-only `receipts` table into `receipt_search`, the
 * one place a purge may rewrite them (to the action's and the reason's words, as SQLite's
 * purge re-indexes a receipt). A row there can only lose words, never gain or change them, and
 * is never deleted. It keeps the receipt's event too, so that a GIN index over "event word"
 * pairs (`openexec_event_words`) finds a word within one event without building the bitmap of
 * every receipt holding it (pg-search.ts, the count).
 *
 * A receipt body, an execution's result and a decided proposal's payload may go from kept to
 * purged, once, and nothing else about them changes (triggers; the application role may update
 * only those columns).
 */
export const PURGE_SCHEMA = `
  CREATE TABLE receipt_search (
    seq bigint PRIMARY KEY REFERENCES receipts (seq),
    event text NOT NULL,
    search tsvector NOT NULL
  );
  INSERT INTO receipt_search (seq, event, search) SELECT seq, event, search FROM receipts;
  -- The receipts' own copy goes (with its GIN index); the bytes of rows written before this
  -- version stay in the table's pages until the owner runs VACUUM FULL receipts.
  ALTER TABLE receipts DROP COLUMN search;
  CREATE INDEX receipt_search_words ON receipt_search USING gin (search);

  -- Each word of a receipt prefixed by its event ("refused invoice"): a search for a word within
  -- some events reads only those pairs. No word holds a space, so a pair never matches a plain
  -- word's prefix. Truncated (an event to 64 characters, a word to 250) to stay under
  -- PostgreSQL's 2,047 bytes per lexeme; pg-search.ts builds its queries the same way and
  -- checks the full words on every row found.
  CREATE FUNCTION openexec_event_words(event text, words tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT array_to_tsvector(ARRAY(SELECT left(event, 64) || ' ' || left(w, 250) FROM unnest(tsvector_to_array(words)) AS w)) $$;
  CREATE INDEX receipt_search_event_words ON receipt_search USING gin (openexec_event_words(event, search));
  -- Every search stops at a page or at the count's cap: parallel workers cost more to start
  -- than they save there, and take cores from the server's other sessions.
  ALTER TABLE receipt_search SET (parallel_workers = 0);
  -- Only a purge leaves dead rows here: have autovacuum clear them once it has touched 1 %, not
  -- the default 20 % (until then a search visits them, and its bitmap pages are not all-visible).
  ALTER TABLE receipt_search SET (autovacuum_vacuum_scale_factor = 0.01);
  ALTER TABLE receipt_bodies SET (autovacuum_vacuum_scale_factor = 0.01);

  CREATE FUNCTION openexec_search_only_shrinks() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    -- Each word kept must have been there, at the same positions (so no phrase is made up).
    IF NEW.seq <> OLD.seq OR NEW.event <> OLD.event OR EXISTS (
         SELECT 1 FROM unnest(NEW.search) AS n LEFT JOIN unnest(OLD.search) AS o ON o.lexeme = n.lexeme
         WHERE o.lexeme IS NULL OR NOT (n.positions <@ o.positions)) THEN
      RAISE EXCEPTION 'receipt %: its search words may only be removed', OLD.seq USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER receipt_search_only_shrinks BEFORE UPDATE ON receipt_search
    FOR EACH ROW EXECUTE FUNCTION openexec_search_only_shrinks();
  CREATE TRIGGER receipt_search_kept BEFORE DELETE OR TRUNCATE ON receipt_search
    FOR EACH STATEMENT EXECUTE FUNCTION openexec_keep_rows();

  -- As on SQLite: a body is kept (salt and text) or purged (when, and by which receipt).
  ALTER TABLE receipt_bodies ADD CHECK (
    (salt IS NULL) = (body IS NULL) AND (body IS NULL) = (purged_at IS NOT NULL) AND (purged_at IS NULL) = (purge_seq IS NULL)
  );
  CREATE INDEX receipt_bodies_kept ON receipt_bodies (seq) WHERE purged_at IS NULL;
  CREATE FUNCTION openexec_body_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF OLD.purged_at IS NOT NULL OR NEW.purged_at IS NULL OR NEW.seq <> OLD.seq OR NEW.field <> OLD.field THEN
      RAISE EXCEPTION 'receipt %''s % body: a body is only ever purged, once', OLD.seq, OLD.field
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER receipt_bodies_purge_only BEFORE UPDATE ON receipt_bodies
    FOR EACH ROW EXECUTE FUNCTION openexec_body_purge_only();

  -- A purged result is never put back, and only a finished execution's is purged.
  CREATE FUNCTION openexec_execution_purge_final() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF OLD.purged_at IS NOT NULL
       OR (NEW.purged_at IS NOT NULL AND (NEW.status = 'started' OR NEW.result IS NOT NULL OR NEW.result_legacy_json IS NOT NULL)) THEN
      RAISE EXCEPTION 'execution %: a purged result stays purged', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER executions_purge_final BEFORE UPDATE ON executions
    FOR EACH ROW EXECUTE FUNCTION openexec_execution_purge_final();

  -- A decided proposal never changes again, except once: retention clears its payload, context
  -- and result. A pending one is never purged.
  DROP TRIGGER proposals_decided_final ON proposals;
  CREATE FUNCTION openexec_proposal_update() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    purged CONSTANT text[] := ARRAY['payload', 'context', 'result', 'purged_at'];
  BEGIN
    IF OLD.status = 'pending' THEN
      IF NEW.purged_at IS NULL AND NEW.payload = OLD.payload AND NEW.context IS NOT DISTINCT FROM OLD.context THEN
        RETURN NEW;
      END IF;
    ELSIF OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL AND NEW.payload = '' AND NEW.context IS NULL
          AND NEW.result IS NULL AND (to_jsonb(NEW) - purged) = (to_jsonb(OLD) - purged) THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'proposals is closed (status is %): it never changes again but for retention''s purge', OLD.status
      USING ERRCODE = 'integrity_constraint_violation';
  END $$;
  CREATE TRIGGER proposals_decided_final BEFORE UPDATE ON proposals
    FOR EACH ROW EXECUTE FUNCTION openexec_proposal_update();
`;

/** What the application role may do from migration 5 on, beside pg-migrations.ts's grants. */
export function purgeGrants(role: string): string {
  const r = pg.escapeIdentifier(role);
  return `
  REVOKE ALL ON receipt_search FROM ${r};
  GRANT SELECT, INSERT ON receipt_search TO ${r};
  GRANT UPDATE (search) ON receipt_search TO ${r};
  GRANT UPDATE (salt, body, purged_at, purge_seq) ON receipt_bodies TO ${r};
  GRANT UPDATE (purged_at) ON executions TO ${r};
  GRANT UPDATE (payload, context, purged_at) ON proposals TO ${r};
  `;
}
