// Ipv4View: deconstruct golden bytes, construct over a poison fill, truncation, impossible lengths,
// incremental setters.
import t from 'tap';
import { buildTcpPacket, writeTcpPacket, type Ipv4Spec, type TcpSpec } from '../../src/packet/build.js';
import { Reason } from '../../src/packet/errors.js';
import { Ipv4View } from '../../src/packet/ipv4.js';
import { TcpFlag } from '../../src/packet/tcp.js';
import { hex, TCP4_DATA, TCP4_SYN } from './golden.js';

/** smoltcp's src/wire/ipv4.rs PACKET_BYTES: DF and MF set, fragment offset 0x203 units, protocol 1, 10 bytes of payload. */
const SMOLTCP_IPV4 = hex(
  '4500 001e 0102 6203 1a01 d56e 1112 1314 2122 2324',
  'aa00 0000 0000 0000 00ff',
);

/** TCP4_DATA as a spec: IP options, ECN, payload. */
const DATA_IP: Ipv4Spec = {
  version: 4, src: '192.0.2.1', dst: '198.51.100.2', ecn: 2, ident: 0xbeef, ttl: 63, options: hex('0101 0100'),
};
const DATA_TCP: TcpSpec = {
  srcPort: 443, dstPort: 40000, seq: 0x7ffffff0, ack: 0x10, flags: TcpFlag.ACK | TcpFlag.PSH, window: 512,
  options: hex('0101 080a 0001 e241 0001 e240'), payload: Buffer.from('hello'),
};

t.test('deconstruct: header with options, ECN and link padding', async (t) => {
  const ip = new Ipv4View().wrap(TCP4_DATA);
  t.equal(ip.check(), 0);
  t.equal(ip.version(), 4);
  t.equal(ip.headerLength(), 24);
  t.equal(ip.dscp(), 0);
  t.equal(ip.ecn(), 2);
  t.equal(ip.totalLength(), 61);
  t.equal(ip.ident(), 0xbeef);
  t.equal(ip.dontFragment(), true);
  t.equal(ip.moreFragments(), false);
  t.equal(ip.fragmentOffset(), 0);
  t.equal(ip.ttl(), 63);
  t.equal(ip.protocol(), 6);
  t.equal(ip.upperProtocol(), 6);
  t.equal(ip.checksum(), 0x8d91);
  t.ok(ip.verifyChecksum());
  t.same(ip.src(), hex('c000 0201'));
  t.same(ip.dst(), hex('c633 6402'));
  t.equal(ip.srcText(), '192.0.2.1');
  t.equal(ip.dstText(), '198.51.100.2');
  t.same(ip.options(), hex('0101 0100'));
  t.equal(ip.upperOffset(), 24);
  t.equal(ip.end, 61, 'the 3 bytes of link padding are not part of the datagram');
  t.equal(ip.payload().length, 37);
  t.equal(ip.payload().buffer, TCP4_DATA.buffer, 'payload is a view, not a copy');
});

t.test('deconstruct: fragment fields and DSCP (smoltcp vector)', async (t) => {
  const ip = new Ipv4View().wrap(SMOLTCP_IPV4);
  t.equal(ip.check(), 0);
  t.equal(ip.dontFragment(), true);
  t.equal(ip.moreFragments(), true);
  t.equal(ip.fragmentOffset(), 0x203 * 8);
  t.equal(ip.ttl(), 0x1a);
  t.equal(ip.protocol(), 1);
  t.ok(ip.verifyChecksum());
  t.same(ip.payload(), hex('aa00 0000 0000 0000 00ff'));
  const ef = new Ipv4View().wrap(hex('45b9 0014 0000 0000 4006 0000 0a00 0001 0a00 0002'));
  t.equal(ef.dscp(), 46);
  t.equal(ef.ecn(), 1);
});

t.test('construct over a 0xa5 fill gives the golden bytes', async (t) => {
  const buf = Buffer.alloc(64, 0xa5);
  t.equal(writeTcpPacket(buf, 0, DATA_IP, DATA_TCP), 61);
  t.same(buf.subarray(0, 61), TCP4_DATA.subarray(0, 61));
  t.same(buf.subarray(61), hex('a5a5 a5'), 'nothing written past the packet');
  const syn = Buffer.alloc(60, 0xa5);
  writeTcpPacket(syn, 0, { version: 4, src: '192.0.2.1', dst: '198.51.100.2', ident: 0x1c46 }, {
    srcPort: 40000, dstPort: 443, seq: 0xfffff000, flags: TcpFlag.SYN, window: 64240,
    options: hex('0204 05b4 0402 080a 0001 e240 0000 0000 0103 0307'),
  });
  t.same(syn, TCP4_SYN);
});

t.test('fillChecksum recomputes the golden checksum', async (t) => {
  const b = Buffer.from(TCP4_DATA);
  const ip = new Ipv4View().wrap(b);
  ip.setChecksum(0);
  t.notOk(ip.verifyChecksum());
  ip.fillChecksum();
  t.equal(ip.checksum(), 0x8d91);
});

