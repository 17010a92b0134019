// TcpView: deconstruct golden bytes, construct over a poison fill, options (good and malformed),
// truncation, impossible lengths, segEnd, incremental setters.
import t from 'tap';
import { buildTcpPacket, encodeTcpOptions, writeTcpPacket } from '../../src/packet/build.js';
import { pseudoHeaderSum } from '../../src/packet/checksum.js';
import { Reason } from '../../src/packet/errors.js';
import { Ipv4View } from '../../src/packet/ipv4.js';
import { Ipv6View } from '../../src/packet/ipv6.js';
import { segEnd, TcpFlag, TcpOptions, TcpView } from '../../src/packet/tcp.js';
import { hex, TCP4_DATA, TCP4_SYN, TCP6_ACK } from './golden.js';

/** smoltcp's src/wire/tcp.rs PACKET_BYTES, checksummed for 192.168.1.1 -> 192.168.1.2: FIN|RST|ACK|URG, window scale 12. */
const SMOLTCP_TCP = hex(
  'bf00 0050 0123 4567 89ab cdef 6035 0123 01b6 0201',
  '0303 0c01', // window scale 12, NOP
  'aa00 00ff', // payload
);
const SMOLTCP_ADDRS = { pseudoHeaderSum: (p: number, n: number) => pseudoHeaderSum(hex('c0a8 0101 c0a8 0102'), 0, 8, p, n) };

const tcpOf = (pkt: Buffer, ipHeader: number, segment: number): TcpView => new TcpView().wrap(pkt, ipHeader, segment);

t.test('deconstruct a SYN with options', async (t) => {
  const ip = new Ipv4View().wrap(TCP4_SYN);
  t.equal(ip.check(), 0);
  const tcp = tcpOf(TCP4_SYN, 20, 40);
  t.equal(tcp.check(), 0);
  t.equal(tcp.srcPort(), 40000);
  t.equal(tcp.dstPort(), 443);
  t.equal(tcp.seqNumber(), 0xfffff000);
  t.equal(tcp.ackNumber(), 0);
  t.equal(tcp.headerLength(), 40);
  t.equal(tcp.flags(), TcpFlag.SYN);
  t.equal(tcp.window(), 64240);
  t.equal(tcp.checksum(), 0xf099);
  t.equal(tcp.urgentPointer(), 0);
  t.equal(tcp.options().length, 20);
  t.equal(tcp.payloadLength(), 0);
  t.equal(tcp.payloadOffset(), 60);
  t.ok(tcp.verifyChecksum(ip));
  t.equal(segEnd(tcp), 0xfffff001, 'the SYN takes one sequence number');
  const o = new TcpOptions();
  t.equal(tcp.parseOptions(o), 0);
  t.equal(o.mss, 1460);
  t.equal(o.sackPermitted, true);
  t.equal(o.timestamps, true);
  t.equal(o.tsVal, 123456);
  t.equal(o.tsEcr, 0);
  t.equal(o.windowScale, 7);
  t.equal(o.sackCount, 0);
});

t.test('deconstruct data with timestamps (IPv4 options, link padding)', async (t) => {
  const ip = new Ipv4View().wrap(TCP4_DATA);
  t.equal(ip.check(), 0);
  const tcp = tcpOf(TCP4_DATA, ip.upperOffset(), ip.end - ip.upperOffset());
  t.equal(tcp.check(), 0);
  t.equal(tcp.flags(), TcpFlag.ACK | TcpFlag.PSH);
  t.equal(tcp.seqNumber(), 0x7ffffff0);
  t.equal(tcp.ackNumber(), 0x10);
  t.equal(tcp.window(), 512);
  t.equal(tcp.payload().toString(), 'hello');
  t.ok(tcp.verifyChecksum(ip));
  t.equal(segEnd(tcp), 0x7ffffff5);
  const o = new TcpOptions();
  t.equal(tcp.parseOptions(o), 0);
  t.same([o.mss, o.windowScale, o.sackPermitted, o.timestamps, o.tsVal, o.tsEcr], [-1, -1, false, true, 123457, 123456]);
});

t.test('deconstruct an IPv6 ACK with a SACK block', async (t) => {
  const ip = new Ipv6View().wrap(TCP6_ACK);
  t.equal(ip.check(), 0);
  const tcp = tcpOf(TCP6_ACK, ip.upperOffset(), ip.end - ip.upperOffset());
  t.equal(tcp.check(), 0);
  t.equal(tcp.flags(), TcpFlag.ACK);
  t.equal(tcp.checksum(), 0x30b5);
  t.ok(tcp.verifyChecksum(ip));
  t.same(tcp.payload(), hex('dead beef'));
  const o = new TcpOptions();
  t.equal(tcp.parseOptions(o), 0);
  t.equal(o.sackCount, 1);
  t.same([o.sackBlocks[0], o.sackBlocks[1]], [0x1000, 0x2000]);
});

