import { renameSync, writeFileSync } from 'node:fs';
import { CliError } from './cli-error.ts';

/** Writes `text` to `file` whole or not at all (a temporary file renamed into place). */
export function writeWhole(file: string, text: string, what: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    throw new CliError(`cannot write the ${what} to ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
