import type { LedgerStore, LedgerTransaction } from '../store/ledger-store.ts';
import { RecordConflict } from '../store/record-conflict.ts';
import type { ToolPinRecords } from '../store/tool-pin-records.ts';
import type { Clock } from '../clock.ts';
import { isoUtc } from '../clock.ts';
import type { JsonObject, JsonValue } from '../json/json-value.ts';
import { canonicalJson } from '../json/canonical.ts';
import { sha256Hex } from '../json/request-hash.ts';
import { Refusal } from '../errors.ts';
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
  constructor(
    private readonly records: ToolPinRecords,
    private readonly store: LedgerStore,
    private readonly clock: Clock,
  ) {}

  async hashOf(action: string): Promise<string | null> {
    return (await this.records.get(action))?.definition_hash ?? null;
  }

  /** The pinned hash as the witnessed write `tx` reads it (a decision's), or null when not pinned. */
  async hashWithin(action: string, tx: LedgerTransaction): Promise<string | null> {
    return (await this.records.within(tx).get(action))?.definition_hash ?? null;
  }

  /** The pinned definition (parsed), for the read-only check; null when not pinned. */
  async definitionOf(action: string): Promise<Record<string, unknown> | null> {
    const row = await this.records.get(action);
    return row ? (JSON.parse(row.definition) as Record<string, unknown>) : null;
  }

  /** Pins a definition seen for the first time; a different one is held for the operator. */
  async observe(action: string, definition: JsonObject): Promise<PinStatus> {
    const hash = toolDefinitionHash(definition);
    const row = await this.records.get(action);
    if (row?.definition_hash === hash) return { status: 'pinned', hash };
    if (row === undefined) {
      try {
        await this.store.witness(async (tx) => {
          await this.records.within(tx).insert(action, hash, canonicalJson(definition), isoUtc(this.clock.now()));
          await tx.append({ event: 'config', action, reason: `mcp tool pinned: ${action}`, details: pinDetails(null, hash, definition) });
        });
        return { status: 'pinned', hash };
      } catch (err) {
        // Pinned meanwhile (by a concurrent listing): compare with that pin instead.
        if (!(err instanceof RecordConflict)) throw err;
        return this.observe(action, definition);
      }
    }
    if (row.pending_hash !== hash) await this.records.markPending(action, hash, canonicalJson(definition));
    return { status: 'changed', hash, pinnedHash: row.definition_hash };
  }

  /** Every pinned tool, those whose upstream definition changed first (then by name). */
  async list(): Promise<ToolPinStateDto[]> {
    return (await this.records.list()).map((row) => ({
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
  accept(action: string, expected?: string): Promise<{ action: string; before: string; after: string }> {
    return this.store.witness(async (tx) => {
      const pins = this.records.within(tx);
      const row = await pins.get(action);
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
      if (!(await pins.accept(action, after, isoUtc(this.clock.now()))))
        throw new Refusal(
          'conflict',
          `The changed definition of '${action}' waiting is no longer ${after}: read it again before accepting`,
        );
      await tx.append({
        event: 'config',
        action,
        reason: `mcp tool definition accepted: ${action}`,
        details: pinDetails(row.definition_hash, after, definition),
      });
      return { action, before: row.definition_hash, after };
    });
  }
}

function pinDetails(before: string | null, after: string, definition: JsonObject): JsonObject {
  return Object.assign(Object.create(null) as JsonObject, { kind: 'mcp-tool-pin', before, after, definition });
}
