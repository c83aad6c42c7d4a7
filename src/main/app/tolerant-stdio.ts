let installed = false;

/**
 * A line that cannot be written (stderr on a full disk, a closed pipe, EIO from a terminal
 * that is gone) must never stop the server: Node reports such failures as 'error' events on
 * the stream, which would otherwise be uncaught and end the process without a word. They are
 * dropped; the loss of a log line is the lesser harm. Installed once per process.
 */
export function tolerateUnwritableStdio(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
}
