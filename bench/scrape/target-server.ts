// Child process: serves one generated exposition per loopback port, so its CPU is not counted against
// the scraper under test. Started by target-client.ts over IPC; exits when the parent goes away.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gzip } from 'node:zlib';
import { buildTemplate, renderBody } from './body.js';
import type {
  FromTargetServer,
  TargetServerOptions,
  TargetStats,
  ToTargetServer,
} from './target-protocol.js';

const options = JSON.parse(process.argv[2] ?? '{}') as TargetServerOptions;
const template = buildTemplate(options.series);
const stats: TargetStats = { requests: 0, gzip: 0, identity: 0, bytes: 0, errors: 0 };
const servers: Server[] = [];

function send(message: FromTargetServer): void {
  process.send?.(message);
}

function handler(index: number, scale: number): (req: IncomingMessage, res: ServerResponse) => void {
  let k = 0;
  return (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    k++;
    stats.requests++;
    const body = renderBody(template, k, scale);
    const headers = { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' };
    // Like promhttp and prom-client exporters: gzip when the scraper asks for it.
    if (options.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      gzip(body, (err, zipped) => {
        if (err) {
          stats.errors++;
          res.writeHead(500).end(`target ${index}: ${err.message}`);
          return;
        }
        stats.gzip++;
        stats.bytes += zipped.length;
        res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip' }).end(zipped);
      });
    } else {
      stats.identity++;
      stats.bytes += Buffer.byteLength(body);
      res.writeHead(200, headers).end(body);
    }
  };
}

function listen(index: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler(index, 0.5 + Math.random()));
    // Go exporters keep idle connections open; Node's default 5 s would force a reconnect per scrape.
    server.keepAliveTimeout = 120_000;
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      servers.push(server);
      if (typeof address === 'object' && address) resolve(address.port);
      else reject(new Error('no port'));
    });
  });
}

function shutdown(): void {
  for (const server of servers) server.closeAllConnections();
  process.exit(0);
}

process.on('message', (message: ToTargetServer) => {
  if (message.type === 'stats') send({ type: 'stats', stats: { ...stats } });
});
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', () => undefined); // the parent decides when to stop

const ports: number[] = [];
for (let i = 0; i < options.targets; i++) ports.push(await listen(i));
send({ type: 'ready', ports, bodyBytes: Buffer.byteLength(renderBody(template, 0, 1)) });
