/**
 * Migration 9 (see pg-migrations.ts; never edit it once shipped, add a version): a search with
 * text and an agent answered from `receipt_search` alone.
 *
 * `receipt_search` kept the event but not the agent, so a count of a common word for one agent
 * (what the console's agent groups ask for each agent when the search has text) collected
 * every receipt holding the word and joined them with the agent's receipts: 0.8 s at 1,000,000
 * receipts. The agent now sits beside the words too, written with them (pg-transaction.ts),
 * and a GIN index over "agent word" pairs (migration 5's openexec_event_words, fed the agent
 * rather than the event) finds a word within one agent's receipts without building the bitmap
 * of every receipt holding it. Only receipts with an agent are in it.
 *
 * The agent, like the event, never changes: a second trigger refuses that, and the application
 * role may still update only the words (purgeGrants). The backfill copies each receipt's own
 * agent before that trigger exists, with migration 5's off: it would compare every row's words
 * with themselves. It leaves a dead row for each receipt with an agent until (auto)vacuum clears
 * it (the table's scale factor is 1 %).
 */
export const AGENT_SEARCH_SCHEMA = `
  ALTER TABLE receipt_search ADD COLUMN agent text;
  ALTER TABLE receipt_search DISABLE TRIGGER receipt_search_only_shrinks;
  UPDATE receipt_search s SET agent = r.agent FROM receipts r WHERE r.seq = s.seq AND r.agent IS NOT NULL;
  ALTER TABLE receipt_search ENABLE TRIGGER receipt_search_only_shrinks;
  CREATE INDEX receipt_search_agent_words ON receipt_search USING gin (openexec_event_words(agent, search))
    WHERE agent IS NOT NULL;

  -- Beside migration 5's trigger (which holds the words to shrinking and the event fixed).
  CREATE FUNCTION openexec_search_agent_kept() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.agent IS DISTINCT FROM OLD.agent THEN
      RAISE EXCEPTION 'receipt %: the agent beside its search words never changes', OLD.seq USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER receipt_search_agent_kept BEFORE UPDATE ON receipt_search
    FOR EACH ROW EXECUTE FUNCTION openexec_search_agent_kept();
  `;