t.test('truncated', async (t) => {
  const ip = new Ipv4View();
  t.equal(ip.wrap(TCP4_DATA.subarray(0, 60)).check(), Reason.TRUNCATED, 'golden minus one byte');
  t.equal(ip.wrap(TCP4_DATA.subarray(0, 23)).check(), Reason.TRUNCATED, 'options cut');
  t.equal(ip.wrap(TCP4_DATA.subarray(0, 19)).check(), Reason.TRUNCATED, 'fixed header cut');
  t.equal(ip.wrap(Buffer.alloc(0)).check(), Reason.TRUNCATED);
  t.equal(ip.wrap(TCP4_DATA, 0, 65).check(), Reason.TRUNCATED, 'len beyond the buffer');
  t.equal(ip.wrap(TCP4_DATA, 0, 61).check(), 0);
});

t.test('impossible lengths and versions', async (t) => {
  const ip = new Ipv4View();
  const withByte = (at: number, v: number): Buffer => {
    const b = Buffer.from(TCP4_DATA);
    b[at] = v;
    return b;
  };
  t.equal(ip.wrap(withByte(0, 0x44)).check(), Reason.BAD_HEADER_LENGTH, 'IHL 4');
  t.equal(ip.wrap(withByte(0, 0x40)).check(), Reason.BAD_HEADER_LENGTH, 'IHL 0');
  t.equal(ip.wrap(withByte(0, 0x4f)).check(), 0, 'IHL 15 fits a 61-byte datagram');
  t.equal(ip.wrap(withByte(0, 0x4f).subarray(0, 40)).check(), Reason.TRUNCATED, 'but not 40 bytes');
  t.equal(ip.wrap(withByte(3, 23)).check(), Reason.BAD_TOTAL_LENGTH, 'total length below the header length');
  t.equal(ip.wrap(withByte(3, 24)).check(), 0, 'total length equal to it: an empty payload');
  t.equal(ip.payload().length, 0);
  t.equal(ip.wrap(withByte(0, 0x66)).check(), Reason.BAD_VERSION);
});

t.test('checkQuote accepts a datagram cut short, and stops at the quote', async (t) => {
  const ip = new Ipv4View().wrap(TCP4_SYN.subarray(0, 28));
  t.equal(ip.check(), Reason.TRUNCATED);
  t.equal(ip.checkQuote(), 0);
  t.equal(ip.end, 28);
  t.equal(ip.payload().length, 8);
  t.equal(ip.wrap(TCP4_DATA).checkQuote(), 0);
  t.equal(ip.end, 61, 'the total length still bounds it');
  t.equal(ip.wrap(TCP4_SYN.subarray(0, 19)).checkQuote(), Reason.TRUNCATED);
});

t.test('a view re-pointed into a larger buffer reads only its own bytes', async (t) => {
  const big = Buffer.alloc(200, 0xee);
  TCP4_DATA.copy(big, 77);
  const ip = new Ipv4View().wrap(big, 77, 61);
  t.equal(ip.check(), 0);
  t.equal(ip.srcText(), '192.0.2.1');
  t.equal(ip.payload().byteOffset - big.byteOffset, 77 + 24);
  t.equal(ip.payload().length, 37);
});

t.test('setters keep the header checksum right (incremental vs full)', async (t) => {
  let s = 99;
  const next = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8;
  const ip = new Ipv4View();
  let wrong = 0;
  for (let n = 0; n < 3000; n++) {
    const b = buildTcpPacket({ version: 4, src: '10.0.0.1', dst: '10.0.0.2', ttl: next() & 0xff, ident: next() & 0xffff }, {
      srcPort: 1, dstPort: 2, seq: 3, flags: TcpFlag.ACK, payload: Buffer.alloc(next() % 100),
    });
    ip.wrap(b).check();
    const which = n % 3;
    if (which === 0) ip.setTtl([0, 1, 255, next() & 0xff][n % 4]);
    else if (which === 1) ip.setIdent([0, 0xffff, next() & 0xffff][n % 3]);
    else ip.setTotalLength(b.length + (next() % 3));
    const incremental = ip.checksum();
    ip.fillChecksum();
    if (incremental !== ip.checksum() || !ip.verifyChecksum()) wrong++;
  }
  t.equal(wrong, 0);
  const b = Buffer.from(TCP4_DATA);
  ip.wrap(b).check();
  ip.setTtl(62);
  t.equal(ip.ttl(), 62);
  t.equal(ip.protocol(), 6, 'the protocol byte sharing the word is kept');
  t.equal(ip.checksum(), 0x8e91);
  t.ok(ip.verifyChecksum());
  ip.setIdent(0x1234);
  t.equal(ip.ident(), 0x1234);
  t.ok(ip.verifyChecksum());
  ip.setTotalLength(60);
  t.equal(ip.totalLength(), 60);
  t.ok(ip.verifyChecksum());
  t.equal(ip.check(), 0);
  t.equal(ip.end, 60, 'check() again moves the end');
});
