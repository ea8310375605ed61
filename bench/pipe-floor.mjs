// The floor for the gateway benchmark: the least a proxy in Node can do, a keep-alive node:http
// server that pipes every request to the upstream and the answer back, with no auth, routing
// or gating. `node bench/pipe-floor.mjs UPSTREAM_URL PORT`; prints "ready" when listening.
import http from 'node:http';

const [upstream, port] = process.argv.slice(2);
const u = new URL(upstream);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const server = http.createServer({ highWaterMark: 1024 * 1024 }, (req, res) => {
  const headers = { ...req.headers, host: u.host };
  delete headers.authorization;
  const up = http.request({ hostname: u.hostname, port: u.port, path: req.url, method: req.method, headers, agent }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => {
  agent.destroy();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
