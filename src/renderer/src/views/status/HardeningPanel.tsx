import { useCallback, useEffect, useState } from 'react';
import type { HardeningReportDto, HardeningStatus } from '../../../../shared/hardening';
import { callConsole, errorText } from '../../bridge';

const NOTICE: Record<HardeningStatus, string> = {
  pass: 'notice notice-ok',
  warn: 'notice notice-warn',
  fail: 'notice notice-error',
  manual: 'notice notice-info',
};

const LABEL: Record<HardeningStatus, string> = { pass: 'Pass', warn: 'Warning', fail: 'Fails', manual: 'Check by hand' };

/** The production checklist as the service checks it (`openexec doctor`), item by item with what to do. */
export function HardeningPanel() {
  const [report, setReport] = useState<HardeningReportDto | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    const result = await callConsole('hardeningReport');
    if (result.ok) {
      setReport(result.value);
      setError(null);
    } else setError(errorText(result.error));
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div className="card" data-testid="hardening-panel">
      <h2 className="section-title">Hardening</h2>
      <p className="muted small">The production checklist, checked by the service (the same as openexec doctor).</p>
      <button type="button" className="btn btn-ghost" onClick={() => void load()}>
        Check again
      </button>
      {error ? <p className="notice notice-error">{error}</p> : null}
      {report ? (
        <ul className="warnings" aria-label="Hardening checks">
          {report.checks.map((c) => (
            <li key={c.id} className={NOTICE[c.status]} data-testid={`hardening-${c.id}`} data-status={c.status}>
              <strong>{LABEL[c.status]}</strong> <span className="mono">{c.id}</span>: {c.evidence}
              {c.status === 'pass' ? null : <div className="small">What to do: {c.remedy}</div>}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
