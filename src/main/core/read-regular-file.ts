import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/** A path that names something other than a regular file (or one too large); `code` reads as the reason, like an errno. */
export class NotRegularFileError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * A file read as text that someone else may have put there: one a reviewer named or found in
 * evidence handed to them (a bundle, a checkpoint note, a key beside a copied ledger), or a note
 * in the witness directory. Opened without blocking and checked on the descriptor: a FIFO would
 * hang the reader on its first read (the whole server, for a witness note), and a device such as
 * /dev/zero, or a file far larger than `maxBytes`, would be read until memory runs out.
 */
export function readRegularFile(file: string, maxBytes = Number.POSITIVE_INFINITY): string {
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NotRegularFileError(`${file} is not a regular file`, 'not a regular file');
    if (st.size > maxBytes) throw new NotRegularFileError(`${file} is larger than ${maxBytes} bytes`, 'too large');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