t.test('deconstruct smoltcp\'s segment: flags, FIN in segEnd, checksum', async (t) => {
  const tcp = new TcpView().wrap(SMOLTCP_TCP);
  t.equal(tcp.check(), 0);
  t.equal(tcp.srcPort(), 48896);
  t.equal(tcp.dstPort(), 80);
  t.equal(tcp.seqNumber(), 0x01234567);
  t.equal(tcp.ackNumber(), 0x89abcdef);
  t.equal(tcp.headerLength(), 24);
  t.equal(tcp.flags(), TcpFlag.FIN | TcpFlag.RST | TcpFlag.ACK | TcpFlag.URG);
  t.equal(tcp.window(), 0x0123);
  t.equal(tcp.urgentPointer(), 0x0201);
  t.same(tcp.payload(), hex('aa00 00ff'));
  t.ok(tcp.verifyChecksum(SMOLTCP_ADDRS));
  t.equal(segEnd(tcp), 0x01234567 + 4 + 1);
  const o = new TcpOptions();
  t.equal(tcp.parseOptions(o), 0);
  t.equal(o.windowScale, 12);
});

t.test('construct over a 0xa5 fill gives the golden bytes', async (t) => {
  const buf = Buffer.alloc(70, 0xa5);
  writeTcpPacket(buf, 3, { version: 4, src: '192.0.2.1', dst: '198.51.100.2', ident: 0x1c46 }, {
    srcPort: 40000, dstPort: 443, seq: 0xfffff000, flags: TcpFlag.SYN, window: 64240,
    options: encodeTcpOptions({ mss: 1460, sackPermitted: true, timestamps: [123456, 0], windowScale: 7 }),
  });
  t.same(buf.subarray(3, 63), TCP4_SYN);
  t.same(buf.subarray(0, 3), hex('a5a5a5'));
  t.same(buf.subarray(63), Buffer.alloc(7, 0xa5));
});

t.test('segEnd counts SYN and FIN and wraps', async (t) => {
  const seg = (seq: number, flags: number, payload: number): TcpView =>
    new TcpView().wrap(buildTcpPacket({ version: 4, src: '10.0.0.1', dst: '10.0.0.2' },
      { srcPort: 1, dstPort: 2, seq, flags, payload: Buffer.alloc(payload) }), 20);
  t.equal(segEnd(seg(100, TcpFlag.ACK, 0)), 100);
  t.equal(segEnd(seg(100, TcpFlag.ACK, 10)), 110);
  t.equal(segEnd(seg(100, TcpFlag.SYN | TcpFlag.ACK, 0)), 101);
  t.equal(segEnd(seg(100, TcpFlag.FIN | TcpFlag.ACK, 10)), 111, 'data and FIN');
  t.equal(segEnd(seg(100, TcpFlag.RST, 0)), 100);
  t.equal(segEnd(seg(0xfffffffe, TcpFlag.FIN | TcpFlag.ACK, 1)), 0);
  t.equal(segEnd(seg(0xfffffff0, TcpFlag.ACK, 100)), 0x54);
});

/** A 20-byte header whose data offset covers `options` (already whole words). */
function withOptions(options: string): TcpView {
  const opts = hex(options);
  const b = Buffer.concat([hex('0001 0002 0000 0001 0000 0000 0010 ffff 0000 0000'), opts]);
  b[12] = ((20 + opts.length) / 4) << 4;
  return new TcpView().wrap(b);
}

t.test('option details: clamped window scale, unknown kinds, EOL, NOP', async (t) => {
  const o = new TcpOptions();
  const parse = (opts: string): number => {
    const tcp = withOptions(opts);
    t.equal(tcp.check(), 0);
    return tcp.parseOptions(o);
  };
  t.equal(parse('0303 0f00'), 0);
  t.equal(o.windowScale, 14, 'a shift of 15 is used as 14 (RFC 7323)');
  t.equal(parse('0303 ff00'), 0);
  t.equal(o.windowScale, 14);
  t.equal(parse('0303 0e00'), 0);
  t.equal(o.windowScale, 14);
  t.equal(parse('fe04 0102 0204 0218'), 0, 'an unknown kind is passed over by its length');
  t.equal(o.mss, 536);
  t.equal(parse('0000 0204 ffff ffff'), 0, 'nothing after EOL is read');
  t.equal(o.mss, -1);
  t.equal(parse('0101 0101'), 0);
  t.equal(parse('050a 0000 0001 0000 0002 0101'), 0);
  t.equal(o.sackCount, 1);
  t.equal(parse('0101 0522 0000 0001 0000 0002 0000 0003 0000 0004 0000 0005 0000 0006 0000 0007 0000 0008'), 0);
  t.equal(o.sackCount, 4);
  t.same(Array.from(o.sackBlocks), [1, 2, 3, 4, 5, 6, 7, 8]);
  t.equal(parse(''), 0);
  t.same([o.mss, o.windowScale, o.sackPermitted, o.sackCount, o.timestamps], [-1, -1, false, 0, false], 'reset between segments');
});

