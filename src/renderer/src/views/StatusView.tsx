import { useEffect } from 'react';
import type { KeyInfoDto } from '../../../shared/console-dto';
import { Fields } from '../components/Fields';
import { Refreshable } from '../components/Refreshable';
import { formatTime, plural } from '../lib/format';
import { useStatusStore } from '../stores/status-store';
import { HardeningPanel } from './status/HardeningPanel';

function KeyRow({ title, info }: { title: string; info: KeyInfoDto | null }) {
  return (
    <div className="key-card">
      <h3 className="section-title">{title}</h3>
      {info ? (
        <>
          <p className="mono key-id">{info.keyId}</p>
          <details>
            <summary>Public key (PEM)</summary>
            <pre className="code">{info.publicKeyPem}</pre>
          </details>
        </>
      ) : (
        <p className="muted">Not configured</p>
      )}
    </div>
  );
}

export function StatusView() {
  const status = useStatusStore((s) => s.status);
  const error = useStatusStore((s) => s.error);
  const health = useStatusStore((s) => s.health);
  const loadedAt = useStatusStore((s) => s.loadedAt);
  const chain = useStatusStore((s) => s.chain);
  const load = useStatusStore((s) => s.load);
  const verifyChain = useStatusStore((s) => s.verifyChain);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="view" aria-labelledby="status-heading" data-testid="view-status">
      <header className="view-header">
        <h1 id="status-heading">Status</h1>
        <p className="muted">How this boundary is configured, in plain words</p>
        <button type="button" className="btn btn-ghost" onClick={() => void load()}>
          Refresh
        </button>
      </header>
      <Refreshable
        data={health}
        status={status}
        error={error}
        loadingLabel="Asking the boundary…"
        errorTitle="Could not read the status"
        onRetry={() => void load()}
      >
        {(health) => (
          <>
            <ul className="warnings" aria-label="Warnings" data-testid="status-warnings">
              {health.warnings.length === 0 ? (
                <li className="notice notice-ok">No warnings.</li>
              ) : (
                health.warnings.map((w) => (
                  <li key={w} className="notice notice-warn">
                    {w}
                  </li>
                ))
              )}
            </ul>
            <div className="cards">
              <div className="card">
                <Fields
                  rows={[
                    { label: 'Mode', value: health.mode === 'demo' ? 'Demo (no approval needed)' : 'ClawShield (approval required)', testId: 'status-mode' },
                    { label: 'Signature verification', value: health.signatureVerification === 'enabled' ? 'Enabled' : 'Disabled' },
                    { label: 'Allow-list', value: health.restriction === 'open' ? 'Open: every action may run' : 'Restricted' },
                    { label: 'Tenant', value: health.tenant ?? 'Any (no tenant configured)' },
                    {
                      label: 'Actions manifest',
                      value: health.manifest
                        ? `${health.manifest.path} (${plural(health.manifest.count, 'action')}, sha256 ${health.manifest.hash.slice(0, 16)}…)`
                        : 'None: built-in actions only',
                      mono: health.manifest !== null,
                      testId: 'status-manifest',
                    },
                    { label: 'API address', value: health.apiAddress, mono: true, testId: 'status-address' },
                    { label: 'Version', value: health.version },
                  ]}
                />
              </div>
              <div className="card">
                <Fields
                  rows={[
                    { label: 'Pending', value: plural(health.counts.pending, 'proposal') },
                    { label: 'Receipts', value: plural(health.counts.receipts, 'receipt'), testId: 'status-receipts' },
                    { label: 'Executions', value: plural(health.counts.executions, 'execution') },
                    { label: 'Approvals', value: plural(health.counts.approvals, 'approval') },
                  ]}
                />
                <div className="chain-check">
                  <button type="button" className="btn" onClick={() => void verifyChain()} disabled={chain.running}>
                    {chain.running ? 'Verifying the ledger…' : 'Verify the whole ledger'}
                  </button>
                  <p className="muted small">Done by the service; the Ledger view verifies single receipts here in the window.</p>
                  {chain.error ? <p className="notice notice-error">{chain.error}</p> : null}
                  {chain.result ? (
                    <p className={chain.result.valid ? 'notice notice-ok' : 'notice notice-error'} data-testid="chain-result">
                      {chain.result.valid
                        ? `All ${chain.result.checked.toLocaleString()} receipts hold: hashes, links and signatures.`
                        : `Broken at receipt #${chain.result.firstBadSeq ?? '?'}: ${chain.result.problem ?? 'unknown problem'}`}
                    </p>
                  ) : null}
                </div>
              </div>
            </div>
            <div className="cards">
              <KeyRow title="Receipt key (signs the ledger)" info={health.receiptKey} />
              <KeyRow title="Operator key (signs approvals from this console)" info={health.operatorKey} />
              <KeyRow title="ClawShield key (trusted external approver)" info={health.clawshieldKey} />
            </div>
            <HardeningPanel />
            {loadedAt ? <p className="muted small">Updated {formatTime(new Date(loadedAt).toISOString())}</p> : null}
          </>
        )}
      </Refreshable>
    </section>
  );
}
