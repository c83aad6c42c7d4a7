/**
 * Migration 8 (see pg-migrations.ts; never edit it once shipped, add a version): counts of the
 * console's filters read from an index alone.
 *
 * A count without text is `SELECT 1 FROM receipts WHERE … LIMIT 10001` (pg-search.ts). With one
 * filter, its own index answers it; with an event and an action, or an event and an agent (the
 * console's event chips beside its action and agent boxes, and the agent groups, which count
 * the search once per agent), PostgreSQL read the receipts themselves (for `denied` and `echo`
 * in the 1,000,000-receipt bench ledger, 4,389 pages to find 10,001 matches). An index
 * holding both columns lets it count by an Index Only Scan, which reads the heap only for pages
 * the visibility map does not mark all-visible. Without `seq`, B-tree deduplication keeps each
 * index about 7 MB for 1,000,000 receipts.
 *
 * Receipts are never updated or deleted, so a page is all-visible once VACUUM has seen it, but
 * autovacuum visits an insert-only table only after 20 % of its rows are new: at 1 %, all but
 * the newest receipts' pages stay all-visible.
 */
export const FILTER_COUNT_SCHEMA = `
  CREATE INDEX receipts_event_action ON receipts (event, action);
  CREATE INDEX receipts_event_agent ON receipts (event, agent);
  ALTER TABLE receipts SET (autovacuum_vacuum_insert_scale_factor = 0.01);
  `;
