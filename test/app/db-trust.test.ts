/**
 * The start-up line for a PostgreSQL ledger says where the data goes, how, and whom it trusts,
 * and never shows the password; a remote server without verified TLS is refused unless allowed.
 */
import { describe, expect, test } from 'vitest';
import { postgresTrust } from '../../src/main/app/db-trust.ts';

const SECRET = 's3cr%2Ft';

describe('postgresTrust', () => {
  test('a remote server with verified TLS: the data leaves the host, to a server checked against the named CA', () => {
    const t = postgresTrust(`postgresql://app:${SECRET}@db.example:6432/ledger?sslmode=verify-full&sslrootcert=/etc/openexec/pg-ca.pem`);
    expect(t).toMatchObject({ remote: true, transport: { kind: 'tls-verified', ca: '/etc/openexec/pg-ca.pem' }, problem: null });
    expect(t.line).toContain('the ledger is in PostgreSQL at app@db.example:6432/ledger: receipts, proposals');
    expect(t.line).toContain(
      'leave this host over TLS to a server whose certificate is verified against the CA in /etc/openexec/pg-ca.pem',
    );
    expect(t.line).toContain('and whose name must be db.example');
    expect(t.line).toContain('that server and whoever administers it are trusted with them');
    expect(t.line).not.toContain('s3cr');
  });

  test("sslmode=require is verified as node-postgres reads it, against Node's CAs", () => {
    const t = postgresTrust('postgres://app@10.0.0.5/ledger?sslmode=require');
    expect(t.transport).toEqual({ kind: 'tls-verified', ca: null });
    expect(t.line).toContain("verified against Node's built-in CAs");
    expect(t.problem).toBeNull();
  });

  test('a remote server without TLS, or with TLS that verifies nothing, is a problem naming the fix, never the password', () => {
    for (const url of [
      `postgresql://app:${SECRET}@db.example/ledger`,
      `postgresql://app:${SECRET}@db.example/ledger?sslmode=disable`,
      `postgresql://app@db.example/ledger?sslmode=no-verify&password=${SECRET}`,
    ]) {
      const t = postgresTrust(url);
      expect(t.remote).toBe(true);
      expect(t.problem).toMatch(/would send the ledger and the database password to db\.example .*add sslmode=verify-full/);
      expect(t.problem).toContain('OPENEXEC_DB_ALLOW_PLAINTEXT=1');
      expect(`${t.problem} ${t.line}`).not.toContain('s3cr');
    }
  });

  test('on this host (loopback or a Unix socket) nothing leaves it and nothing is refused', () => {
    const loop = postgresTrust(`postgresql://app:${SECRET}@127.0.0.1:5433/ledger`);
    expect(loop).toMatchObject({ remote: false, transport: { kind: 'plain' }, problem: null });
    expect(loop.line).toContain('on this host, without TLS');
    expect(loop.line).not.toContain('leave this host');
    const socket = postgresTrust('postgresql:///ledger?host=/var/run/postgresql&user=app');
    expect(socket).toMatchObject({ remote: false, transport: { kind: 'unix-socket' }, problem: null });
    expect(socket.line).toContain('through the Unix socket in /var/run/postgresql');
  });
});
