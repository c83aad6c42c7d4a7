import { useEffect, type ReactNode } from 'react';
import type { View } from '../stores/nav-store';

interface ViewFrameProps {
  view: View;
  title: string;
  /** One line under the title: what the view holds, or how much of it there is. */
  lead: ReactNode;
  /** Called each time the view opens. */
  onOpen?: () => unknown;
  /** Reloads the view; gives it a Refresh button. */
  onRefresh?: () => unknown;
  /** Header controls beside Refresh. */
  actions?: ReactNode;
  className?: string;
  children: ReactNode;
}

/**
 * What every view shares: its landmark, heading, lead line and Refresh, and loading itself
 * when it opens. The body's loading, empty and error states are the view's own (Refreshable).
 */
export function ViewFrame({ view, title, lead, onOpen, onRefresh, actions, className, children }: ViewFrameProps) {
  useEffect(() => {
    void onOpen?.();
  }, [onOpen]);
  const heading = `${view}-heading`;
  return (
    <section className={className ? `view ${className}` : 'view'} aria-labelledby={heading} data-testid={`view-${view}`}>
      <header className="view-header">
        <h1 id={heading}>{title}</h1>
        <p className="muted view-lead">{lead}</p>
        {actions}
        {onRefresh ? (
          <button type="button" className="btn btn-ghost" onClick={() => void onRefresh()}>
            Refresh
          </button>
        ) : null}
      </header>
      {children}
    </section>
  );
}
