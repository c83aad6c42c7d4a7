/**
 * A statement on a witnessed write's hot path, sent by name, so that each connection has the
 * server parse and plan it once (a prepared statement) rather than on every execution. The
 * driver prepares it in the same round trip as its first use.
 */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

export function prepared(name: string, text: string): Prepared {
  return { name: `openexec_${name}`, text };
}
