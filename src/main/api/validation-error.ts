import type { z } from 'zod';
import { Refusal } from '../core/errors.ts';
import { canonicalJson } from '../core/json/canonical.ts';
import { isJsonObject, type JsonValue } from '../core/json/json-value.ts';

/**
 * FastAPI's 422 answer: `{"detail": [entry, ...]}`, one entry per problem, each shaped as
 * pydantic 2 reports it (`type`, `loc`, `msg`, `input`, and `ctx` for some types). Agents written
 * for the Python service read `detail[i].msg`; types and texts below are pydantic's own.
 */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: JsonValue;
  ctx?: Record<string, JsonValue>;
}

export class ValidationRefusal extends Refusal {
  constructor(readonly issues: ValidationIssue[]) {
    super('invalid_request', issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
    this.name = 'ValidationRefusal';
  }
}

/** The 422 body. Inputs are our lossless values (big integers exact), written as canonical JSON. */
export function validationBody(issues: readonly ValidationIssue[]): string {
  const entries = issues.map((i) => {
    const fields = [
      `"type":${JSON.stringify(i.type)}`,
      `"loc":${JSON.stringify(i.loc)}`,
      `"msg":${JSON.stringify(i.msg)}`,
      `"input":${canonicalJson(i.input)}`,
    ];
    if (i.ctx !== undefined) fields.push(`"ctx":${canonicalJson(i.ctx)}`);
    return `{${fields.join(',')}}`;
  });
  return `{"detail":[${entries.join(',')}]}`;
}

/** The value at `path` under `root`, or undefined when absent. */
function at(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || typeof key === 'symbol') return undefined;
    v = Object.hasOwn(v, key) ? (v as Record<string | number, unknown>)[key] : undefined;
  }
  return v;
}

const plural = (n: number) => (n === 1 ? '' : 's');

/** Pydantic's type and text for a value that is not of the expected kind. */
function typeIssue(expected: string, input: unknown): Pick<ValidationIssue, 'type' | 'msg'> {
  switch (expected) {
    case 'string':
      return { type: 'string_type', msg: 'Input should be a valid string' };
    case 'object':
      // A nested model (the body, approval_artifact), validated as FastAPI does with from_attributes.
      return { type: 'model_attributes_type', msg: 'Input should be a valid dictionary or object to extract fields from' };
    case 'bigint':
      return typeof input === 'number' && !Number.isInteger(input)
        ? { type: 'int_from_float', msg: 'Input should be a valid integer, got a number with a fractional part' }
        : { type: 'int_type', msg: 'Input should be a valid integer' };
    case 'number':
      return typeof input === 'string'
        ? { type: 'float_parsing', msg: 'Input should be a valid number, unable to parse string as a number' }
        : { type: 'float_type', msg: 'Input should be a valid number' };
    case 'boolean':
      return { type: 'bool_type', msg: 'Input should be a valid boolean' };
    default:
      return { type: `${expected}_type`, msg: `Input should be a valid ${expected}` };
  }
}

/**
 * Maps zod's issues to pydantic's entries. `root` is the validated value (the parsed body or the
 * query), `where` the first element of every `loc` ("body" or "query").
 */
export function issuesFromZod(error: z.ZodError, root: unknown, where: 'body' | 'query'): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path;
    const loc = [where, ...path.filter((k): k is string | number => typeof k !== 'symbol')];
    const input = at(root, path);
    const base = { loc, input: toJson(input) };
    if (input === undefined && path.length > 0 && (issue.code === 'invalid_type' || issue.code === 'custom')) {
      // Pydantic's `missing` names the enclosing object as its input.
      out.push({ ...base, type: 'missing', msg: 'Field required', input: toJson(at(root, path.slice(0, -1))) });
      continue;
    }
    switch (issue.code) {
      case 'invalid_type':
        out.push({ ...base, ...typeIssue(issue.expected, input) });
        break;
      case 'too_small':
      case 'too_big': {
        const small = issue.code === 'too_small';
        const limit = Number(small ? issue.minimum : issue.maximum);
        if (issue.origin === 'string') {
          out.push({
            ...base,
            type: small ? 'string_too_short' : 'string_too_long',
            msg: `String should have ${small ? 'at least' : 'at most'} ${limit} character${plural(limit)}`,
            ctx: small ? { min_length: limit } : { max_length: limit },
          });
        } else {
          out.push({
            ...base,
            type: small ? 'greater_than_equal' : 'less_than_equal',
            msg: `Input should be ${small ? 'greater' : 'less'} than or equal to ${limit}`,
            ctx: small ? { ge: limit } : { le: limit },
          });
        }
        break;
      }
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push({
            loc: [...loc, key],
            input: toJson(at(root, [...path, key])),
            type: 'extra_forbidden',
            msg: 'Extra inputs are not permitted',
          });
        }
        break;
      case 'custom': {
        // Our own refinements name their pydantic type in params.type.
        const type = typeof issue.params?.['type'] === 'string' ? (issue.params['type'] as string) : 'value_error';
        out.push({ ...base, type, msg: issue.message });
        break;
      }
      default:
        out.push({ ...base, type: 'value_error', msg: issue.message });
    }
  }
  return out;
}

/** Parsed bodies are JSON values already; a query's values are strings. Anything else is shown as null. */
function toJson(v: unknown): JsonValue {
  if (v === undefined) return null;
  if (v === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof v)) return v as JsonValue;
  if (Array.isArray(v) || isJsonObject(v as JsonValue)) return v as JsonValue;
  return null;
}
