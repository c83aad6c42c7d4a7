/** A promise settled from outside: how a running execution tells waiters it has ended. */
export interface Deferred {
  promise: Promise<void>;
  settle: () => void;
}

export function deferred(): Deferred {
  let settle!: () => void;
  const promise = new Promise<void>((resolve) => (settle = resolve));
  return { promise, settle };
}
