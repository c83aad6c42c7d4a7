/** Rows for the record stores' tests: a fresh id and nonce each, the rest fixed unless overridden. */
import { randomUUID } from 'node:crypto';
import type { NewGrant } from '../../src/main/core/store/grant-records.ts';
import type { NewProposal } from '../../src/main/core/store/proposal-records.ts';
import type { Reservation } from '../../src/main/core/engine/execution-store.ts';

export const newProposal = (over: Partial<NewProposal> = {}): NewProposal => ({
  id: randomUUID(),
  nonce: randomUUID(),
  action: 'greet',
  payload: '{"name":"ada"}',
  request_hash: 'a'.repeat(64),
  context: null,
  created_at: '2026-01-01T00:00:00.000Z',
  expires_at: '2026-01-01T01:00:00.000Z',
  action_def_hash: null,
  agent: null,
  ...over,
});

/** A nonce's reservation, as the engine makes it before a handler runs: no approval, grant or definition unless given. */
export const newReservation = (nonce: string, over: Partial<Reservation> = {}): Reservation => ({
  id: randomUUID(),
  nonce,
  request_hash: 'e'.repeat(64),
  action: 'greet',
  approval_id: null,
  created_at: new Date().toISOString(),
  agent: null,
  action_def_hash: null,
  grant_id: null,
  grant_use: null,
  ...over,
});

/** A grant of `uses` uses. The store keeps the terms as text; only the dispatch verifies them. */
export const newGrant = (uses: number, over: Partial<NewGrant> = {}): NewGrant => ({
  id: randomUUID(),
  action: 'greet',
  body: `{"limit":{"uses":${uses}},"scope":{"action":"greet"}}`,
  signature: 'c2lnbmF0dXJl',
  key_id: '0123456789abcdef',
  boot_id: 'boot-1',
  created_at: '2026-01-01T00:00:00.000Z',
  ...over,
});
