import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/** A path that names something other than a regular file; `code` reads as the reason, like an errno. */
export class NotRegularFileError extends Error {
  readonly code = 'not a regular file';
}

/**
 * A file the reviewer named, or one inside evidence handed to them (a bundle, a checkpoint note,
 * a key beside a copied ledger), read as text. Opened without blocking and checked on the
 * descriptor: a FIFO there would hang the command on its first read, and a device such as
 * /dev/zero would be read until memory runs out.
 */
export function readGivenFile(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    if (!fstatSync(fd).isFile()) throw new NotRegularFileError(`${file} is not a regular file`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
