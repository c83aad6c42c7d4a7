import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sourceFiles } from './layer-rules.ts';

/**
 * Who reads and writes each table (README, "Layout"): one store module, or the ledger package
 * for the receipts and what is derived from them. Everything else asks the owner's methods.
 */
export const TABLE_OWNERS: Readonly<Record<string, string>> = {
  receipts: 'src/main/core/ledger/',
  receipts_fts: 'src/main/core/ledger/',
  receipt_bodies: 'src/main/core/ledger/',
  merkle_nodes: 'src/main/core/ledger/',
  checkpoints: 'src/main/core/ledger/',
  executions: 'src/main/core/engine/execution-store.ts',
  approvals: 'src/main/core/engine/execution-store.ts',
  proposals: 'src/main/core/proposals/proposal-store.ts',
  proposal_approvals: 'src/main/core/proposals/proposal-store.ts',
  grants: 'src/main/core/grants/grant-store.ts',
  agents: 'src/main/core/agents/agent-table.ts',
  mcp_tool_pins: 'src/main/core/actions/tool-pin-table.ts',
  settings: 'src/main/core/store/settings-store.ts',
};

/** Files that may name tables they do not own, each for a stated reason. */
export const TABLE_EXCEPTIONS: readonly { file: string; tables: readonly string[] | 'all'; why: string }[] = [
  { file: 'src/main/core/store/migrations.ts', tables: 'all', why: 'the schema itself' },
  {
    file: 'src/main/core/ledger/verify-side-tables.ts',
    tables: ['executions', 'approvals'],
    why: 'the read-only audit that holds the side tables to the receipts (verify-ledger, backup)',
  },
  {
    file: 'src/main/core/ledger/verify-receipt-bodies.ts',
    tables: ['executions', 'proposals'],
    why: 'the read-only audit that holds kept results and purge marks to the receipts and purge receipts (verify-ledger)',
  },
  { file: 'src/main/demo/verify-steps.ts', tables: ['receipts'], why: 'the demo plays the attacker on a copy of the file' },
];

/**
 * The PostgreSQL store is a second engine with its own database and schema: the package as a
 * whole owns its tables there, so its SQL is held to that package, not to the SQLite owners.
 */
export const SECOND_ENGINES: readonly string[] = ['src/main/core/store/postgres/'];

export interface TableUse {
  file: string;
  line: number;
  table: string;
  sql: string;
}

/** SQL keywords after which a table is named (upper case, as every statement here is written). */
const TABLE_REFERENCE = /\b(?:FROM|INTO|UPDATE|JOIN|TABLE(?: IF (?:NOT )?EXISTS)?)\s+([a-z_][a-z0-9_]*)\b/g;

/** Every place a known table is named in SQL in `text`. */
export function tableUses(file: string, text: string): TableUse[] {
  const uses: TableUse[] = [];
  text.split('\n').forEach((lineText, i) => {
    for (const m of lineText.matchAll(TABLE_REFERENCE)) {
      const table = m[1]!;
      if (Object.hasOwn(TABLE_OWNERS, table)) uses.push({ file, line: i + 1, table, sql: m[0] });
    }
  });
  return uses;
}

export function mayUse(file: string, table: string): boolean {
  if (SECOND_ENGINES.some((dir) => file.startsWith(dir))) return true;
  const owner = TABLE_OWNERS[table];
  if (owner !== undefined && (owner.endsWith('/') ? file.startsWith(owner) : file === owner)) return true;
  return TABLE_EXCEPTIONS.some((e) => e.file === file && (e.tables === 'all' || e.tables.includes(table)));
}

/** Each SQL reference to a table outside its owner, as one line naming file, table and owner. */
export function ownershipViolations(root: string, dirs: readonly string[]): string[] {
  return dirs
    .flatMap((dir) => sourceFiles(root, dir))
    .flatMap((file) => tableUses(file, readFileSync(join(root, file), 'utf8')))
    .filter((u) => !mayUse(u.file, u.table))
    .map((u) => `${u.file}:${u.line} '${u.sql}': table ${u.table} belongs to ${TABLE_OWNERS[u.table]}`);
}

/** The tables the migrations create. */
export function createdTables(migrationsText: string): string[] {
  return [...migrationsText.matchAll(/CREATE (?:VIRTUAL )?TABLE ([a-z_][a-z0-9_]*)/g)].map((m) => m[1]!).sort();
}
