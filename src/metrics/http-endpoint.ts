// /metrics and /healthz over plain HTTP, on 127.0.0.1 unless told otherwise.
import { createServer, type Server } from 'node:http';
import { formatEndpoint, type Endpoint } from '../config/address.js';
import { StartupError } from '../errors.js';

export interface MetricsSource {
  contentType: string;
  render(): Promise<string>;
}

export async function serveMetrics(at: Endpoint, source: MetricsSource): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      source.render().then(
        (text) => res.writeHead(200, { 'content-type': source.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new StartupError(`--metrics: cannot serve on ${formatEndpoint(at.host, at.port)}: ${err.code ?? err.message}`, 'TI_ERR_METRICS_LISTEN')),
    );
    server.listen(at.port, at.host, resolve);
  });
  return server;
}
