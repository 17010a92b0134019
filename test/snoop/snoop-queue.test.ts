// `tcp-intercept snoop` on a real queue of 16 packets: bursts of odd TCP packets in both directions
// (a data offset below 5 or past the end, malformed options, IPv6 extension headers, SYN+FIN, RSTs
// and ACKs for flows nobody has) while a download it picked up mid-stream runs over a 100 Mbit/s
// last hop. Every packet the
// queue took got one verdict, none is left with the kernel, the stage threw on none, and the
// download is byte-exact.
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { buildTcpPacket, type IpSpec } from '../../src/packet/build.js';
import { TcpFlag } from '../../src/packet/tcp.js';
import { ProxyLab } from '../helpers/proxy-lab.js';
import type { Plan, Report, Step } from '../inject/send-packets.js';
import { Lab, TCP_INTERCEPT_BIN } from '../lab/lab.js';
import { streamSha256 } from '../lab/stream.js';

const SEND = fileURLToPath(new URL('../inject/send-packets.ts', import.meta.url));
const PORT = 7001;
const QUEUE = 23;
const METRICS = '127.0.0.1:9465';
const BYTES = 64 << 20;

const lab = await Lab.create({ tag: 'snoopq', id: 39 });
t.teardown(() => lab.destroy());
const peers = new ProxyLab(lab);
const server = await peers.serve(PORT);
t.teardown(async () => {
  server.kill();
  await server.exited;
});
const lossy = lab.links[0].right.ifname;

/** Odd TCP packets from <src> to <dst> (both 'client' or 'server' addresses), each kind once. */
function oddPackets(from: 'client' | 'server'): Buffer[] {
  const to = from === 'client' ? 'server' : 'client';
  const v4: IpSpec = { version: 4, src: lab[from].v4, dst: lab[to].v4 };
  const v6: IpSpec = { version: 6, src: lab[from].v6, dst: lab[to].v6 };
  const tcp = { srcPort: 40001, dstPort: 40002, seq: 0xfffffff0, ack: 7, flags: TcpFlag.ACK };
  const raw = { fixLengths: false };
  return [
    buildTcpPacket(v4, { ...tcp, headerLength: 16 }, raw),                                    // data offset below 5
    buildTcpPacket(v4, { ...tcp, headerLength: 60, payload: Buffer.alloc(8) }, raw),          // header past the end
    buildTcpPacket(v4, { ...tcp, options: Buffer.from([5, 3, 0, 0]) }),                       // SACK of length 3
    buildTcpPacket(v4, { ...tcp, options: Buffer.from([8, 0, 0, 0]) }),                       // option length 0
    buildTcpPacket(v4, { ...tcp, options: Buffer.from([5, 34, 0, 0]) }),                      // option past the header
    buildTcpPacket(v6, { ...tcp, payload: Buffer.alloc(100, 1) }),
    buildTcpPacket({ ...v6, extensions: [{ type: 0, body: Buffer.alloc(6) }, { type: 60, body: Buffer.alloc(14) }] }, { ...tcp, payload: Buffer.alloc(10) }),
    buildTcpPacket(v4, { ...tcp, flags: TcpFlag.SYN | TcpFlag.FIN, payload: Buffer.alloc(3) }),
    buildTcpPacket(v4, { ...tcp, flags: TcpFlag.RST }),
    buildTcpPacket(v4, { ...tcp, flags: TcpFlag.FIN }),
    buildTcpPacket(v4, { ...tcp, payload: Buffer.alloc(1400, 2) }),                           // data across 2^32
    buildTcpPacket(v4, { ...tcp, ack: 0xffffffff, options: Buffer.from([1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 0]) }),
    buildTcpPacket(v4, { ...tcp, payload: Buffer.alloc(20) }, { computeChecksums: false }),   // checksum 0
  ];
}

