import type { SqliteDatabase } from '../store/database.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Clock } from '../clock.ts';
import { isoUtc } from '../clock.ts';
import type { JsonObject, JsonValue } from '../json/json-value.ts';
import { canonicalJson } from '../json/canonical.ts';
import { sha256Hex } from '../json/request-hash.ts';
import { Refusal } from '../errors.ts';
import { ToolPinTable } from './tool-pin-table.ts';
import type { ToolPinStateDto } from '../../../shared/console-dto.ts';

export type PinStatus = { status: 'pinned'; hash: string } | { status: 'changed'; hash: string; pinnedHash: string };

/** sha256 of the canonical `{name, description, inputSchema, annotations}` (absent ones null). */
export function toolDefinitionHash(definition: JsonObject): string {
  return sha256Hex(canonicalJson(definition));
}

/**
 * Upstream MCP tool definitions behind `openexec mcp proxy`, pinned on first sight (trust on
 * first use, with a `config` receipt). A definition that differs later is held as pending and
 * refused until the operator accepts it (another `config` receipt); the pinned hash is what
 * proposals for `mcp:SERVER/TOOL` are bound to.
 */
export class ToolPins {
  private readonly table: ToolPinTable;

  constructor(
    db: SqliteDatabase,
    private readonly ledger: Ledger,
    private readonly clock: Clock,
  ) {
    this.table = new ToolPinTable(db);
  }

  hashOf(action: string): string | null {
    return this.table.get(action)?.definition_hash ?? null;
  }

  /** The pinned definition (parsed), for the read-only check; null when not pinned. */
  definitionOf(action: string): Record<string, unknown> | null {
    const row = this.table.get(action);
    return row ? (JSON.parse(row.definition) as Record<string, unknown>) : null;
  }

  /** Pins a definition seen for the first time; a different one is held for the operator. */
  observe(action: string, definition: JsonObject): PinStatus {
    const hash = toolDefinitionHash(definition);
    const row = this.table.get(action);
    if (row?.definition_hash === hash) return { status: 'pinned', hash };
    if (row === undefined) {
      this.ledger.witness(() => {
        this.table.insert(action, hash, canonicalJson(definition), isoUtc(this.clock.now()));
        this.ledger.append({ event: 'config', action, reason: `mcp tool pinned: ${action}`, details: pinDetails(null, hash, definition) });
      });
      return { status: 'pinned', hash };
    }
    if (row.pending_hash !== hash) this.table.markPending(action, hash, canonicalJson(definition));
    return { status: 'changed', hash, pinnedHash: row.definition_hash };
  }

  /** Every pinned tool, those whose upstream definition changed first (then by name). */
  list(): ToolPinStateDto[] {
    return this.table.list().map((row) => ({
      action: row.action,
      pinnedHash: row.definition_hash,
      pinnedDefinition: row.definition,
      pinnedAt: row.pinned_at,
      changedHash: row.pending_hash,
      changedDefinition: row.pending_definition,
    }));
  }

  /**
   * The operator accepts the changed definition now pending for `action`. With `expected`, only
   * if that is still the one pending: an upstream that changed again since the operator read it
   * must not have its newer definition accepted unread.
   */
  accept(action: string, expected?: string): { action: string; before: string; after: string } {
    const row = this.table.get(action);
    if (!row) throw new Refusal('not_found', `No pinned MCP tool '${action}'`);
    if (row.pending_hash === null || row.pending_definition === null)
      throw new Refusal('conflict', `No changed definition of '${action}' is waiting`);
    if (expected !== undefined && expected !== row.pending_hash) {
      throw new Refusal(
        'conflict',
        `The changed definition of '${action}' waiting now is ${row.pending_hash}, not ${expected}: read it again before accepting`,
      );
    }
    const after = row.pending_hash;
    const definition = JSON.parse(row.pending_definition) as JsonValue as JsonObject;
    this.ledger.witness(() => {
      this.table.accept(action, after, isoUtc(this.clock.now()));
      this.ledger.append({
        event: 'config',
        action,
        reason: `mcp tool definition accepted: ${action}`,
        details: pinDetails(row.definition_hash, after, definition),
      });
    });
    return { action, before: row.definition_hash, after };
  }
}

function pinDetails(before: string | null, after: string, definition: JsonObject): JsonObject {
  return Object.assign(Object.create(null) as JsonObject, { kind: 'mcp-tool-pin', before, after, definition });
}
