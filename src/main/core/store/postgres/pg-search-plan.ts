import type pg from 'pg';
import type { QueryTerm } from './pg-search-text.ts';

/**
 * Which word of a search the GIN index should look up alone. Every word is a prefix, and GIN
 * expands a prefix into a bitmap of every receipt holding it before it can intersect: a
 * common word costs a scan of a fifth of the ledger even when the other word matches one
 * receipt. So when one word is rare and another common, only the rare one is given to the
 * index and the whole query is checked on the few rows it finds (same results; a plan only).
 * How common a word is comes from the column's statistics (ANALYZE's most common lexemes).
 */

/** At or below this share of receipts a word is rare enough to look up alone. */
const RARE = 0.01;
/** Statistics are re-read at most this often: they only steer the plan. */
const STATS_TTL_MS = 60_000;

interface LexemeStats {
  read: number;
  /** Lexeme -> share of receipts holding it, for the most common ones. */
  common: Map<string, number>;
  /** What a lexeme outside `common` is assumed to reach (PostgreSQL's own guess: half the least common). */
  floor: number;
}

const cache = new WeakMap<pg.Pool, LexemeStats>();

async function lexemeStats(db: pg.Pool): Promise<LexemeStats> {
  const cached = cache.get(db);
  if (cached && Date.now() - cached.read < STATS_TTL_MS) return cached;
  const { rows } = await db.query<{ elems: string[] | null; freqs: number[] | null }>(
    `SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs AS freqs FROM pg_stats
      WHERE schemaname = current_schema() AND tablename = 'receipt_search' AND attname = 'search'`,
  );
  const elems = rows[0]?.elems ?? [];
  const freqs = rows[0]?.freqs ?? [];
  const common = new Map(elems.map((e, i) => [e, freqs[i] ?? 0]));
  // After the per-element frequencies come the minimum, the maximum and the null share.
  const stats = { read: Date.now(), common, floor: (freqs[elems.length] ?? 0) / 2 };
  cache.set(db, stats);
  return stats;
}

/** The estimated share of receipts a term matches: its rarest token (the last one a prefix). */
function share(term: QueryTerm, stats: LexemeStats): number {
  return Math.min(
    ...term.tokens.map((token, i) => {
      if (i < term.tokens.length - 1) return stats.common.get(token) ?? stats.floor;
      let sum = stats.floor;
      for (const [lexeme, freq] of stats.common) if (lexeme.startsWith(token)) sum += freq;
      return Math.min(1, sum);
    }),
  );
}

/** The term to look up alone in the index, or null to give the index the whole query. */
export async function rareTerm(db: pg.Pool, terms: readonly QueryTerm[]): Promise<QueryTerm | null> {
  if (terms.length < 2) return null;
  const stats = await lexemeStats(db);
  if (stats.common.size === 0) return null;
  const shares = terms.map((t) => share(t, stats));
  const rarest = Math.min(...shares);
  if (rarest > RARE || Math.max(...shares) < 10 * rarest) return null;
  return terms[shares.indexOf(rarest)]!;
}
