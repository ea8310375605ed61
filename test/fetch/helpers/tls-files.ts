/**
 * A throw-away PKI made with the openssl CLI for the https fetch tests: a CA that signs a server
 * certificate for 127.0.0.1 (and any extra DNS names), and an unrelated second CA.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  /** PEM text of the CA that signed the server certificate, and of the unrelated CA. */
  readonly ca: string;
  readonly otherCa: string;
  /** Paths of the CA certificate, the server certificate and its key. */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Writes the files into `dir` (which must exist). */
export function makeTlsFiles(dir: string, serverCn: string, dnsNames: readonly string[] = []): TlsFiles {
  const f = (x: string) => join(dir, x);
  const ossl = (...a: string[]) => execFileSync('openssl', a, { stdio: ['ignore', 'ignore', 'pipe'] });
  for (const name of ['ca', 'other']) {
    ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(`${name}.key`));
    ossl('req', '-x509', '-new', '-key', f(`${name}.key`), '-sha256', '-days', '2', '-subj', `/CN=trustgate ${name} CA`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f(`${name}.crt`));
  }
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('server.key'));
  ossl('req', '-new', '-key', f('server.key'), '-subj', `/CN=${serverCn}`, '-out', f('server.csr'));
  const san = ['IP:127.0.0.1', ...dnsNames.map((d) => `DNS:${d}`)].join(',');
  writeFileSync(f('server.ext'), `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
  ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-sha256', '-extfile', f('server.ext'), '-out', f('server.crt'));
  return { ca: readFileSync(f('ca.crt'), 'utf8'), otherCa: readFileSync(f('other.crt'), 'utf8'), caFile: f('ca.crt'), certFile: f('server.crt'), keyFile: f('server.key') };
}
