import { create } from 'zustand';
import { callConsole, onConnectionChange, onUnreachable } from '../bridge';

/**
 * Whether the core can be reached. It goes down when the bridge says so or when any call
 * finds the core unreachable; it comes back when the bridge says so or when a health probe
 * (every PROBE_MS while down) is answered. Coming back resynchronises what the window shows,
 * since events sent meanwhile were lost.
 */
interface ConnectionState {
  connected: boolean;
  /** When the connection was lost (ms since epoch), or null while connected. */
  lostAt: number | null;
}

export const PROBE_MS = 2000;

export const useConnectionStore = create<ConnectionState>(() => ({ connected: true, lostAt: null }));

let probe: ReturnType<typeof setInterval> | null = null;

function markDisconnected(): void {
  if (!useConnectionStore.getState().connected) return;
  useConnectionStore.setState({ connected: false, lostAt: Date.now() });
  probe ??= setInterval(() => {
    void callConsole('health').then((result) => {
      if (result.ok) markConnected();
    });
  }, PROBE_MS);
}

function markConnected(): void {
  if (probe !== null) clearInterval(probe);
  probe = null;
  if (useConnectionStore.getState().connected) return;
  useConnectionStore.setState({ connected: true, lostAt: null });
  for (const listener of [...resyncListeners]) listener();
}

const resyncListeners = new Set<() => void>();

/** Runs `listener` each time the connection comes back; returns the unsubscribe. */
export function onReconnect(listener: () => void): () => void {
  resyncListeners.add(listener);
  return () => resyncListeners.delete(listener);
}

/** Starts watching; returns a function that stops it. */
export function watchConnection(): () => void {
  const offSignal = onConnectionChange((state) => (state === 'connected' ? markConnected() : markDisconnected()));
  const offUnreachable = onUnreachable(markDisconnected);
  return () => {
    offSignal();
    offUnreachable();
    if (probe !== null) clearInterval(probe);
    probe = null;
  };
}