t.test('malformed options are all BAD_OPTION', async (t) => {
  const bad: Array<[string, string]> = [
    ['0101 0102', 'a kind with no length byte at the end'],
    ['0200 0000', 'zero length'],
    ['0201 0000', 'length 1'],
    ['0203 0500', 'MSS of length 3'],
    ['0205 05b4 0000 0000', 'MSS of length 5'],
    ['0302 0000', 'window scale of length 2'],
    ['0304 0700', 'window scale of length 4'],
    ['0403 0000', 'SACK permitted of length 3'],
    ['0502 0000', 'SACK with no block'],
    ['0506 0000 0001 0000', 'SACK with part of a block'],
    ['050b 0000 0001 0000 0002 0000', 'SACK length not 2 + 8n'],
    ['0808 0000 0001 0000 0000', 'timestamps of length 8'],
    ['080a 0000', 'timestamps running past the header'],
    ['fe00 0000', 'unknown kind, zero length'],
    ['fe09 0000', 'unknown kind running past the header'],
    ['0101 0204', 'MSS running past the header'],
    ['0101 fe28', 'overlong after NOPs'],
  ];
  const o = new TcpOptions();
  for (const [opts, what] of bad) {
    const tcp = withOptions(opts);
    t.equal(tcp.check(), 0, `${what}: the header itself checks`);
    t.equal(tcp.parseOptions(o), Reason.BAD_OPTION, what);
  }
});

t.test('truncated and impossible lengths', async (t) => {
  const tcp = new TcpView();
  t.equal(tcp.wrap(TCP4_SYN, 20, 39).check(), Reason.TRUNCATED, 'golden minus one byte: options cut');
  t.equal(tcp.wrap(TCP4_SYN, 20, 19).check(), Reason.TRUNCATED, 'fixed header cut');
  t.equal(tcp.wrap(TCP4_SYN, 20, 41).check(), Reason.TRUNCATED, 'len beyond the buffer');
  const b = Buffer.from(TCP4_SYN);
  b[32] = 0x40;
  t.equal(tcp.wrap(b, 20, 40).check(), Reason.BAD_HEADER_LENGTH, 'data offset 4');
  b[32] = 0x00;
  t.equal(tcp.wrap(b, 20, 40).check(), Reason.BAD_HEADER_LENGTH, 'data offset 0');
  b[32] = 0xf0;
  t.equal(tcp.wrap(b, 20, 40).check(), Reason.TRUNCATED, 'data offset 15 in a 40-byte segment');
});

t.test('setters keep the checksum right without re-summing (incremental vs full)', async (t) => {
  let s = 5;
  const next = (): number => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>>= 0);
  };
  const tcp = new TcpView();
  let wrong = 0;
  for (let n = 0; n < 4000; n++) {
    const v6 = n % 2 === 1;
    const pkt = buildTcpPacket(v6 ? { version: 6, src: '2001:db8::1', dst: '2001:db8::2' } : { version: 4, src: '10.1.2.3', dst: '10.3.2.1' }, {
      srcPort: next() & 0xffff, dstPort: next() & 0xffff, seq: next(), ack: next(), flags: TcpFlag.ACK,
      window: next() & 0xffff, payload: Buffer.alloc(next() % 64, next() & 0xff),
    });
    const ip = v6 ? new Ipv6View().wrap(pkt) : new Ipv4View().wrap(pkt);
    ip.check();
    tcp.wrap(pkt, ip.upperOffset(), ip.end - ip.upperOffset());
    const edge = [0, 0xffffffff, 0xffff0000, 0x0000ffff, next()][n % 5];
    if (n % 3 === 0) tcp.setSeqNumber(edge);
    else if (n % 3 === 1) tcp.setAckNumber(edge);
    else tcp.setWindow(edge & 0xffff);
    const incremental = tcp.checksum();
    tcp.fillChecksum(ip);
    if (incremental !== tcp.checksum() || !tcp.verifyChecksum(ip)) wrong++;
  }
  t.equal(wrong, 0);
  const b = Buffer.from(TCP4_DATA);
  const ip = new Ipv4View().wrap(b);
  ip.check();
  tcp.wrap(b, 24, 37);
  tcp.setSeqNumber(0x80000000);
  tcp.setAckNumber(0xdeadbeef);
  tcp.setWindow(0);
  t.same([tcp.seqNumber(), tcp.ackNumber(), tcp.window()], [0x80000000, 0xdeadbeef, 0]);
  t.ok(tcp.verifyChecksum(ip));
  t.equal(tcp.payload().toString(), 'hello', 'payload untouched');
});
