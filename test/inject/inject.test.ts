// Raw injection from the router (RawSocket and Injector): spoofed IPv4 and IPv6 TCP segments
// reach the server byte for byte, carry SO_MARK and SO_PRIORITY through the OUTPUT hook, send
// failures come back as errno codes, and bytes that are not one whole packet throw.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Lab } from '../lab/lab.js';
import {
  buildTcpPacket, IPV4_HEADER_LEN, IPV6_HEADER_LEN, Ipv4Field, Ipv4View, TcpField, TcpFlag, TcpView, type IpSpec,
} from '../../src/packet/index.js';
import { pcapIpPackets } from './pcap.js';
import type { Plan, Report, Step } from './send-packets.js';

const SCRIPT = fileURLToPath(new URL('./send-packets.ts', import.meta.url));
const MARK = 0x1d6;
const PRIORITY = 0x10007;   // tc handle 1:7, unlike anything the kernel sends by itself
const PORT = 9;

const lab = await Lab.create({ tag: 'inject', id: 16 });
t.teardown(() => lab.destroy());
const dir = await mkdtemp(join(tmpdir(), 'ti-inject-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

// Counts what leaves the router through OUTPUT, by family, and whether conntrack tracked it.
await lab.run('router', 'nft', ['-f', '-'], {
  input: `table inet ti-inject {
  chain output {
    type filter hook output priority filter; policy accept;
    meta nfproto ipv4 meta mark ${MARK} counter comment "mark4"
    meta nfproto ipv6 meta mark ${MARK} counter comment "mark6"
    meta nfproto ipv4 meta priority 1:7 counter comment "priority4"
    meta nfproto ipv6 meta priority 1:7 counter comment "priority6"
    meta mark ${MARK} ct state new counter comment "tracked"
  }
}
`,
});

/** Runs send-packets in the router, under the <prefix> command if any. */
async function inject(steps: Step[], prefix: string[] = []): Promise<Report> {
  const plan: Plan = { mark: MARK, priority: PRIORITY, steps };
  const [cmd, ...args] = [...prefix, process.execPath, ...process.execArgv, SCRIPT, JSON.stringify(plan)];
  const r = await lab.exec('router', cmd, args);
  if (r.code !== 0) throw new Error(`send-packets exited with ${r.code}:\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Report;
}

function send(packet: Buffer, via: Step['via'] = 'injector'): Step {
  return { op: 'send', via, hex: packet.toString('hex') };
}

function segment(ip: IpSpec, srcPort: number, payload = `to port ${PORT} from ${srcPort}`): Buffer {
  return buildTcpPacket(ip, {
    srcPort, dstPort: PORT, seq: 1000, ack: 2000, flags: TcpFlag.ACK | TcpFlag.PSH, payload: Buffer.from(payload),
  });
}

const v4 = (src: string, dst = lab.server.v4): IpSpec => ({ version: 4, src, dst, ident: 0x1234 });
const v6 = (src: string, dst = lab.server.v6): IpSpec => ({ version: 6, src, dst, flowLabel: 0xbeef });

/** Starts tcpdump in the server; the function returned waits for <n> packets (5 s at most) and reads them. */
async function capture(n: number): Promise<() => Promise<Buffer[]>> {
  const file = join(dir, `capture-${n}.pcap`);
  const ifname = lab.links[lab.links.length - 1].right.ifname;
  const tcpdump = lab.spawn('server', 'tcpdump',
    ['-Z', 'root', '-U', '-n', '-i', ifname, '-Q', 'in', '-c', String(n), '-w', file, `tcp dst port ${PORT}`]);
  await tcpdump.waitForOutput(/listening on/);
  return async () => {
    const timer = setTimeout(() => tcpdump.kill(), 5000);
    await tcpdump.exited;
    clearTimeout(timer);
    return pcapIpPackets(await readFile(file));
  };
}

async function tcpMib(): Promise<Record<string, number>> {
  const [names, values] = (await lab.run('server', 'cat', ['/proc/net/snmp']))
    .split('\n').filter((l) => l.startsWith('Tcp:')).map((l) => l.split(/\s+/).slice(1));
  return Object.fromEntries(names.map((name, i) => [name, Number(values[i])]));
}

async function nftCounters(): Promise<Record<string, number>> {
  const out = JSON.parse(await lab.run('router', 'nft', ['-j', 'list', 'table', 'inet', 'ti-inject'])) as {
    nftables: Array<{ rule?: { comment?: string; expr: Array<{ counter?: { packets: number } }> } }>;
  };
  const counters: Record<string, number> = {};
  for (const { rule } of out.nftables) {
    const counter = rule?.expr.find((e) => e.counter)?.counter;
    if (rule?.comment && counter) counters[rule.comment] = counter.packets;
  }
  return counters;
}

const srcPort = (p: Buffer): number =>
  p.readUInt16BE((p[0] >> 4 === 4 ? (p[0] & 0x0f) * 4 : IPV6_HEADER_LEN) + TcpField.SRC_PORT);

t.test('spoofed segments reach the server byte for byte; the counters see mark and priority', async (t) => {
  const exact4 = segment(v4(lab.client.v4), 40001);
  const exact6 = segment(v6(lab.client.v6), 40002);
  // The TCP checksum covers the router's address: the kernel is to write it over the zeros.
  const filled4 = segment({ version: 4, src: lab.routerServerSide.v4, dst: lab.server.v4, dontFragment: false }, 40003);
  for (const field of [Ipv4Field.TOTAL_LENGTH, Ipv4Field.IDENT, Ipv4Field.CHECKSUM]) filled4.writeUInt16BE(0, field);
  filled4.fill(0, Ipv4Field.SRC, Ipv4Field.SRC + 4);
  const badSum4 = segment(v4(lab.client.v4), 40004);
  const sumAt = IPV4_HEADER_LEN + TcpField.CHECKSUM;
  badSum4.writeUInt16BE(badSum4.readUInt16BE(sumAt) ^ 0x5555, sumAt);
  const inside6 = segment(v6(lab.client.v6), 40005);
  const padded = Buffer.concat([Buffer.from('0123456'), inside6, Buffer.from('89abc')]);
  const atomic4 = segment({ version: 4, src: lab.client.v4, dst: lab.server.v4 }, 40006);

  const packets = await capture(6);
  const before = await tcpMib();
  const report = await inject([
    send(exact4), send(exact6), send(filled4), send(badSum4),
    { op: 'send', via: 6, hex: padded.toString('hex'), offset: 7, length: inside6.length },
    send(atomic4),
  ]);
  t.same(report, { outcomes: Array(6).fill({ result: null }), sent: 5, failed: {} }, 'every send succeeded');

  const got = new Map((await packets()).map((p) => [srcPort(p), p]));
  t.same([...got.keys()].sort(), [40001, 40002, 40003, 40004, 40005, 40006], 'the server received all six');
  t.ok(got.get(40001)?.equals(exact4), 'IPv4 with the client as source: every byte as built');
  t.ok(got.get(40002)?.equals(exact6), 'IPv6 with the client as source: every byte as built');
  t.ok(got.get(40004)?.equals(badSum4), 'a wrong TCP checksum is sent as it is');
  t.ok(got.get(40005)?.equals(inside6), 'offset and length pick the packet out of a larger buffer');
  t.ok(got.get(40006)?.equals(atomic4), 'with DF set, a zero identification stays zero (RFC 6864)');

  const filled = got.get(40003) ?? Buffer.alloc(0);
  const ip = new Ipv4View().wrap(filled);
  t.equal(ip.check(), 0, 'zeroed IPv4 fields: the header arrived valid');
  t.equal(ip.srcText(), lab.routerServerSide.v4, 'the kernel filled in the source address');
  t.not(ip.ident(), 0, 'and, DF being clear, an identification');
  t.equal(ip.totalLength(), filled4.length, 'and the total length');
  t.ok(ip.verifyChecksum(), 'and the header checksum');
  t.ok(filled.subarray(IPV4_HEADER_LEN).equals(filled4.subarray(IPV4_HEADER_LEN)), 'the TCP segment is untouched');
  const tcp = new TcpView().wrap(filled, IPV4_HEADER_LEN, filled.length - IPV4_HEADER_LEN);
  t.ok(tcp.verifyChecksum(ip), 'and its checksum fits the filled source');

  const after = await tcpMib();
  t.equal(after.InCsumErrors - before.InCsumErrors, 1, "the server's TCP rejected only the segment with the wrong checksum");
  t.equal(after.OutRsts - before.OutRsts, 5, 'and answered each of the other five with a RST (no socket on the port)');

  t.same(await nftCounters(), { mark4: 4, mark6: 2, priority4: 4, priority6: 2, tracked: 6 },
    'each packet left through OUTPUT with SO_MARK and SO_PRIORITY, and conntrack tracked it');
});

t.test('send failures are returned and counted, not thrown', async (t) => {
  const big = 'x'.repeat(1600);
  // TEST-NET-3 and the documentation prefix: the router has no route to either.
  const report = await inject([
    send(segment(v4(lab.client.v4, '203.0.113.7'), 40011)),
    send(segment(v6(lab.client.v6, '2001:db8::7'), 40012)),
    send(segment(v4(lab.client.v4), 40013, big)),
    send(segment(v6(lab.client.v6), 40014, big)),
    send(segment(v4(lab.client.v4, '203.0.113.7'), 40015), 4),
  ]);
  t.same(report.outcomes, [
    { result: 'ENETUNREACH' }, { result: 'ENETUNREACH' }, { result: 'EMSGSIZE' }, { result: 'EMSGSIZE' },
    { result: 'ENETUNREACH' },
  ], 'no route: ENETUNREACH; larger than the MTU of 1500: EMSGSIZE');
  t.same({ sent: report.sent, failed: report.failed }, { sent: 0, failed: { ENETUNREACH: 2, EMSGSIZE: 2 } },
    'the injector counted them by errno');
});

t.test('bytes that are not one whole packet of the socket version throw', async (t) => {
  const p4 = segment(v4(lab.client.v4), 40021);
  const p6 = segment(v6(lab.client.v6), 40022);
  const report = await inject([
    send(p4.subarray(0, 30)),
    send(p4.subarray(0, 19)),
    send(p6.subarray(0, p6.length - 1)),
    send(p6.subarray(0, 39), 6),
    send(Buffer.alloc(0)),
    send(Buffer.from([0x55, ...p4.subarray(1)])),
    send(p6, 4),
    send(p4, 6),
    { op: 'send', via: 4, hex: p4.toString('hex'), offset: 1, length: p4.length },
    { op: 'close', via: 4 },
    { op: 'close', via: 4 },
    send(p4, 4),
    { op: 'close', via: 'injector' },
    { op: 'close', via: 'injector' },
    send(p4),
  ]);
  t.match(report.outcomes, [
    { error: { message: `RawSocket.send: IPv4 total length says ${p4.length} bytes, the packet has 30` } },
    { error: { message: 'RawSocket.send: 19 bytes cannot hold an IPv4 header (20)' } },
    { error: { message: `RawSocket.send: IPv6 payload length says ${p6.length} bytes in all, the packet has ${p6.length - 1}` } },
    { error: { message: 'RawSocket.send: 39 bytes cannot hold an IPv6 header (40)' } },
    { error: { message: 'Injector.send: not an IPv4 or IPv6 packet (empty)' } },
    { error: { message: 'Injector.send: not an IPv4 or IPv6 packet (version 5)' } },
    { error: { message: 'RawSocket.send: IPv6 packet on an IPv4 socket' } },
    { error: { message: 'RawSocket.send: IPv4 packet on an IPv6 socket' } },
    { error: { message: 'RawSocket.send: length out of the buffer' } },
    { result: null },
    { result: null },
    { error: { message: 'RawSocket.send: the socket is closed' } },
    { result: null },
    { result: null },
    { error: { message: 'Injector.send: the injector is closed' } },
  ], 'each is refused with an Error saying why; close() is idempotent');
  t.same({ sent: report.sent, failed: report.failed }, { sent: 0, failed: {} }, 'nothing was sent or counted');
});

t.test('without CAP_NET_RAW the socket cannot be opened: EPERM', async (t) => {
  const p4 = segment(v4(lab.client.v4), 40031);
  const p6 = segment(v6(lab.client.v6), 40032);
  const report = await inject([send(p4, 4), send(p6, 6), send(p4)],
    ['setpriv', '--inh-caps=-net_raw', '--bounding-set=-net_raw']);
  t.match(report.outcomes, [
    { error: { code: 'EPERM', message: 'socket(AF_INET, SOCK_RAW, IPPROTO_RAW) EPERM: operation not permitted' } },
    { error: { code: 'EPERM', message: 'socket(AF_INET6, SOCK_RAW, IPPROTO_RAW) EPERM: operation not permitted' } },
    { error: { code: 'EPERM' } },
  ], 'the constructor throws, and so does the injector opening its socket');
});
