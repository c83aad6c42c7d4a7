import type { JsonObject, JsonValue } from '../../json/json-value.ts';
import { HandlerInputError } from '../action-registry.ts';

/**
 * Templates in a manifest: `{field}` names a top-level payload field; `{{` and `}}` are literal
 * braces. Parsed once at start-up, so a malformed template stops start-up instead of a run.
 */
export type TemplatePart = { literal: string } | { field: string };

export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
}

export class TemplateError extends Error {}

const FIELD = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function parseTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  let literal = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if ((c === '{' || c === '}') && source[i + 1] === c) {
      literal += c;
      i++;
      continue;
    }
    if (c === '}') throw new TemplateError(`unmatched '}' at ${i} (write }} for a literal brace)`);
    if (c !== '{') {
      literal += c;
      continue;
    }
    const end = source.indexOf('}', i);
    const name = end < 0 ? '' : source.slice(i + 1, end);
    if (!FIELD.test(name)) throw new TemplateError(`'{' at ${i} does not open a {field} (write {{ for a literal brace)`);
    if (literal !== '') parts.push({ literal });
    literal = '';
    parts.push({ field: name });
    i = end;
  }
  if (literal !== '') parts.push({ literal });
  return { source, parts };
}

export function templateFields(t: Template): string[] {
  return t.parts.flatMap((p) => ('field' in p ? [p.field] : []));
}

/** The field when the template is exactly `{field}` (replaced whole), else null. */
export function wholeField(t: Template): string | null {
  const only = t.parts.length === 1 ? t.parts[0] : undefined;
  return only && 'field' in only ? only.field : null;
}

/** A payload field as it appears in a rendered string. Objects and arrays have no such form. */
export function fieldText(payload: JsonObject, field: string): string {
  const v = payload[field];
  if (v === undefined || v === null) throw new HandlerInputError(`payload field '${field}' is missing`);
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new HandlerInputError(`payload field '${field}' must be a string, number or boolean here`);
}

/** Renders a template; `encode` (e.g. encodeURIComponent for URLs) applies to field values only. */
export function render(t: Template, payload: JsonObject, encode: (s: string) => string = (s) => s): string {
  return t.parts.map((p) => ('field' in p ? encode(fieldText(payload, p.field)) : p.literal)).join('');
}

/** True when the rendered text starts with a field's value rather than with the manifest's own text. */
export function startsWithField(t: Template): boolean {
  const first = t.parts[0];
  return first !== undefined && 'field' in first;
}

/**
 * A JSON template (an HTTP body): every string is a template; a string that is exactly
 * `{field}` becomes the field's JSON value as it is (numbers stay numbers).
 */
export function renderJson(value: JsonValue, payload: JsonObject): JsonValue {
  if (typeof value === 'string') {
    const t = parseTemplate(value);
    const whole = wholeField(t);
    if (whole === null) return render(t, payload);
    const v = payload[whole];
    if (v === undefined) throw new HandlerInputError(`payload field '${whole}' is missing`);
    return v;
  }
  if (Array.isArray(value)) return value.map((v) => renderJson(v, payload));
  if (value !== null && typeof value === 'object') {
    const out = Object.create(null) as JsonObject;
    for (const [k, v] of Object.entries(value)) out[k] = renderJson(v, payload);
    return out;
  }
  return value;
}

/** Every string template inside a JSON template, for start-up checks. */
export function jsonTemplates(value: JsonValue): Template[] {
  if (typeof value === 'string') return [parseTemplate(value)];
  if (Array.isArray(value)) return value.flatMap(jsonTemplates);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(jsonTemplates);
  return [];
}
