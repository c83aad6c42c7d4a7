/**
 * OPENEXEC_TLS_CERT / OPENEXEC_TLS_KEY: the certificate and key the API is served with over
 * HTTPS. Read once at start-up; every problem is one line naming the variable and the file.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KeyFileError, readKeyFile } from '../core/crypto/key-file.ts';
import { ConfigError } from './config.ts';
import { codeOf } from './private-path.ts';

/** A certificate this close to its end is named in the start-up warnings and in Status. */
export const TLS_EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 24 * 3600 * 1000;

export interface TlsFiles {
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
}

export interface TlsMaterial {
  /** The certificate file's PEM as given (the leaf, then any chain). */
  cert: string;
  key: string;
  certFile: string;
  validTo: Date;
}

/** The certificate file (the server's, and the CLI's only trust anchor). */
export function readCertificate(file: string): { pem: string; leaf: X509Certificate } {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`OPENEXEC_TLS_CERT: cannot read ${file}: ${codeOf(err)}`);
  }
  // The CLI reads this file too, and it need not be private: a key in it would be exposed.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError(`OPENEXEC_TLS_CERT: ${file} contains a private key; keep the key only in the file OPENEXEC_TLS_KEY names`);
  }
  try {
    return { pem, leaf: new X509Certificate(pem) };
  } catch {
    throw new ConfigError(`OPENEXEC_TLS_CERT: ${file} is not a PEM certificate`);
  }
}

function readPrivateKey(file: string): { pem: string; key: KeyObject } {
  let pem: string | null;
  try {
    pem = readKeyFile(file);
  } catch (err) {
    if (err instanceof KeyFileError) throw new ConfigError(`OPENEXEC_TLS_KEY: ${err.message}`);
    throw err;
  }
  if (pem === null) throw new ConfigError(`OPENEXEC_TLS_KEY: key file ${file} does not exist`);
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch (err) {
    if (codeOf(err) === 'ERR_MISSING_PASSPHRASE') {
      throw new ConfigError(`OPENEXEC_TLS_KEY: ${file} is encrypted; give an unencrypted key (its file mode protects it)`);
    }
    throw new ConfigError(`OPENEXEC_TLS_KEY: ${file} is not a PEM private key`);
  }
}

/**
 * The certificate and its key (null when neither is set), refused when only one is set, they
 * do not belong together, or the certificate is not valid at `now` (a client would refuse it
 * anyway, with a far vaguer message).
 */
export function loadTlsFiles(files: TlsFiles, now: Date = new Date()): TlsMaterial | null {
  const { tlsCertFile: certFile, tlsKeyFile: keyFile } = files;
  if (certFile === null && keyFile === null) return null;
  if (certFile === null)
    throw new ConfigError('OPENEXEC_TLS_CERT: must be set together with OPENEXEC_TLS_KEY (the certificate of that key)');
  if (keyFile === null)
    throw new ConfigError('OPENEXEC_TLS_KEY: must be set together with OPENEXEC_TLS_CERT (the private key of that certificate)');
  const { pem: cert, leaf } = readCertificate(certFile);
  const { pem: key, key: keyObject } = readPrivateKey(keyFile);
  if (!leaf.checkPrivateKey(keyObject)) {
    throw new ConfigError(`OPENEXEC_TLS_KEY: ${keyFile} is not the key of the certificate ${certFile} (OPENEXEC_TLS_CERT)`);
  }
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  if (now < validFrom) {
    throw new ConfigError(`OPENEXEC_TLS_CERT: the certificate ${certFile} is not valid before ${validFrom.toISOString()}`);
  }
  if (now > validTo) {
    throw new ConfigError(`OPENEXEC_TLS_CERT: the certificate ${certFile} expired on ${validTo.toISOString()}`);
  }
  return { cert, key, certFile, validTo };
}

/** A warning while the certificate has less than TLS_EXPIRY_WARNING_DAYS left. */
export function tlsExpiryWarnings(tls: TlsMaterial, now: Date = new Date()): string[] {
  const left = tls.validTo.getTime() - now.getTime();
  if (left > TLS_EXPIRY_WARNING_DAYS * DAY_MS) return [];
  const days = Math.max(0, Math.floor(left / DAY_MS));
  const when = left <= 0 ? 'has expired' : `expires in ${days === 0 ? 'less than a day' : `${days} day${days === 1 ? '' : 's'}`}`;
  return [`the TLS certificate ${tls.certFile} ${when} (${tls.validTo.toISOString()}); renew it and restart OpenExec`];
}
