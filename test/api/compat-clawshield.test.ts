import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { conformance, get, post, startServer, type RunningServer } from '../support/harness.ts';
import { executeWire, TestApprover } from '../support/clawshield.ts';
import { rawDb } from '../support/raw-db.ts';

interface ApprovalVectors {
  public_key_pem: string;
  private_key_seed_hex: string;
  tenant_id: string;
  cases: { name: string; request: { action: string; payload_wire: string }; artifact: Record<string, string>; expect: string }[];
}
const vectors = conformance<ApprovalVectors>('approval-vectors.json');
const REJECT_TEXT: Record<string, string> = {
  'reject:expired': 'Approval artifact expired',
  'reject:tenant': 'Tenant mismatch: expected tenant-001, got other-tenant',
  'reject:signature': 'Invalid signature: approval artifact is not authentic',
  'reject:hash': 'Action hash mismatch: approval does not match this request',
  'reject:expiry-format': 'Invalid expires_at timestamp',
};

describe('ClawShield conformance vectors over HTTP', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({
      OPENEXEC_MODE: 'clawshield',
      CLAWSHIELD_PUBLIC_KEY: vectors.public_key_pem,
      CLAWSHIELD_TENANT_ID: vectors.tenant_id,
    });
  });
  afterAll(() => s.stop());

  test('health in clawshield mode', async () => {
    const r = await get(s.url, '/health');
    expect(r.body).toMatchObject({ status: 'healthy', exec_mode: 'clawshield', signature_verification: 'enabled' });
  });

  for (const c of vectors.cases) {
    test(`${c.name} → ${c.expect}`, async () => {
      const r = await post(s.url, '/execute', executeWire(c.request.action, c.request.payload_wire, `vec-${c.name}`, c.artifact));
      if (c.expect === 'execute') {
        expect(r.status, r.text).toBe(200);
        expect(r.body.approved).toBe(true);
        const row = rawDb(s.app.core).prepare('SELECT approval_id FROM executions WHERE id = ?').get(r.body.id) as { approval_id: string };
        expect(row.approval_id).toBe(c.artifact['approval_id']);
      } else {
        const detail = REJECT_TEXT[c.expect];
        expect(detail, `no expected text for ${c.expect}`).toBeDefined();
        expect(r.status).toBe(403);
        expect(r.body).toEqual({ detail });
      }
    });
  }

  test('valid-floats executes add with Python float arithmetic', async () => {
    const c = vectors.cases.find((v) => v.name === 'valid-floats')!;
    const again = await post(s.url, '/execute', executeWire(c.request.action, c.request.payload_wire, 'vec-valid-floats', c.artifact));
    expect(again.text).toContain('"result":{"sum":1e+16}');
  });

  test('stronger: an approval is single use, even with a fresh nonce', async () => {
    const c = vectors.cases.find((v) => v.name === 'valid-echo')!;
    const r = await post(s.url, '/execute', executeWire(c.request.action, c.request.payload_wire, 'fresh-nonce', c.artifact));
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/^Approval already used: 11111111-1111-4111-8111-111111111111 authorised execution /);
  });
});

