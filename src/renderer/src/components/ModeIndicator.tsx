import type { ExecMode } from '../../../shared/console-dto';
import { useStatusStore } from '../stores/status-store';

export const MODE_WORDS: Record<ExecMode, string> = {
  demo: 'Demo (no approval needed)',
  clawshield: 'ClawShield (approval required)',
};

const useMode = () => useStatusStore((s) => s.health?.mode ?? null);

/** The boundary's mode, in the navigation, on every view. */
export function ModeIndicator() {
  const mode = useMode();
  return (
    <p className={`mode mode-${mode ?? 'unknown'}`} data-testid="nav-mode" data-mode={mode ?? 'unknown'}>
      <span className="mode-label">Mode</span>
      <strong>
        {mode === 'demo' ? 'Demo: runs without approval' : mode === 'clawshield' ? 'ClawShield: approval required' : 'Not known yet'}
      </strong>
    </p>
  );
}

/** In demo mode, a band above every view that cannot be scrolled away or dismissed. */
export function DemoBand() {
  if (useMode() !== 'demo') return null;
  return (
    <div className="demo-band" role="region" aria-label="Demo mode warning" data-testid="demo-band">
      <strong>Demo mode: requests run without approval.</strong> Every allowed action an agent sends to /execute runs at once, with no human
      decision and no signed approval. Set OPENEXEC_MODE=clawshield to require one.
    </div>
  );
}
