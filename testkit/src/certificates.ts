/**
 * Throwaway TLS certificates made by the real openssl (gate.ts 'openssl'), for servers the tests run:
 *
 *  - makeCertificate: one self-signed certificate for a domain (nginx in the topology; the client trusts it as is);
 *  - makeCertificateAuthority: a private CA and a leaf it signed for localhost, 127.0.0.1 and ::1 (the test SMTP
 *    sink). Clients trust the CA, not the leaf, as they would a company's private relay with SMTP_CA_FILE.
 *
 * EC P-256 keys, two days of validity: enough for a run, useless afterwards.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from './gate.js';

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  execFileSync(requireTool('openssl'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A throwaway self-signed certificate for `domain` (EC P-256), written to `dir`; returns the paths and PEM. */
export function makeCertificate(dir: string, domain: string): { cert: string; key: string; pem: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '2',
    '-keyout',
    key,
    '-out',
    cert,
    '-subj',
    `/CN=${domain}`,
    '-addext',
    `subjectAltName=DNS:${domain}`,
  ]);
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}

export interface CertificateAuthority {
  /** PEM file of the CA certificate: what a client adds to its trusted CAs (SMTP_CA_FILE). */
  caFile: string;
  caPem: string;
  /** The leaf certificate (signed by the CA) and its private key, PEM, for a server to present. */
  cert: string;
  key: string;
}

/**
 * A private CA and a server certificate it signed, written to `dir` (ca.pem, ca-key.pem, server.pem, server-key.pem).
 * The leaf names `localhost`, `127.0.0.1` and `::1` in its subjectAltName (what a client connecting to a loopback
 * port checks), is not a CA itself and is for server authentication only.
 */
export function makeCertificateAuthority(dir: string, commonName = 'Ironclad test CA'): CertificateAuthority {
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca-key.pem');
  const serverCert = join(dir, 'server.pem');
  const serverKey = join(dir, 'server-key.pem');
  const request = join(dir, 'server.csr');
  const extensions = join(dir, 'server.ext');
  openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '2',
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl(['req', '-new', ...EC_KEY, '-keyout', serverKey, '-out', request, '-subj', '/CN=localhost']);
  writeFileSync(
    extensions,
    [
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  openssl([
    'x509',
    '-req',
    '-in',
    request,
    '-CA',
    caFile,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    extensions,
    '-out',
    serverCert,
  ]);
  return {
    caFile,
    caPem: readFileSync(caFile, 'utf8'),
    cert: readFileSync(serverCert, 'utf8'),
    key: readFileSync(serverKey, 'utf8'),
  };
}