describe('constitutional enforcement (ported from the Python tests)', () => {
  const approver = new TestApprover();
  const other = new TestApprover();
  const servers: RunningServer[] = [];
  const start = async (env: Record<string, string>) => {
    const s = await startServer({ OPENEXEC_MODE: 'clawshield', ...env });
    servers.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });
  const payload = '{"msg":"hello"}';

  test('valid artifact executes', async () => {
    const s = await start({ CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem, CLAWSHIELD_TENANT_ID: 'tenant-001' });
    const r = await post(
      s.url,
      '/execute',
      executeWire('echo', '{"msg":"constitutional"}', 'c-1', approver.mint('echo', '{"msg":"constitutional"}')),
    );
    expect(r.status).toBe(200);
    expect(r.body.result.echo.msg).toBe('constitutional');

    const missing = await post(s.url, '/execute', executeWire('echo', payload, 'c-2'));
    expect(missing.status).toBe(403);
    expect(missing.body.detail).toBe('ClawShield mode requires an approval artifact');

    const tampered = await post(
      s.url,
      '/execute',
      executeWire('echo', '{"msg":"tampered"}', 'c-3', approver.mint('echo', '{"msg":"original"}')),
    );
    expect(tampered.status).toBe(403);
    expect(tampered.body.detail).toContain('hash mismatch');

    const wrongKey = await post(s.url, '/execute', executeWire('echo', payload, 'c-4', other.mint('echo', payload)));
    expect(wrongKey.status).toBe(403);
    expect(wrongKey.body.detail).toBe('Invalid signature: approval artifact is not authentic');

    const past = (m: number) => new Date(Date.now() - m * 60_000).toISOString().replace('Z', '000');
    const expired = await post(
      s.url,
      '/execute',
      executeWire('echo', payload, 'c-5', approver.mint('echo', payload, { issuedAt: past(15), expiresAt: past(10) })),
    );
    expect(expired.status).toBe(403);
    expect(expired.body.detail).toBe('Approval artifact expired');

    const noExpiry = approver.mint('echo', payload) as Record<string, string>;
    delete noExpiry['expires_at'];
    const missingExpiry = await post(s.url, '/execute', executeWire('echo', payload, 'c-6', noExpiry));
    // The Python model declares expires_at a required string: pydantic refuses it before any check.
    expect(missingExpiry.status).toBe(422);
    expect(missingExpiry.body.detail[0]).toMatchObject({ type: 'missing', loc: ['body', 'approval_artifact', 'expires_at'] });
  });

  test('tenant mismatch', async () => {
    const s = await start({ CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem, CLAWSHIELD_TENANT_ID: 'wrong-tenant' });
    const r = await post(s.url, '/execute', executeWire('echo', payload, 't-1', approver.mint('echo', payload)));
    expect(r.status).toBe(403);
    expect(r.body.detail).toBe('Tenant mismatch: expected wrong-tenant, got tenant-001');
  });

  test('missing key', async () => {
    const s = await start({});
    const r = await post(s.url, '/execute', executeWire('echo', payload, 'k-1', approver.mint('echo', payload)));
    expect(r.status).toBe(403);
    expect(r.body.detail).toBe('CLAWSHIELD_PUBLIC_KEY not configured');
  });

  test('stronger rules: future issued_at, issued after expiry, non-strict base64, offsets honoured', async () => {
    const s = await start({ CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem });
    const at = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
    const future = await post(
      s.url,
      '/execute',
      executeWire('echo', payload, 's-1', approver.mint('echo', payload, { issuedAt: at(30), expiresAt: at(60) })),
    );
    expect(future.status).toBe(403);
    expect(future.body.detail).toMatch(/^Approval issued in the future/);

    const inverted = await post(
      s.url,
      '/execute',
      executeWire('echo', payload, 's-2', approver.mint('echo', payload, { issuedAt: at(1), expiresAt: at(0.5) })),
    );
    expect(inverted.status).toBe(403);
    expect(inverted.body.detail).toMatch(/^Approval issued after it expires/);

    const junk = approver.mint('echo', payload);
    const withJunk = { ...junk, signature: `${junk.signature.slice(0, 10)}!!${junk.signature.slice(10)}` };
    const j = await post(s.url, '/execute', executeWire('echo', payload, 's-3', withJunk));
    expect(j.status).toBe(403);
    expect(j.body.detail).toMatch(/^Invalid signature: /);

    // +02:00 offset: expires two hours "earlier" in UTC than the digits say.
    const local = new Date(Date.now() + 60 * 60_000).toISOString().slice(0, 19);
    const offset = await post(
      s.url,
      '/execute',
      executeWire('echo', payload, 's-4', approver.mint('echo', payload, { issuedAt: at(-1), expiresAt: `${local}+02:00` })),
    );
    expect(offset.status).toBe(403);
    expect(offset.body.detail).toBe('Approval artifact expired');
    const z = await post(
      s.url,
      '/execute',
      executeWire('echo', payload, 's-5', approver.mint('echo', payload, { issuedAt: at(-1), expiresAt: `${local}Z` })),
    );
    expect(z.status).toBe(200);
  });
});
