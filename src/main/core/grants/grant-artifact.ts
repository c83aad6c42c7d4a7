import { z } from 'zod';
import { canonicalJson } from '../json/canonical.ts';
import { parseJson } from '../json/parse.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json/json-value.ts';
import type { Ed25519Signer, Ed25519Verifier } from '../crypto/ed25519.ts';
import { decodeSignatureBase64 } from '../crypto/ed25519.ts';
import { compilePayloadSchema, PayloadSchemaError, plain, type PayloadValidator } from '../actions/declared/payload-schema.ts';
import { parseIsoTimestamp } from '../approval/iso-time.ts';

export const GRANT_TYPE = 'openexec-grant';
export const GRANT_VERSION = 1;
/** A grant is a short delegation, never a standing permission. */
export const MAX_GRANT_USES = 10_000;
export const MAX_GRANT_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** Which requests a grant covers: one action, optionally one agent, some fields fixed, the rest bounded. */
export interface GrantScope {
  action: string;
  agent?: string;
  /** Fields whose value must be exactly this (canonical JSON equality). */
  fixed: JsonObject;
  /** JSON Schema (type object) the payload's other fields must satisfy; objects closed. */
  schema: JsonObject;
}

export interface GrantLimit {
  uses?: number;
  until?: string;
  until_restart?: true;
}

/** The signed terms, frozen at signing: everything the dispatch checks comes from here. */
export interface GrantTerms {
  type: typeof GRANT_TYPE;
  v: typeof GRANT_VERSION;
  grant_id: string;
  issued_at: string;
  operator_key_id: string;
  scope: GrantScope;
  limit: GrantLimit;
  reason: string;
  /** The proposal the operator was looking at when the grant was made, if any. */
  proposal_id?: string;
}

export interface SignedGrant {
  terms: GrantTerms;
  /** The canonical JSON text that was signed (the terms as stored). */
  body: string;
  /** Base64 Ed25519 signature over the UTF-8 bytes of `body`, by an operator key. */
  signature: string;
}

const jsonObjectSchema = z.custom<JsonObject>((v) => isJsonObject(v as never), { message: 'must be a JSON object' });

const termsSchema = z.strictObject({
  type: z.literal(GRANT_TYPE),
  v: z.literal(GRANT_VERSION),
  grant_id: z.uuid(),
  issued_at: z.string(),
  operator_key_id: z.string().regex(/^[0-9a-f]{16}$/),
  scope: z.strictObject({
    action: z.string().min(1).max(200),
    agent: z.string().min(1).max(200).optional(),
    fixed: jsonObjectSchema,
    schema: jsonObjectSchema,
  }),
  limit: z.strictObject({
    uses: z.number().int().min(1).max(MAX_GRANT_USES).optional(),
    until: z.string().optional(),
    until_restart: z.literal(true).optional(),
  }),
  reason: z.string().max(1000),
  proposal_id: z.uuid().optional(),
});

export class GrantTermsError extends Error {}

/**
 * What makes terms acceptable beyond their shape: a limit (a grant without one would be
 * "forever"), times that parse, an `until` in the future and within the longest lifetime, a
 * schema that compiles, and no field both fixed and varying. Returns the compiled schema.
 */
export function checkTerms(terms: GrantTerms, now: number | null): PayloadValidator {
  const { limit, scope } = terms;
  if (limit.uses === undefined && limit.until === undefined && limit.until_restart === undefined) {
    throw new GrantTermsError('a grant needs a limit: uses, until or until_restart');
  }
  const issued = parseIsoTimestamp(terms.issued_at);
  if (issued === null) throw new GrantTermsError('issued_at is not an ISO 8601 UTC time');
  if (limit.until !== undefined) {
    const until = parseIsoTimestamp(limit.until);
    if (until === null) throw new GrantTermsError('limit.until is not an ISO 8601 UTC time');
    if (until - issued > MAX_GRANT_LIFETIME_MS) throw new GrantTermsError('limit.until is more than 7 days after issued_at');
    if (now !== null && until <= now) throw new GrantTermsError('limit.until is not in the future');
  }
  let validator: PayloadValidator;
  try {
    // Bounds in the schema arrive as bigint; ajv reads JS numbers.
    validator = compilePayloadSchema(plain(scope.schema) as Record<string, unknown>);
  } catch (err) {
    if (err instanceof PayloadSchemaError) throw new GrantTermsError(`scope.schema ${err.message}`);
    throw err;
  }
  const both = Object.keys(scope.fixed).filter((k) => k in validator.properties);
  if (both.length > 0) throw new GrantTermsError(`field '${both[0]}' is both fixed and varying`);
  return validator;
}

/** Signs terms with an operator key: the grant is the signed canonical text. */
export function signGrant(terms: GrantTerms, signer: Ed25519Signer): SignedGrant {
  const body = canonicalJson(termsJson(terms));
  const signature = Buffer.from(signer.sign(Buffer.from(body, 'utf8'))).toString('base64');
  return { terms, body, signature };
}

/**
 * The terms of a stored grant, only if its signature verifies under `verifier` and its text is
 * the canonical form of well-shaped terms; null otherwise (a tampered row authorises nothing).
 */
export function verifyGrant(body: string, signature: string, verifier: Ed25519Verifier): GrantTerms | null {
  const sig = decodeSignatureBase64(signature);
  if (sig === null || !verifier.verify(Buffer.from(body, 'utf8'), sig)) return null;
  let value;
  try {
    value = parseJson(body);
  } catch {
    return null;
  }
  if (!isJsonObject(value) || canonicalJson(value) !== body) return null;
  const parsed = termsSchema.safeParse(plainTop(value));
  if (!parsed.success) return null;
  return parsed.data as GrantTerms;
}

/** The terms as canonical JSON expects them: integers as bigint, absent fields left out. */
function termsJson(terms: GrantTerms): JsonObject {
  const limit: Record<string, JsonValue> = {};
  if (terms.limit.uses !== undefined) limit['uses'] = BigInt(terms.limit.uses);
  if (terms.limit.until !== undefined) limit['until'] = terms.limit.until;
  if (terms.limit.until_restart !== undefined) limit['until_restart'] = true;
  const scope: Record<string, JsonValue> = { action: terms.scope.action, fixed: terms.scope.fixed, schema: terms.scope.schema };
  if (terms.scope.agent !== undefined) scope['agent'] = terms.scope.agent;
  const out: Record<string, JsonValue> = { ...terms, v: BigInt(terms.v), scope, limit };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return Object.assign(Object.create(null) as JsonObject, out);
}

/** Integers arrive as bigint; the counters of the terms are small. */
function plainTop(value: JsonObject): unknown {
  const limit = value['limit'];
  const v = value['v'];
  const out: Record<string, unknown> = { ...value, v: typeof v === 'bigint' ? Number(v) : v };
  if (isJsonObject(limit ?? null)) {
    const l = limit as JsonObject;
    out['limit'] = { ...l, ...(typeof l['uses'] === 'bigint' ? { uses: Number(l['uses']) } : {}) };
  }
  return out;
}
