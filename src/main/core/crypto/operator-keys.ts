import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Ed25519Signer } from './ed25519.ts';
import { KeyFileError, loadOrCreateSigningKey } from './key-file.ts';

/** Further operators' keys, one `NAME.pem` each, beside the first operator's `operator-key.pem`. */
export const OPERATORS_DIR = 'operators';
/** The first operator, whose key is `operator-key.pem`. */
export const PRIMARY_OPERATOR = 'operator';
export const OPERATOR_NAME = /^[a-z][a-z0-9-]{0,31}$/;

function keyFile(dataDir: string, name: string): string {
  return join(dataDir, OPERATORS_DIR, `${name}.pem`);
}

/** Makes a new operator key `operators/NAME.pem`; refuses a bad or taken name. */
export function addOperator(dataDir: string, name: string): Ed25519Signer {
  if (!OPERATOR_NAME.test(name) || name === PRIMARY_OPERATOR) {
    throw new KeyFileError(
      `operator name '${name}' must be 1-32 of a-z, 0-9 and '-', start with a letter, and not be '${PRIMARY_OPERATOR}'`,
    );
  }
  const file = keyFile(dataDir, name);
  if (existsSync(file)) throw new KeyFileError(`operator '${name}' already exists (${file})`);
  const { signer, created } = loadOrCreateSigningKey(file);
  if (!created) throw new KeyFileError(`operator '${name}' already exists (${file})`);
  return signer;
}

/** The names of the further operators whose key files are in the data directory now. */
export function operatorNames(dataDir: string): string[] {
  const dir = join(dataDir, OPERATORS_DIR);
  if (!existsSync(dir)) return [];
  const names: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const name = entry.endsWith('.pem') ? entry.slice(0, -4) : null;
    // Anything else in the directory (a temporary file of an interrupted add) is not a key.
    if (name !== null && OPERATOR_NAME.test(name) && name !== PRIMARY_OPERATOR) names.push(name);
  }
  return names;
}

/** One further operator's key (the file checked as every key file is), or null when there is no such file. */
export function loadOperator(dataDir: string, name: string): Ed25519Signer | null {
  if (!OPERATOR_NAME.test(name) || name === PRIMARY_OPERATOR) return null;
  const file = keyFile(dataDir, name);
  if (!existsSync(file)) return null;
  return loadOrCreateSigningKey(file, { mayCreate: false }).signer;
}
