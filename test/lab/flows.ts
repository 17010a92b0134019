// Flows through a lab for tests and benchmarks that watch them: a long-lived iperf3 bulk flow
// (whose sender's retransmissions tell whether something disturbed it) and a byte-exact tcp-peer
// transfer (sha256 of each direction compared end to end).
import type { Host, Lab, LabProcess } from './lab.js';
import { tcpPeerCommand } from './lab.js';
import { waitServed, type XferSummary } from '../helpers/proxy-lab.js';

export interface BulkFlowOptions {
  seconds: number;
  port: number;
  /** the server's address to connect to */
  dest: string;
  /** download: the server sends (iperf3 -R); upload: the client does */
  direction: 'download' | 'upload';
  /** the sender's congestion control (iperf3 -C), default cubic */
  cc?: string;
  /** where the iperf3 client runs, default the client */
  from?: Host;
}

export interface BulkResult {
  bitsPerSecond: number;
  bytes: number;
  /** retransmissions of the sending side (iperf3 -J end.streams[0].sender.retransmits) */
  retransmits: number;
}

export interface BulkFlow {
  /** the flow's figures once it ran its time; rejects if it failed or was stopped */
  done: Promise<BulkResult>;
  /** ends it early (iperf3 client and server, by pid) */
  stop(): Promise<void>;
}

interface IperfEnd {
  end: { sum_received: { bits_per_second: number; bytes: number }; streams: { sender: { retransmits?: number } }[] };
}

/** Starts an iperf3 flow and resolves once its data connection is established. */
export async function startBulkFlow(lab: Lab, o: BulkFlowOptions): Promise<BulkFlow> {
  const from = o.from ?? 'client';
  const server = lab.spawn('server', 'iperf3', ['-s', '-1', '-p', String(o.port)]);
  let client: LabProcess | undefined;
  const stop = async (): Promise<void> => {
    for (const p of [client, server].filter((x): x is LabProcess => x !== undefined)) {
      p.kill('SIGKILL');
      await p.exited;
    }
  };
  try {
    await lab.waitForListen('server', o.port);
    const args = ['-c', o.dest, '-p', String(o.port), '-t', String(o.seconds), '-C', o.cc ?? 'cubic', '-J', '--connect-timeout', '5000'];
    client = lab.spawn(from, 'iperf3', o.direction === 'download' ? [...args, '-R'] : args);
    const c = client;
    const done = c.exited.then(({ code, signal }) => {
      if (code !== 0) throw new Error(`iperf3 flow ended with ${signal ?? `exit ${code}`}:\n${c.output().slice(-2000)}`);
      const { end } = JSON.parse(c.stdout()) as IperfEnd;
      return { bitsPerSecond: end.sum_received.bits_per_second, bytes: end.sum_received.bytes, retransmits: end.streams[0]?.sender.retransmits ?? 0 };
    });
    done.catch(() => undefined);   // whoever awaits done hears of it; a stopped flow is not an error
    await waitEstablished(lab, from, o.port, 2);   // the control and the data connection
    return { done, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitEstablished(lab: Lab, host: Host, port: number, n: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await lab.run(host, 'ss', ['-Htn', 'state', 'established', 'dport', '=', `:${port}`]);
    if (out.split('\n').filter((l) => l.trim()).length >= n) return;
    if (Date.now() > deadline) throw new Error(`fewer than ${n} connections to port ${port} established after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A tcp-peer server on the server, for checkedTransfer. */
export async function startPeerServer(lab: Lab, port: number): Promise<LabProcess> {
  const [cmd, args] = tcpPeerCommand(['serve', '--port', String(port)]);
  const server = lab.spawn('server', cmd, args);
  await server.waitForOutput(new RegExp(`^listening ${port}$`, 'm'), 20_000);
  return server;
}

export interface CheckedTransfer {
  /** both directions arrived whole and unchanged */
  ok: boolean;
  /** what went wrong, empty when ok */
  problem: string;
  /** the client address the server saw */
  remote: string;
}

/** <bytes> each way between the client and <server> at <dest>, each direction's sha256 compared. */
export async function checkedTransfer(lab: Lab, server: LabProcess, o: { dest: string; port: number; bytes: string }): Promise<CheckedTransfer> {
  const seen = server.stdout().split('\n').filter((l) => l.startsWith('{')).length;
  const [cmd, args] = tcpPeerCommand(['xfer', '--host', o.dest, '--port', String(o.port), '--bytes', o.bytes, '--back', o.bytes, '--timeout-ms', '60000']);
  const r = await lab.exec('client', cmd, args, { timeoutMs: 90_000 });
  const summary = JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as Partial<XferSummary>;
  const client = summary.results?.[0];
  if (!client) return { ok: false, problem: `tcp-peer xfer printed no result (exit ${r.code}): ${r.stderr.trim()}`, remote: '' };
  const conn = (await waitServed(server, seen + 1))[seen];
  const problems = [
    client.ok ? '' : `client: ${client.error ?? 'the data back differs from what was sent'} (received ${client.received})`,
    conn.error ? `server: ${conn.error}` : '',
    conn.sha256 === client.sentSha256 ? '' : `server received ${conn.received} bytes with another sha256`,
  ].filter((p) => p !== '');
  return { ok: problems.length === 0, problem: problems.join('; '), remote: conn.remote };
}
