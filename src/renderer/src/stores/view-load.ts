import type { ConsoleResult } from '../../../shared/console-result';
import { errorText } from '../bridge';

/** Where a view's data stands: never asked, on its way, on screen, or failed. */
export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

/** The load status every view store carries. */
export interface Loadable {
  status: LoadStatus;
  error: string | null;
}

/**
 * A view store's load. `showing` keeps the status 'ready' while it runs, so a refresh of data
 * already on screen does not turn into a spinner. `loaded` sets the data with status 'ready' in
 * one update, so the view never sees one without the other.
 */
export async function loadView<T>(
  set: (patch: Loadable) => void,
  showing: boolean,
  request: () => Promise<ConsoleResult<T>>,
  loaded: (value: T) => void,
): Promise<void> {
  set({ status: showing ? 'ready' : 'loading', error: null });
  const result = await request();
  if (!result.ok) set({ status: 'error', error: errorText(result.error) });
  else loaded(result.value);
}

/**
 * Reloads a little after the last of a burst of changes, and only for a view that has loaded
 * once: nobody is looking at one that has not, and it loads when it is opened.
 */
export function reloadSoon(get: () => Loadable & { load: () => Promise<void> }, delayMs: number): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return () => {
    if (get().status === 'idle') return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void get().load();
    }, delayMs);
  };
}
