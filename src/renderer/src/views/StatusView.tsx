import { useShallow } from 'zustand/react/shallow';
import type { KeyInfoDto } from '../../../shared/console-dto';
import { ChainCheck } from '../components/ChainCheck';
import { Fields } from '../components/Fields';
import { MODE_WORDS } from '../components/ModeIndicator';
import { Refreshable } from '../components/Refreshable';
import { Time } from '../components/Time';
import { ViewFrame } from '../components/ViewFrame';
import { plural } from '../lib/format';
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
  const { status, error, health, loadedAt, load } = useStatusStore(
    useShallow((s) => ({ status: s.status, error: s.error, health: s.health, loadedAt: s.loadedAt, load: s.load })),
  );

  return (
    <ViewFrame view="status" title="Status" lead="How this boundary is configured, in plain words" onOpen={load} onRefresh={load}>
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
                    { label: 'Mode', value: MODE_WORDS[health.mode], testId: 'status-mode' },
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
                    {
                      label: 'Latest checkpoint',
                      value: health.checkpoints.latest
                        ? `${plural(health.checkpoints.latest.size, 'receipt')}, root ${health.checkpoints.latest.rootHash.slice(0, 16)}…`
                        : 'None yet (one is signed every 1,000 receipts or minute, and on demand)',
                      testId: 'status-checkpoint',
                    },
                    {
                      label: 'Last witnessed',
                      value: health.checkpoints.witnessProblem
                        ? `Copy failed: ${health.checkpoints.witnessProblem}`
                        : health.checkpoints.witnessed
                          ? `${plural(health.checkpoints.witnessed.size, 'receipt')} in ${health.checkpoints.witnessed.file}`
                          : health.checkpoints.witnessDir
                            ? `Nothing yet in ${health.checkpoints.witnessDir}`
                            : 'Not witnessed: set OPENEXEC_WITNESS_DIR to keep co-signed checkpoints outside the data directory',
                      testId: 'status-witnessed',
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
                <ChainCheck />
                <p className="muted small">Done by the service in chunks; the Ledger view verifies single receipts here in the window.</p>
              </div>
            </div>
            <div className="cards">
              <KeyRow title="Receipt key (signs the ledger)" info={health.receiptKey} />
              <KeyRow title="Operator key (signs approvals from this console)" info={health.operatorKey} />
              <KeyRow title="ClawShield key (trusted external approver)" info={health.clawshieldKey} />
            </div>
            <HardeningPanel />
            {loadedAt ? (
              <p className="muted small">
                Updated <Time iso={new Date(loadedAt).toISOString()} />
              </p>
            ) : null}
          </>
        )}
      </Refreshable>
    </ViewFrame>
  );
}
