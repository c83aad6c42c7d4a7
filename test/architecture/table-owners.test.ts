import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../support/harness.ts';
import { sourceFiles } from './layer-rules.ts';
import { createdTables, mayUse, ownershipViolations, TABLE_OWNERS, tableUses } from './table-owners.ts';
import type { OpenExecCore } from '../../src/main/core/openexec-core.ts';

describe('one owner per table (README, "Layout")', () => {
  test('no SQL outside its owner names a table', () => {
    const broken = ownershipViolations(REPO_ROOT, ['src']);
    expect(broken, `\n${broken.join('\n')}\n`).toEqual([]);
  });

  test('every table the migrations create has an owner', () => {
    const migrations = readFileSync(join(REPO_ROOT, 'src/main/core/store/migrations.ts'), 'utf8');
    expect(createdTables(migrations)).toEqual(Object.keys(TABLE_OWNERS).sort());
  });

  test('the scan sees the SQL that is there', () => {
    // Guards against a scanner that finds nothing, which would pass the rule above.
    const files = sourceFiles(REPO_ROOT, 'src');
    const seen = new Set(files.flatMap((f) => tableUses(f, readFileSync(join(REPO_ROOT, f), 'utf8'))).map((u) => u.table));
    expect([...seen].sort()).toEqual(Object.keys(TABLE_OWNERS).sort());
    for (const owner of new Set(Object.values(TABLE_OWNERS))) {
      expect(
        files.some((f) => (owner.endsWith('/') ? f.startsWith(owner) : f === owner)),
        `owner ${owner} does not exist`,
      ).toBe(true);
    }
  });

  test('finds a table in every form of statement, and refuses it outside its owner', () => {
    const text = [
      "db.prepare('SELECT count(*) FROM receipts')",
      '`INSERT INTO settings (key, value) VALUES (?, ?)`',
      "'UPDATE proposals SET status = ?'",
      "'DELETE FROM grants WHERE id = ?'",
      "'SELECT e.id FROM executions e JOIN approvals a ON a.approval_id = e.approval_id'",
      '// reads the rows from receipts (prose, not SQL)',
      "'SELECT * FROM not_a_table'",
    ].join('\n');
    const uses = tableUses('src/main/api/x.ts', text);
    expect(uses.map((u) => [u.line, u.table])).toEqual([
      [1, 'receipts'],
      [2, 'settings'],
      [3, 'proposals'],
      [4, 'grants'],
      [5, 'executions'],
      [5, 'approvals'],
    ]);
    expect(uses.filter((u) => mayUse(u.file, u.table))).toEqual([]);
    expect(mayUse('src/main/core/ledger/receipt-search.ts', 'receipts')).toBe(true);
    expect(mayUse('src/main/core/ledger/receipt-search.ts', 'executions')).toBe(false);
    expect(mayUse('src/main/core/engine/execution-store.ts', 'approvals')).toBe(true);
    expect(mayUse('src/main/core/proposals/proposal-service.ts', 'proposals')).toBe(false);
  });

  test('the database connection is private to the core', () => {
    // Checked by `tsc -b`: reading it from outside OpenExecCore does not compile.
    const reach = (core: OpenExecCore) =>
      // @ts-expect-error -- OpenExecCore.db is private: callers use the stores' methods.
      core.db;
    expect(typeof reach).toBe('function');
    // And no source file outside the core reaches for it some other way.
    const reaching = sourceFiles(REPO_ROOT, 'src')
      .filter((f) => f !== 'src/main/core/openexec-core.ts')
      .filter((f) => /\bcore\??\.db\b|\[['"]db['"]\]/.test(readFileSync(join(REPO_ROOT, f), 'utf8')));
    expect(reaching).toEqual([]);
  });
});
