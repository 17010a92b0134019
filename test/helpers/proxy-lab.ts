// A lab with tcp-intercept running in the router behind TPROXY, and the tcp-peer programs on
// either side: what every proxy test starts from.
import type { Test } from 'tap';
import { Lab, TCP_INTERCEPT_BIN, tcpPeerCommand, type LabProcess } from '../lab/lab.js';
import { encodeHeader, FLAG_WAIT_EOF } from '../lab/stream.js';

export { TCP_INTERCEPT_BIN };

/** Source text, for a script run with nodeScript, of a tcp-peer header that has the server send
 *  <bytesBack> bytes only after the client's FIN (so the client decides how long it lasts). */
export function waitEofHeaderSource(bytesBack = 0): string {
  const h = encodeHeader({ flags: FLAG_WAIT_EOF, bytesBack, seedBack: 0, resetAfter: 0 });
  return `Buffer.from('${h.toString('hex')}', 'hex')`;
}
export const PROXY_PORT = 5000;

export interface PeerResult {
  i: number; ok: boolean; error: string | null;
  sent: number; received: number; localPort: number;
  sentSha256: string; receivedSha256: string;
}
export interface XferSummary {
  connections: number; ok: number; failed: number;
  bytesSent: number; bytesReceived: number; elapsedMs: number;
  errors: Record<string, number>;
  results?: PeerResult[];
}
export interface ServedConnection {
  remote: string; remotePort: number; local: string; localPort: number;
  received: number; sha256: string; sent: number; error: string | null;
}

/** A probe's outcome; <proxied> is proven either way, never guessed from a silence. */
export interface Probe {
  ok: boolean;
  proxied: boolean;
  /** the client address the server saw */
  remote: string;
  error: string | null;
}

export class ProxyLab {
  proxy: LabProcess | null = null;

  constructor(readonly lab: Lab) {}

  /** Starts tcp-intercept in the router with <args> and waits until it listens. */
  async startProxy(args: string[] = []): Promise<LabProcess> {
    if (this.proxy) await this.stopProxy();
    const proxy = this.lab.spawn('router', TCP_INTERCEPT_BIN, ['--log-format', 'json', ...args]);
    this.proxy = proxy;
    await Promise.race([
      proxy.waitForOutput(/"listening on /),
      proxy.exited.then(() => {
        throw new Error(`tcp-intercept exited at startup:\n${proxy.output()}`);
      }),
    ]);
    return proxy;
  }

  /** SIGTERM and wait; returns the exit code. */
  async stopProxy(): Promise<number | null> {
    const proxy = this.proxy;
    if (!proxy) return null;
    this.proxy = null;
    proxy.kill('SIGTERM');
    return (await proxy.exited).code;
  }

  /** The proxy's JSON log lines so far. */
  logs(proxy = this.proxy): Array<Record<string, unknown>> {
    return (proxy?.stdout() ?? '')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  closeLogs(): Array<Record<string, unknown>> {
    return this.logs().filter((l) => String(l.message).startsWith('close '));
  }

  /** The first close line for a connection to <port> logged after the first <since> close lines. */
  async closeLine(port: number, since: number, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.closeLogs().slice(since).find((l) => String(l.message).includes(`:${port} `));
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`no close line for port ${port}:\n${this.proxy?.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until the proxy has logged <n> closed connections. */
  async waitForCloses(n: number, timeoutMs = 10_000): Promise<Array<Record<string, unknown>>> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeLogs().length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} close log lines, got:\n${this.proxy?.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.closeLogs();
  }

  /** Waits until the proxy has logged a line matching <re>. */
  async waitForLog(re: RegExp, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.logs().some((l) => re.test(String(l.message)))) {
      if (Date.now() > deadline) throw new Error(`no log line matching ${re}, got:\n${this.proxy?.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * One 4 KiB exchange each way with the tcp-peer <server>, and whether the proxy relayed it.
   * Both answers rest on an event: plain forwarding keeps the client's source port up to the
   * server, while the proxy's server leg takes a fresh one and the proxy logs the close.
   */
  async probe(server: LabProcess, host: string, port: number, options: string[] = []): Promise<Probe> {
    const seen = served(server).length;
    const s = await this.xfer(host, port, ['--bytes', '4k', '--back', '4k', '--timeout-ms', '10000', ...options], 20_000);
    const [client] = s.results ?? [];
    if (s.ok !== 1 || !client) return { ok: false, proxied: false, remote: '', error: client?.error ?? 'no result' };
    const [conn] = (await waitServed(server, seen + 1)).slice(seen);
    if (conn.remotePort === client.localPort) return { ok: true, proxied: false, remote: conn.remote, error: null };
    await this.waitForLog(new RegExp(`^close \\S+:${client.localPort} -> `));
    return { ok: true, proxied: true, remote: conn.remote, error: null };
  }

  /** Waits until the router holds at least <n> established TCP sockets (a relayed connection is 2). */
  async waitEstablished(n = 2, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = await this.lab.run('router', 'ss', ['-Htn', 'state', 'established']);
      if (out.split('\n').filter((l) => l.trim()).length >= n) return;
      if (Date.now() > deadline) throw new Error(`fewer than ${n} established sockets in the router after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A tcp-peer server in the server namespace. */
  async serve(port: number): Promise<LabProcess> {
    const [cmd, args] = tcpPeerCommand(['serve', '--port', String(port)]);
    const server = this.lab.spawn('server', cmd, args);
    await server.waitForOutput(new RegExp(`^listening ${port}$`, 'm'));
    return server;
  }

  /** Runs a tcp-peer client in the client namespace; returns its summary whatever the outcome. */
  async xfer(host: string, port: number, options: string[], timeoutMs = 120_000): Promise<XferSummary> {
    const [cmd, args] = tcpPeerCommand(['xfer', '--host', host, '--port', String(port), ...options]);
    const r = await this.lab.exec('client', cmd, args, { timeoutMs });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as XferSummary;
    } catch {
      throw new Error(`tcp-peer xfer printed no summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
  }
}

/** What a tcp-peer server reported for each finished connection. */
export function served(server: LabProcess): ServedConnection[] {
  return server
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ServedConnection);
}

/** Waits until a tcp-peer server has reported <n> connections. */
export async function waitServed(server: LabProcess, n: number, timeoutMs = 10_000): Promise<ServedConnection[]> {
  const deadline = Date.now() + timeoutMs;
  while (served(server).length < n) {
    if (Date.now() > deadline) throw new Error(`server reported ${served(server).length} of ${n} connections`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return served(server);
}

/** A lab with TPROXY installed in the router, destroyed when <t> ends. */
export async function proxyLab(t: Test, tag: string, id: number): Promise<ProxyLab> {
  const lab = await Lab.create({ tag, id });
  t.teardown(() => lab.destroy());
  await lab.intercept({ port: PROXY_PORT });
  return new ProxyLab(lab);
}

/** Runs a short Node.js script in a lab namespace (for clients tcp-peer does not model). */
export function nodeScript(lab: Lab, host: string, source: string, timeoutMs = 30_000) {
  return lab.exec(host, process.execPath, ['--input-type=module', '-e', source], { timeoutMs });
}
