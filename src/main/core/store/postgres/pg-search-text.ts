/**
 * Full-text search on PostgreSQL with SQLite's semantics. The SQLite ledger indexes receipts
 * with FTS5's `unicode61 remove_diacritics 2` tokenizer and queries every word of the user's
 * text as a quoted prefix phrase (ftsQuery). Rather than trust a PostgreSQL text search
 * configuration to split and fold words the same way, the words are split and folded here,
 * as unicode61 does, and stored as a ready tsvector (positions included, so a phrase matches
 * only within one column); the query is a ready tsquery over the same tokens.
 */
import type { JsonValue } from '../../json/json-value.ts';
import { ftsQuery } from '../../ledger/receipt-search.ts';
import { searchableText } from '../../ledger/searchable-text.ts';

/** unicode61's token characters: letters, numbers, private use, and combining diacritics (dropped). */
const TOKEN_RUN = /[\p{L}\p{N}\p{Co}\u0300-\u036f]+/gu;
const COMBINING_DIACRITIC = /[\u0300-\u036f]/gu;
const ASCII_WITH_DIACRITICS = /^[a-z][\u0300-\u036f]+$/;
/** PostgreSQL's limits: positions 1..16383, 256 positions per lexeme, 2047 bytes per lexeme. */
const MAX_POSITION = 16383;
const MAX_POSITIONS_PER_LEXEME = 256;
const MAX_LEXEME_BYTES = 2047;

/** Case folding one code point as unicode61 does (simple folding, no locale). */
function foldCase(c: string): string {
  // Dotless i folds to itself (the Turkic rule is not the default one).
  if (c === '\u0131') return c;
  const upper = c.toUpperCase();
  // ß and ligatures upper-case to several letters; simple folding keeps them one.
  return [...upper].length === 1 ? upper.toLowerCase() : c.toLowerCase();
}

/** remove_diacritics 2: a Latin letter with diacritics becomes its ASCII base letter. */
function removeDiacritics(c: string): string {
  const decomposed = c.normalize('NFD');
  return ASCII_WITH_DIACRITICS.test(decomposed) ? decomposed[0]! : c;
}

function truncateBytes(token: string): string {
  if (Buffer.byteLength(token, 'utf8') <= MAX_LEXEME_BYTES) return token;
  let out = '';
  for (const c of token) {
    if (Buffer.byteLength(out + c, 'utf8') > MAX_LEXEME_BYTES) break;
    out += c;
  }
  return out;
}

/** The tokens of `text` as unicode61 (remove_diacritics 2) makes them, in order. */
export function searchTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const run of text.match(TOKEN_RUN) ?? []) {
    let token = '';
    for (const c of run) token += removeDiacritics(foldCase(c));
    token = token.replace(COMBINING_DIACRITIC, '');
    if (token !== '') tokens.push(truncateBytes(token));
  }
  return tokens;
}

const quote = (lexeme: string) => `'${lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** What FTS5 indexes for a receipt: its action, reason, context and payload's words. */
export interface SearchableReceipt {
  action?: string | null;
  reason?: string | null;
  context?: string | null;
  payload?: JsonValue | null;
}

/**
 * The receipt's tsvector, as text for a `::tsvector` cast: each column's tokens at successive
 * positions, one position skipped between columns so that no phrase spans two of them.
 */
export function receiptTsvector(r: SearchableReceipt): string {
  const positions = new Map<string, number[]>();
  let position = 0;
  for (const column of [r.action ?? '', r.reason ?? '', r.context ?? '', searchableText(r.payload)]) {
    for (const token of searchTokens(column)) {
      position = Math.min(position + 1, MAX_POSITION);
      const at = positions.get(token) ?? [];
      // Past the last position every token shares it; a lexeme keeps each position once.
      if (at.length < MAX_POSITIONS_PER_LEXEME && at[at.length - 1] !== position) at.push(position);
      positions.set(token, at);
    }
    position = Math.min(position + 1, MAX_POSITION);
  }
  return [...positions].map(([lexeme, at]) => `${quote(lexeme)}:${at.join(',')}`).join(' ');
}

/** One word of the user's text: its tokens (the last one a prefix) and its tsquery phrase. */
export interface QueryTerm {
  tokens: string[];
  tsquery: string;
}

/**
 * The user's text as tsquery terms (text for a `::tsquery` cast), one per word, word for word
 * what ftsQuery gives FTS5: every word a prefix phrase, all of which must match (`&`). `null`:
 * no word to search for (the text is ignored, as on SQLite); `false`: a word with no token,
 * which matches nothing.
 */
export function receiptQueryTerms(text: string): QueryTerm[] | null | false {
  const fts = ftsQuery(text);
  if (fts === null) return null;
  const terms: QueryTerm[] = [];
  for (const [, word] of fts.matchAll(/"([^"]*)"\*/g)) {
    const tokens = searchTokens(word ?? '');
    if (tokens.length === 0) return false;
    terms.push({ tokens, tsquery: `(${tokens.map((t, i) => (i === tokens.length - 1 ? `${quote(t)}:*` : quote(t))).join(' <-> ')})` });
  }
  return terms;
}

/** What migration 5's openexec_event_words keeps of an event and of a word (characters). */
const EVENT_CHARS = 64;
const WORD_CHARS = 250;
const eventWord = (event: string, token: string) =>
  `${[...event].slice(0, EVENT_CHARS).join('')} ${[...token].slice(0, WORD_CHARS).join('')}`;

/** The text within some events as a tsquery over openexec_event_words' pairs, and whether it matches exactly those rows. */
export interface EventWordsQuery {
  tsquery: string;
  /**
   * Each term a single token, none cut short, no event cut short: a row has one event, so the
   * pairs match exactly the rows the text and the events do. Otherwise (a phrase, a long word)
   * they match more, and the caller checks the text and the events on each row they find.
   */
  exact: boolean;
}

/** Each term as one of the events with each of its tokens as a prefix. */
export function eventWordsQuery(terms: readonly QueryTerm[], events: readonly string[]): EventWordsQuery {
  const tsquery = terms
    .map((t) => `(${events.map((e) => `(${t.tokens.map((token) => `${quote(eventWord(e, token))}:*`).join(' & ')})`).join(' | ')})`)
    .join(' & ');
  const exact =
    terms.every((t) => t.tokens.length === 1 && [...t.tokens[0]!].length <= WORD_CHARS) &&
    events.every((e) => [...e].length <= EVENT_CHARS && !e.includes(' '));
  return { tsquery, exact };
}
