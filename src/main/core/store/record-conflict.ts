/**
 * A write refused because a row it must not duplicate is already there (one proposal per
 * nonce, one approval per proposal and key, one agent per name…). Both engines report it as
 * this, so a caller need not know which database said no.
 */
export class RecordConflict extends Error {
  readonly code = 'record_conflict';

  constructor(
    readonly table: string,
    detail: string,
  ) {
    super(`${table}: ${detail}`);
    this.name = 'RecordConflict';
  }
}
