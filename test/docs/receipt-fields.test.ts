import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/harness.ts';
import { everyEventLedger, type EveryEventLedger } from '../support/every-event-ledger.ts';
import { RECEIPT_EVENTS } from '../../src/shared/console-dto.ts';
import { rawDb } from '../support/raw-db.ts';

const DOC = readFileSync(join(REPO_ROOT, 'docs/receipts.md'), 'utf8');

/** The backticked names in one table cell. */
const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** The per-event field table of docs/receipts.md, between its markers. */
function documentedFields(): Map<string, { always: string[]; sometimes: string[] }> {
  const block = /<!-- receipt-fields:start -->([\s\S]*?)<!-- receipt-fields:end -->/.exec(DOC)?.[1];
  if (!block) throw new Error('docs/receipts.md has no receipt-fields table');
  const table = new Map<string, { always: string[]; sometimes: string[] }>();
  for (const line of block.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const [event, always, sometimes] = cells;
    if (event === undefined || always === undefined || sometimes === undefined || !event.startsWith('`')) continue;
    table.set(names(event)[0]!, { always: names(always), sometimes: names(sometimes) });
  }
  return table;
}

/** The field names the "What each field means" table explains. */
function explainedFields(): Set<string> {
  const section = DOC.slice(DOC.indexOf('### What each field means'), DOC.indexOf('### Which requests leave no receipt'));
  return new Set(
    section
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => names(l.split('|')[1]!)),
  );
}

describe('docs/receipts.md field table against a real ledger with every event', () => {
  let ledger: EveryEventLedger;
  let bodies: Record<string, unknown>[];

  beforeAll(async () => {
    ledger = await everyEventLedger();
    const rows = rawDb(ledger.server.app.core).prepare('SELECT body FROM receipts ORDER BY seq').pluck().all() as string[];
    bodies = rows.map((b) => JSON.parse(b) as Record<string, unknown>);
  }, 60_000);
  afterAll(async () => {
    await ledger.server.stop();
    rmSync(ledger.dir, { recursive: true, force: true });
  });

  test('one row per event, and every field in it is explained', () => {
    const table = documentedFields();
    expect([...table.keys()].sort()).toEqual([...RECEIPT_EVENTS].sort());
    const explained = explainedFields();
    for (const [event, row] of table) {
      for (const field of [...row.always, ...row.sometimes]) expect(explained.has(field), `${event}: ${field}`).toBe(true);
    }
  });

  test('the ledger holds every event, and each receipt carries exactly what its row allows', () => {
    const table = documentedFields();
    expect(new Set(bodies.map((b) => b['event']))).toEqual(new Set(RECEIPT_EVENTS));
    for (const body of bodies) {
      const row = table.get(String(body['event']))!;
      const keys = Object.keys(body);
      for (const field of row.always)
        expect(keys, `receipt ${String(body['seq'])} (${String(body['event'])}) lacks ${field}`).toContain(field);
      for (const key of keys) {
        expect([...row.always, ...row.sometimes], `receipt ${String(body['seq'])} (${String(body['event'])}) carries ${key}`).toContain(
          key,
        );
      }
    }
  });

  test('a missing payload is kept as {}, and approved endings carry their evidence', () => {
    const noPayload = bodies.find((b) => b['nonce'] === 'every-2')!;
    const kept = rawDb(ledger.server.app.core)
      .prepare("SELECT body FROM receipt_bodies WHERE seq = ? AND field = 'payload'")
      .pluck()
      .get(noPayload['seq']);
    expect(kept).toBe('{}');
    const authorised = bodies.filter(
      (b) => ['executed', 'failed', 'refused'].includes(String(b['event'])) && b['approval_id'] !== undefined,
    );
    expect(authorised.map((b) => b['event']).sort()).toEqual(['executed', 'executed', 'failed', 'refused']);
    for (const b of authorised) expect(b['approval']).toMatchObject({ approval_id: b['approval_id'], key_id: b['approver_key_id'] });
  });
});
