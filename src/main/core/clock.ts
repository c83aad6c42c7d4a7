/** Injected so that expiry and skew rules can be tested at fixed instants. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}
