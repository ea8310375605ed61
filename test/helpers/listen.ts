/**
 * An in-test HTTP(S) server's lifecycle on 127.0.0.1: listen on an ephemeral port, and close it
 * without waiting for idle keep-alive connections to time out.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** Listens on an ephemeral port of 127.0.0.1; resolves to the port. */
export async function listenLocal(server: HttpServer | HttpsServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** Drops every open connection, then closes the server. */
export async function closeServer(server: HttpServer | HttpsServer): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}
