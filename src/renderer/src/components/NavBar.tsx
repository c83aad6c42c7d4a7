import { usePendingStore } from '../stores/pending-store';
import { useNavStore, VIEW_LABELS, VIEWS } from '../stores/nav-store';
import { ModeIndicator } from './ModeIndicator';

export function NavBar() {
  const view = useNavStore((s) => s.view);
  const show = useNavStore((s) => s.show);
  const pending = usePendingStore((s) => s.items.length);
  const fresh = usePendingStore((s) => s.newIds.size);
  return (
    <nav className="nav" aria-label="Views">
      <div className="brand" aria-hidden="true">
        <span className="brand-mark">◆</span> OpenExec
      </div>
      <ul>
        {VIEWS.map((v) => (
          <li key={v}>
            <button
              type="button"
              aria-current={view === v ? 'page' : undefined}
              className={view === v ? 'nav-item active' : 'nav-item'}
              onClick={() => show(v)}
              data-testid={`nav-${v}`}
            >
              <span>{VIEW_LABELS[v]}</span>
              {v === 'pending' && pending > 0 ? (
                <span
                  className={fresh > 0 ? 'badge badge-new' : 'badge'}
                  data-testid="pending-badge"
                  aria-label={fresh > 0 ? `${pending} pending, ${fresh} new` : `${pending} pending`}
                >
                  {pending}
                </span>
              ) : null}
            </button>
          </li>
        ))}
      </ul>
      <ModeIndicator />
    </nav>
  );
}
