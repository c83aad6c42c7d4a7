/**
 * Receipts in several scripts, and the console's queries over them, for comparing a ledger
 * store's search with the SQLite ledger's (FTS5 unicode61 remove_diacritics 2): both must
 * return the same seqs. Also a reference SQLite ledger built from the same drafts, key and clock.
 */
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Clock } from '../../src/main/core/clock.ts';
import type { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import { Ledger } from '../../src/main/core/ledger/ledger.ts';
import type { SaltSource } from '../../src/main/core/ledger/receipt-bodies.ts';
import type { ReceiptDraft } from '../../src/main/core/ledger/receipt-body.ts';
import { openDatabase, type SqliteDatabase } from '../../src/main/core/store/database.ts';
import type { ReceiptQuery } from '../../src/shared/console-schemas.ts';
import { payload } from './declared.ts';
import { tempDir } from './harness.ts';

/** Each call one second later than the last, from the same instant: two ledgers get the same times. */
export function steppingClock(): Clock {
  let t = Date.UTC(2026, 0, 1, 12, 0, 0);
  return { now: () => (t += 1000) };
}

const hex = (c: string) => c.repeat(64);

const TEXTS: [action: string, reason: string | null, context: string | null, body: unknown][] = [
  ['greet', 'café Straße', 'the operator said hello', { name: 'Zoë', city: 'Köln' }],
  ['greet', 'cafe\u0301 naïve', null, { note: 'naïve façade' }],
  ['deploy', 'foo_bar baz', 'deploy service alpha', { service: 'alpha', version: 42 }],
  ['deploy', 'hello-world 42', null, { list: ['x1y2', 3.14, true, null] }],
  ['translate', '日本語テキスト 中文', 'テキスト', { text: '한국어 문장' }],
  ['translate', 'ØRESUND æble ß', null, { word: 'ẞIG' }],
  ['greet', 'emoji😀word', 'ǅemal İstanbul', {}],
  ['notify', 'ΟΔΟΣ και οδός', 'Й ё й', { ru: 'йогурт ёлка' }],
  ['notify', 'ſtraight ﬁne ı dotless', null, { 'key with spaces': 'value_with_underscores' }],
  ['deploy', 'service', 'deploy', { nested: { deeper: { deepest: 'treasure' } } }],
  ['greet', null, null, null],
  ['alpha', 'gamma', null, { beta: 'alpha' }],
  ['greet', "O'Brien \\ back", 'quote " inside', { "it's": "it's" }],
  ['translate', 'हिन्दी भाषा', null, { hi: 'नमस्ते' }],
  ['notify', 'A\u0301B e\u0301t\u00e9', 'xa\u0301b', { mixed: 'Ǿ ǿ ø Å' }],
];

const EVENTS = ['executed', 'refused', 'proposed', 'approved', 'failed', 'config'] as const;

/** 45 drafts: the texts three times over, with ids, hashes and agents to filter on. */
export function corpusDrafts(): ReceiptDraft[] {
  const drafts: ReceiptDraft[] = [];
  for (let round = 0; round < 3; round++) {
    TEXTS.forEach(([action, reason, context, body], i) => {
      const n = round * TEXTS.length + i;
      drafts.push({
        event: EVENTS[n % EVENTS.length]!,
        action,
        reason,
        context,
        payload: body === null ? null : payload(body),
        nonce: `nonce-${n}`,
        request_hash: hex('0123456789abcdef'[n % 16]!),
        exec_id: n % 3 === 0 ? `exec-${n}` : null,
        proposal_id: n % 4 === 0 ? `prop-${n % 8}` : null,
        approval_id: n % 5 === 0 ? `appr-${n}` : null,
        approver_key_id: n % 2 === 0 ? 'aa11' : 'bb22',
        agent: n % 3 === 1 ? 'claude' : null,
        grant_id: n % 7 === 0 ? `grant-${n}` : null,
      });
    });
  }
  return drafts;
}

const WORDS = [
  'cafe',
  'CAFÉ',
  'caf',
  'naive',
  'NAÏVE',
  'foo_bar',
  'foo bar',
  'bar',
  'hello',
  '42',
  '日本',
  '日本語テキスト',
  'テキスト',
  '한국',
  '하',
  'oresund',
  'øresund',
  'æble',
  'aeble',
  'ß',
  'ss',
  'straße',
  'strasse',
  'emoji',
  'word',
  'dzemal',
  'ǆemal',
  'istanbul',
  'İSTANBUL',
  'οδοσ',
  'οδος',
  'ΟΔΌΣ',
  'й',
  'и',
  'ё',
  'е',
  'йогурт',
  'straight',
  'ſtraight',
  'ﬁne',
  'fine',
  'ı',
  'i',
  'dotless',
  'key with',
  'spaces value',
  'value_with',
  'with_underscores',
  'deploy_service',
  'service deploy',
  'treasure',
  'deeper',
  'alpha gamma',
  'gamma_alpha',
  'beta',
  "O'Brien",
  'brien',
  'back',
  '"quote"',
  'quote inside',
  "it's",
  'हिन्दी',
  'ह',
  'नमस्ते',
  'ab',
  'xab',
  'ete',
  'été',
  'ǿ',
  'ø',
  'å',
  'a',
  'x1y2',
  '3',
  '14',
  'true',
  'null',
  'zoe',
  'köln',
  'koln',
  '_',
  '_ alpha',
  '*',
  'NEAR',
  'AND',
  'OR',
  'NOT',
  'cafe OR naive',
  '',
  '   ',
  'a b c d e f g h i j k l m n o p q r',
];

/** The query set: every word alone, and with each filter, page size and count the console uses. */
export function corpusQueries(): ReceiptQuery[] {
  const queries: ReceiptQuery[] = WORDS.map((text) => ({ text, count: true }));
  queries.push(
    {},
    { count: true },
    { text: 'greet', events: ['executed', 'refused'], count: true },
    { text: 'cafe', action: 'greet' },
    { agent: 'claude', count: true },
    { text: 'alpha', agent: 'claude' },
    { approverKeyId: 'aa11', limit: 5, count: true },
    { id: 'prop-0' },
    { id: 'exec-3' },
    { id: 'appr-10' },
    { id: 'grant-14' },
    { hash: hex('3') },
    { from: '2026-01-01T12:00:10Z', to: '2026-01-01T12:00:20.000Z', count: true },
    { text: 'deploy', limit: 2 },
    { text: 'deploy', limit: 2, beforeSeq: 30 },
    { limit: 7, beforeSeq: 20, count: true },
    { text: 'notify', events: ['failed'], limit: 1, count: true },
  );
  return queries;
}

/** The drafts on a real SQLite ledger (file in a temp dir), as OpenExec writes them today. */
/**
 * Salts drawn from the body itself, so two ledgers written from the same drafts (whatever the
 * order their writers drew them in) are byte for byte the same. Never outside tests: a salt
 * must be random for a purged body to stay unguessable.
 */
export const reproducibleSalts: SaltSource = (field, text) => createHash('sha256').update(`test salt\0${field}\0${text}`).digest();

export function sqliteReference(drafts: readonly ReceiptDraft[], signer: Ed25519Signer, clock: Clock): SqliteDatabase {
  const db = openDatabase(join(tempDir(), 'ledger.db'), { synchronous: 'NORMAL' });
  const ledger = new Ledger(db, signer, clock, reproducibleSalts);
  for (const draft of drafts) ledger.witness(() => ledger.append(draft));
  return db;
}