async function inject(host: 'client' | 'server', packets: Buffer[]): Promise<Report> {
  const steps: Step[] = packets.map((p) => ({ op: 'send', via: 'injector', hex: p.toString('hex') }));
  const plan: Plan = { mark: 0, priority: 0, steps };
  const r = await lab.exec(host, process.execPath, [...process.execArgv, SEND, JSON.stringify(plan)]);
  if (r.code !== 0) throw new Error(`send-packets exited with ${r.code}:\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Report;
}

function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

/** The kernel's count of packets waiting in our queue for a verdict. */
async function waiting(): Promise<number> {
  const table = await lab.run('router', 'cat', ['/proc/net/netfilter/nfnetlink_queue']);
  const row = table.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === `${QUEUE}`);
  return row ? Number(row[2]) : NaN;
}

t.test('odd packets in bursts on a queue of 16, beside a download picked up mid-stream: one verdict each, nothing lost', async (t) => {
  const seed = 7;
  // A 100 Mbit/s last hop: the download is still running when snoop starts.
  const link = await lab.emulate({ toward: 'client', args: ['--rate', '100'] });
  t.teardown(() => link.stop().then(() => undefined));
  const download = peers.xfer(lab.server.v4, PORT, ['--bytes', '0', '--back', `${BYTES}`, '--seed', `${seed}`, '--timeout-ms', '90000'], 120_000);
  const deadline = Date.now() + 20_000;
  while (!(await lab.run('server', 'ss', ['-Htn', 'sport', '=', `:${PORT}`])).trim()) {
    if (Date.now() > deadline) throw new Error('the download did not start within 20 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 200));
  const snoop = lab.spawn('router', TCP_INTERCEPT_BIN, ['snoop', '--snoop-interface', lossy, '--queue', `${QUEUE}`, '--queue-maxlen', '16', '--metrics', METRICS, '--log-level', 'debug']);
  let exit: { code: number | null } | null = null;
  try {
    await snoop.waitForOutput(/^tcp-intercept snoop: /m, 20_000);
    const burst = (from: 'client' | 'server'): Buffer[] => Array.from({ length: 20 }, () => oddPackets(from)).flat();
    for (let round = 0; round < 3; round++) {
      const sent = await Promise.all([inject('client', burst('client')), inject('server', burst('server'))]);
      t.same(sent.map((r) => r.failed), [{}, {}], `round ${round}: every odd packet left its host`);
    }
    const summary = await download;
    const [r] = summary.results ?? [];
    t.equal(summary.ok, 1, `the download completed (${r?.error ?? 'no error'})`);
    t.equal(r?.receivedSha256, streamSha256(seed + 1_000_000, BYTES), `${BYTES} bytes, byte-exact`);
    const text = await lab.run('router', 'curl', ['-sf', '--max-time', '5', `http://${METRICS}/metrics`]);
    const packets = metric(text, 'tcp_intercept_queue_packets_total');
    const verdicts = metric(text, 'tcp_intercept_queue_verdicts_total{verdict="accept"}') + metric(text, 'tcp_intercept_queue_verdicts_total{verdict="drop"}') +
      metric(text, 'tcp_intercept_queue_verdicts_total{verdict="replace"}');
    t.ok(packets > 1000, `the queue took the download and the bursts (${packets} packets)`);
    t.equal(verdicts, packets, 'one verdict per queued packet');
    t.equal(metric(text, 'tcp_intercept_stage_errors_total{stage="snoop"}'), 0, 'the stage threw on no packet');
    t.equal(metric(text, 'tcp_intercept_queue_held_packets'), 0, 'nothing held');
    t.equal(await waiting(), 0, 'the kernel waits for no verdict');
    t.ok(metric(text, 'tcp_intercept_snoop_flows') >= 0, 'snoop reports its flows');
    t.comment(`kernel drops at the full queue: ${metric(text, 'tcp_intercept_queue_kernel_drops_total{where="queue_full"}')}`);
  } finally {
    snoop.kill('SIGTERM');
    exit = await snoop.exited;
    await download.catch(() => undefined);
  }
  t.equal(exit?.code, 0, `snoop exited 0: ${snoop.stderr()}`);
  t.match(snoop.stdout(), /local retransmissions/, 'and printed its report');
  const ended = new RegExp(`snoop: flow .*:${PORT}\\b.* ended \\((\\w+)\\): (\\d+) segments cached`).exec(snoop.output());
  t.ok(ended && Number(ended[2]) > 1000, `it followed the download it found running: ${ended?.[0] ?? 'no line for it'}`);
});
