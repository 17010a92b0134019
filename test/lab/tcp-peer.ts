// Test peer for byte-exact transfers, half-close and reset checks.
//   serve --port P [--host ADDR]
//   xfer --host H --port P --bytes N --back M [--seed S] [--connections C]
//        [--wait-eof] [--client-waits] [--reset-after K] [--timeout-ms T] [--local-port P]
// Sizes accept a k/m/g suffix (powers of 1024). Byte counts exclude the header.
// A server that resets a connection on purpose reports error "RESET_SENT".
import { createHash } from 'node:crypto';
import net from 'node:net';
import { parseArgs } from 'node:util';
import {
  FLAG_RESET,
  FLAG_SEND_AFTER_EOF,
  FLAG_WAIT_EOF,
  HEADER_LEN,
  PrngStream,
  StreamVerifier,
  decodeHeader,
  encodeHeader,
  type PeerHeader,
} from './stream.js';

const SEED_BACK_OFFSET = 1_000_000;
const MAX_RESULTS = 50;

function parseSize(s: string, what: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(s);
  if (!m) throw new Error(`bad ${what}: ${s}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * mult;
  if (!Number.isSafeInteger(n)) throw new Error(`${what} too large: ${s}`);
  return n;
}

function plainAddress(a: string | undefined): string {
  return (a ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

function errorCode(e: Error): string {
  return (e as NodeJS.ErrnoException).code ?? e.message;
}

/** Writes n bytes of gen to the socket respecting backpressure, then ends the write side. */
function sendStream(sock: net.Socket, gen: PrngStream, n: number, onChunk: (b: Buffer) => void): void {
  let left = n;
  const pump = (): void => {
    while (left > 0 && !sock.destroyed) {
      const b = gen.next(left);
      left -= b.length;
      onChunk(b);
      if (!sock.write(b)) {
        sock.once('drain', pump);
        return;
      }
    }
    if (!sock.destroyed) sock.end();
  };
  pump();
}

function serveConnection(sock: net.Socket): void {
  const rec = {
    remote: plainAddress(sock.remoteAddress),
    remotePort: sock.remotePort ?? 0,
    local: plainAddress(sock.localAddress),
    localPort: sock.localPort ?? 0,
    received: 0,
    sha256: '',
    sent: 0,
    error: null as string | null,
  };
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  let header: PeerHeader | null = null;
  let replying = false;

  const reply = (): void => {
    if (replying || !header) return;
    replying = true;
    sendStream(sock, new PrngStream(header.seedBack), header.bytesBack, (b) => (rec.sent += b.length));
  };
  const payload = (d: Buffer): void => {
    if (header && header.flags & FLAG_RESET && rec.received + d.length >= header.resetAfter) {
      const keep = d.subarray(0, header.resetAfter - rec.received);
      hash.update(keep);
      rec.received += keep.length;
      rec.error = 'RESET_SENT';
      sock.resetAndDestroy();
      return;
    }
    hash.update(d);
    rec.received += d.length;
  };

  sock.on('data', (d: Buffer) => {
    if (header) {
      payload(d);
      return;
    }
    head = Buffer.concat([head, d]);
    if (head.length < HEADER_LEN) return;
    try {
      header = decodeHeader(head);
    } catch {
      rec.error = 'EBADHEADER';
      sock.destroy();
      return;
    }
    if (!(header.flags & FLAG_WAIT_EOF)) reply();
    payload(head.subarray(HEADER_LEN));
  });
  sock.on('end', () => {
    if (header) {
      reply();
      return;
    }
    rec.error = 'ESHORTHEADER';
    sock.end();
  });
  sock.on('error', (e) => (rec.error ??= errorCode(e)));
  sock.on('close', () => {
    rec.sha256 = hash.digest('hex');
    process.stdout.write(`${JSON.stringify(rec)}\n`);
  });
}

function serve(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string', default: '::' } },
    strict: true,
  });
  if (values.port === undefined) throw new Error('serve: --port is required');
  const server = net.createServer({ allowHalfOpen: true }, serveConnection);
  server.on('error', (e) => {
    process.stderr.write(`tcp-peer serve: ${e.message}\n`);
    process.exit(1);
  });
  server.listen({ port: Number(values.port), host: values.host }, () => {
    const addr = server.address() as net.AddressInfo;
    process.stdout.write(`listening ${addr.port}\n`);
  });
}

interface XferOptions {
  host: string;
  port: number;
  bytes: number;
  back: number;
  seed: number;
  flags: number;
  resetAfter: number;
  clientWaits: boolean;
  localPort: number | undefined;
}

interface XferResult {
  i: number;
  sentSha256: string;
  receivedSha256: string;
  received: number;
  sent: number;
  ok: boolean;
  error: string | null;
  localPort: number;
}

function xferOne(o: XferOptions, i: number, open: Set<net.Socket>): Promise<XferResult> {
  return new Promise((resolve) => {
    const sentHash = createHash('sha256');
    const recvHash = createHash('sha256');
    const seedBack = o.seed + SEED_BACK_OFFSET + i;
    const verifier = new StreamVerifier(seedBack);
    let sent = 0;
    let received = 0;
    let localPort = 0;
    let error: string | null = null;
    const sock = net.connect({ host: o.host, port: o.port, allowHalfOpen: true, localPort: o.localPort });
    open.add(sock);
    const sendPayload = (): void =>
      sendStream(sock, new PrngStream(o.seed + i), o.bytes, (b) => {
        sentHash.update(b);
        sent += b.length;
      });

    sock.on('connect', () => {
      localPort = sock.localPort ?? 0;
      sock.write(encodeHeader({ flags: o.flags, bytesBack: o.back, seedBack, resetAfter: o.resetAfter }));
      if (!o.clientWaits) sendPayload();
    });
    sock.on('data', (d: Buffer) => {
      recvHash.update(d);
      received += d.length;
      verifier.update(d);
    });
    sock.on('end', () => {
      if (o.clientWaits) sendPayload();
    });
    sock.on('error', (e) => (error ??= errorCode(e)));
    sock.on('close', () => {
      open.delete(sock);
      resolve({
        i,
        sentSha256: sentHash.digest('hex'),
        receivedSha256: recvHash.digest('hex'),
        received,
        sent,
        ok: error === null && sent === o.bytes && received === o.back && verifier.firstMismatch < 0,
        error,
        localPort,
      });
    });
  });
}

async function xfer(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      bytes: { type: 'string', default: '0' },
      back: { type: 'string', default: '0' },
      seed: { type: 'string', default: '1' },
      connections: { type: 'string', default: '1' },
      'wait-eof': { type: 'boolean', default: false },
      'client-waits': { type: 'boolean', default: false },
      'reset-after': { type: 'string' },
      'timeout-ms': { type: 'string', default: '300000' },
      'local-port': { type: 'string' },
    },
    strict: true,
  });
  if (values.host === undefined || values.port === undefined) throw new Error('xfer: --host and --port are required');
  if (values['wait-eof'] && values['client-waits']) throw new Error('xfer: --wait-eof with --client-waits would deadlock');
  const resetAfter = values['reset-after'] === undefined ? 0 : parseSize(values['reset-after'], 'reset-after');
  const o: XferOptions = {
    host: values.host,
    port: Number(values.port),
    bytes: parseSize(values.bytes, 'bytes'),
    back: parseSize(values.back, 'back'),
    seed: parseSize(values.seed, 'seed'),
    flags:
      (values['wait-eof'] ? FLAG_WAIT_EOF : 0) |
      (values['client-waits'] ? FLAG_SEND_AFTER_EOF : 0) |
      (values['reset-after'] === undefined ? 0 : FLAG_RESET),
    resetAfter,
    clientWaits: values['client-waits'],
    localPort: values['local-port'] === undefined ? undefined : Number(values['local-port']),
  };
  const count = parseSize(values.connections, 'connections');
  const open = new Set<net.Socket>();
  const timer = setTimeout(() => {
    const err = Object.assign(new Error('transfer timed out'), { code: 'ETIMEDOUT' });
    for (const s of open) s.destroy(err);
  }, Number(values['timeout-ms']));
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: count }, (_, i) => xferOne(o, i, open)));
  clearTimeout(timer);
  const errors: Record<string, number> = {};
  for (const r of results) if (r.error) errors[r.error] = (errors[r.error] ?? 0) + 1;
  const ok = results.filter((r) => r.ok).length;
  const summary = {
    connections: count,
    ok,
    failed: count - ok,
    bytesSent: results.reduce((a, r) => a + r.sent, 0),
    bytesReceived: results.reduce((a, r) => a + r.received, 0),
    elapsedMs: Date.now() - started,
    errors,
    ...(count <= MAX_RESULTS ? { results } : {}),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return ok === count ? 0 : 1;
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'serve') serve(rest);
  else if (mode === 'xfer') process.exitCode = await xfer(rest);
  else throw new Error('usage: tcp-peer serve --port P [--host ADDR] | xfer --host H --port P --bytes N --back M ...');
}

main().catch((e: unknown) => {
  process.stderr.write(`tcp-peer: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
