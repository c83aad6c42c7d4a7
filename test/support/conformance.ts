import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The Python service's conformance vectors, kept in the project (see its README.md). */
export const CONFORMANCE_DIR = resolve(import.meta.dirname, '../fixtures/conformance');

/** The exact text of a vector file; a missing file fails loudly. */
export function conformanceText(name: string): string {
  return readFileSync(join(CONFORMANCE_DIR, name), 'utf8');
}

/** A vector file parsed with JSON.parse (use conformanceText and our own parser where integers must stay exact). */
export function conformance<T>(name: string): T {
  return JSON.parse(conformanceText(name)) as T;
}
