import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { networkInterfaces } from 'node:os';

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

/**
 * A fresh self-signed Ed25519 certificate and its key (0600) in `dir`, made by openssl at test
 * time, valid from now for `days`, for 127.0.0.1 and any further IP addresses given.
 */
export function selfSignedCert(dir: string, name: string, options: { days?: number; ips?: string[] } = {}): CertFiles {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const san = ['IP:127.0.0.1', ...(options.ips ?? []).map((ip) => `IP:${ip}`)].join(',');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ed25519',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      String(options.days ?? 30),
      '-subj',
      `/CN=openexec-test-${name}`,
      '-addext',
      `subjectAltName=${san}`,
    ],
    { stdio: 'ignore' },
  );
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile };
}

/** The machine's own non-loopback IPv4 address, if it has one: a bind beyond loopback that stays on this host. */
export function ownNonLoopbackAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}
