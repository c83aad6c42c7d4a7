import { create } from 'zustand';

/** One shared one-second clock for every countdown on screen. */
interface ClockState {
  now: number;
}

export const useClockStore = create<ClockState>(() => ({ now: Date.now() }));

let timer: ReturnType<typeof setInterval> | null = null;

/** Starts the shared tick; returns a function that stops it. */
export function startClock(): () => void {
  if (timer === null) {
    useClockStore.setState({ now: Date.now() });
    timer = setInterval(() => useClockStore.setState({ now: Date.now() }), 1000);
  }
  return () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
}
