/**
 * A real notary-signer (Debian `notary` 0.7.0) on 127.0.0.1, for notary-server's
 * `trust_service: { type: remote }` — the deployment issue 13 asks the E2E tests to run against.
 * As in scripts/interop/mint.sh, with mutual TLS added: a throw-away openssl CA issues the
 * signer's gRPC certificate (subjectAltName IP:127.0.0.1) and a client certificate for
 * notary-server, and the signer's `client_ca_file` makes it refuse any client without one.
 *
 * Storage is `memory`: the signer then keeps its private keys unencrypted in memory and reads no
 * passphrase (notary cmd/notary-signer/config.go, setUpCryptoservices); the
 * `NOTARY_SIGNER_<alias>` passphrase and `default_alias` are only read for the SQL/RethinkDB
 * backends, which would need a database and migrations here. At log level info the signer logs
 * `CreateKey: Created KeyID <id>` and `Sign: Signed … with KeyID <id>` (signer/api/rpc_api.go),
 * which is how the tests prove the server's keys live in, and its signatures come from, the signer.
 * Only the process started here is stopped, by its handle.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './notary.js';

const run = promisify(execFile);

export interface NotarySigner {
  /** notary-server's `trust_service` section for this signer (mutual TLS, ecdsa keys). */
  trustService: Record<string, string>;
  /** Everything the signer logged so far. */
  log(): string;
  /** Key IDs the signer created (`CreateKey`) and signed with (`Sign`), in log order. */
  created(): string[];
  signedWith(): string[];
  stop(): Promise<void>;
}

/** The throw-away PKI: CA, the signer's server certificate, notary-server's client certificate. */
async function makeTls(dir: string): Promise<Record<'ca' | 'signerCert' | 'signerKey' | 'clientCert' | 'clientKey', string>> {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  // Async: the token server of test/fetch/auth.test.ts lives in this process and must keep answering.
  const ossl = (...a: string[]) => run('openssl', a);
  await ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key'));
  await ossl('req', '-x509', '-new', '-key', f('ca.key'), '-sha256', '-days', '2', '-subj', '/CN=trustgate signer CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f('ca.crt'));
  for (const [name, cn, ext] of [
    ['signer', 'notary-signer', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', 'notary-server', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    await ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(`${name}.key`));
    await ossl('req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), `${ext}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n`);
    await ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '2', '-sha256', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  }
  return { ca: f('ca.crt'), signerCert: f('signer.crt'), signerKey: f('signer.key'), clientCert: f('client.crt'), clientKey: f('client.key') };
}

const tcpOpen = (port: number) =>
  new Promise<boolean>((res) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });

/**
 * Opens a TLS connection to the signer as a gRPC client would (ALPN h2, the HTTP/2 preface) with
 * or without notary-server's client certificate: `answered` when the signer sent data back,
 * otherwise the error code it ended the connection with.
 */
export function probeSigner(signer: NotarySigner, withClientCert: boolean): Promise<string> {
  const t = signer.trustService;
  return new Promise((res) => {
    const c = tlsConnect({
      host: '127.0.0.1',
      port: Number(t['port']),
      ca: readFileSync(t['tls_ca_file'] as string),
      ALPNProtocols: ['h2'],
      ...(withClientCert ? { cert: readFileSync(t['tls_client_cert'] as string), key: readFileSync(t['tls_client_key'] as string) } : {}),
    });
    c.setTimeout(5000, () => c.destroy(new Error('timeout')));
    c.once('secureConnect', () => c.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
    c.once('data', () => {
      res('answered');
      c.destroy();
    });
    c.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
    c.once('close', () => res('closed'));
  });
}

const ids = (log: string, re: RegExp) => [...log.matchAll(re)].map((m) => m[1] as string);

/** Starts notary-signer in `dir` on a free port; retries on a port race. */
export async function startNotarySigner(dir: string): Promise<NotarySigner> {
  const tls = await makeTls(join(dir, 'tls'));
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const cfg = join(dir, `signer-${port}.json`);
    writeFileSync(cfg, JSON.stringify({
      server: { grpc_addr: `127.0.0.1:${port}`, tls_cert_file: tls.signerCert, tls_key_file: tls.signerKey, client_ca_file: tls.ca },
      logging: { level: 'info' },
      storage: { backend: 'memory' },
    }));
    const child: ChildProcess = spawn('notary-signer', ['-config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4_000_000);
    });
    const until = Date.now() + 15_000;
    while (Date.now() < until && child.exitCode === null && !(await tcpOpen(port))) await new Promise((r) => setTimeout(r, 100));
    if (child.exitCode === null && Date.now() < until) {
      return {
        trustService: { type: 'remote', hostname: '127.0.0.1', port: String(port), tls_ca_file: tls.ca, tls_client_cert: tls.clientCert, tls_client_key: tls.clientKey, key_algorithm: 'ecdsa' },
        log: () => log,
        created: () => ids(log, /CreateKey: Created KeyID ([0-9a-f]{64})/g),
        signedWith: () => ids(log, /Sign: Signed .*? with KeyID ([0-9a-f]{64})/g),
        stop: () =>
          new Promise<void>((res) => {
            if (child.exitCode !== null) return res();
            child.once('exit', () => res());
            child.kill('SIGTERM');
          }),
      };
    }
    child.kill('SIGTERM');
    if (attempt === 2) throw new Error(`notary-signer did not come up: ${log}`);
  }
  throw new Error('unreachable');
}
