import type { ReactNode } from 'react';
import type { LoadStatus } from '../stores/view-load';
import { ErrorState, Loading } from './StateView';

interface RefreshableProps<T> {
  data: T | null;
  status: LoadStatus;
  error: string | null;
  loadingLabel: string;
  errorTitle: string;
  onRetry: () => void;
  children: (data: T) => ReactNode;
}

/**
 * Data that is refreshed in place. Once there is something to show it stays on screen: a
 * reload does not bring the spinner back, and a failed one is named above the data it leaves
 * standing instead of replacing it.
 */
export function Refreshable<T>({ data, status, error, loadingLabel, errorTitle, onRetry, children }: RefreshableProps<T>) {
  if (data === null) {
    if (status === 'idle' || status === 'loading') return <Loading label={loadingLabel} />;
    return <ErrorState title={errorTitle} message={error ?? 'Unknown error'} onRetry={onRetry} />;
  }
  return (
    <>
      {status === 'error' ? (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      ) : null}
      {children(data)}
    </>
  );
}
