/** One notary-server, one GUN: downloads metadata files and maps HTTP answers to error codes. */
import { TrustError } from '../errors.js';
import type { TokenAuth } from './auth.js';
import { fileUrl } from './server.js';
import type { Transport } from './transport.js';

export class NotaryClient {
  private readonly transport: Transport;
  private readonly server: URL;
  private readonly gun: string;
  private readonly auth: TokenAuth;

  constructor(transport: Transport, server: URL, gun: string, auth: TokenAuth) {
    this.transport = transport;
    this.server = server;
    this.gun = gun;
    this.auth = auth;
  }

  /**
   * The bytes of `<name>.json`, at most `maxBytes` of them.
   * @throws {TrustError} `ERR_FETCH_NOT_FOUND`, `ERR_FETCH_AUTH`, `ERR_FETCH_SERVER` and the transport's codes
   */
  async getFile(name: string, maxBytes: number, role: string): Promise<Uint8Array> {
    const url = fileUrl(this.server, this.gun, name);
    const what = `${name}.json`;
    for (let attempt = 0; ; attempt++) {
      const header = this.auth.current();
      const a = await this.transport.get(url, { maxBytes, what, role, ...(header === undefined ? {} : { headers: { authorization: header } }) });
      if (a.status === 200) return a.body;
      const details = { role, path: what, check: 'download', actual: a.status };
      if (a.status === 401 && (await this.auth.answer(headerText(a.headers['www-authenticate']), attempt))) continue;
      if (a.status === 401 || a.status === 403) {
        throw new TrustError('ERR_FETCH_AUTH', `${this.server.origin} refused ${what} for ${this.gun} (HTTP ${a.status})`, details);
      }
      if (a.status === 404) {
        throw new TrustError('ERR_FETCH_NOT_FOUND', `${this.server.origin} has no ${what} for ${this.gun} (HTTP 404)`, details);
      }
      throw new TrustError('ERR_FETCH_SERVER', `${this.server.origin} answered HTTP ${a.status} for ${what} of ${this.gun}`, details);
    }
  }
}

const headerText = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);
