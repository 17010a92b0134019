// Ipv6View: deconstruct golden bytes, construct over a poison fill, the extension-header walk,
// truncation, impossible lengths.
import t from 'tap';
import { writeTcpPacket } from '../../src/packet/build.js';
import { Reason } from '../../src/packet/errors.js';
import { IpProto, ipv6Text } from '../../src/packet/ip.js';
import { Ipv6View } from '../../src/packet/ipv6.js';
import { TcpFlag } from '../../src/packet/tcp.js';
import { hex, TCP6_ACK } from './golden.js';

const SRC_DST = '2001 0db8 0000 0000 0000 0000 0000 0001 2001 0db8 0001 0000 0000 0000 0000 0002';

/** A hand-built IPv6 packet: fixed header (class 0, flow 0, hop limit 64) with the payload length of `payload`. */
function v6(nextHeader: number, ...payload: string[]): Buffer {
  const body = hex(...payload);
  const head = hex('6000 0000', body.length.toString(16).padStart(4, '0'), nextHeader.toString(16).padStart(2, '0'), '40', SRC_DST);
  return Buffer.concat([head, body]);
}

const TCP20 = '9c40 01bb 0000 0001 0000 0000 5010 ffff 0000 0000';

t.test('deconstruct', async (t) => {
  const ip = new Ipv6View().wrap(TCP6_ACK);
  t.equal(ip.check(), 0);
  t.equal(ip.version(), 6);
  t.equal(ip.trafficClass(), 0xb8);
  t.equal(ip.dscp(), 46);
  t.equal(ip.ecn(), 0);
  t.equal(ip.flowLabel(), 0x12345);
  t.equal(ip.payloadLength(), 44);
  t.equal(ip.nextHeader(), IpProto.HOP_BY_HOP);
  t.equal(ip.hopLimit(), 64);
  t.same(ip.src(), hex('2001 0db8 0000 0000 0000 0000 0000 0001'));
  t.same(ip.dst(), hex('2001 0db8 0001 0000 0000 0000 0000 0002'));
  t.equal(ip.srcText(), '2001:db8::1');
  t.equal(ip.dstText(), '2001:db8:1::2');
  t.equal(ip.upperProtocol(), IpProto.TCP);
  t.equal(ip.upperOffset(), 48);
  t.equal(ip.fragmentOffset(), 0);
  t.equal(ip.moreFragments(), false);
  t.equal(ip.fragmentIdent(), -1);
  t.equal(ip.end, 84);
  t.equal(ip.payload().length, 36, 'the TCP segment, without the hop-by-hop header');
});

t.test('construct over a 0xa5 fill gives the golden bytes', async (t) => {
  const buf = Buffer.alloc(90, 0xa5);
  const n = writeTcpPacket(buf, 0, {
    version: 6, src: '2001:db8::1', dst: '2001:db8:1::2', trafficClass: 0xb8, flowLabel: 0x12345,
    extensions: [{ type: IpProto.HOP_BY_HOP, body: hex('0104 0000 0000') }],
  }, {
    srcPort: 443, dstPort: 40000, seq: 0x7ffffff0, ack: 0x10, flags: TcpFlag.ACK, window: 501,
    options: hex('0101 050a 0000 1000 0000 2000'), payload: hex('dead beef'),
  });
  t.equal(n, 84);
  t.same(buf.subarray(0, 84), TCP6_ACK);
  t.same(buf.subarray(84), Buffer.alloc(6, 0xa5));
});

t.test('the walk passes over hop-by-hop, destination options, routing and a first fragment', async (t) => {
  const pkt = v6(IpProto.HOP_BY_HOP,
    '3c00 0104 0000 0000', // hop-by-hop: next 60, 8 bytes, PadN
    '2b01 010c 0000 0000 0000 0000 0000 0000', // destination options: next 43, 16 bytes, PadN
    '2c00 0400 0000 0000', // routing: next 44, 8 bytes, type 4, segments left 0
    '0600 0001 0000 0007', // fragment: next 6, offset 0, M, ident 7
    TCP20);
  const ip = new Ipv6View().wrap(pkt);
  t.equal(ip.check(), 0);
  t.equal(ip.upperProtocol(), IpProto.TCP);
  t.equal(ip.upperOffset(), 80);
  t.equal(ip.fragmentOffset(), 0);
  t.equal(ip.moreFragments(), true);
  t.equal(ip.fragmentIdent(), 7);
  t.equal(ip.payload().length, 20);
});

t.test('the walk stops after a non-first fragment header', async (t) => {
  const ip = new Ipv6View().wrap(v6(IpProto.FRAGMENT, '0600 05c8 0000 0009', '00'.repeat(16)));
  t.equal(ip.check(), 0);
  t.equal(ip.fragmentOffset(), 1480);
  t.equal(ip.moreFragments(), false);
  t.equal(ip.fragmentIdent(), 9);
  t.equal(ip.upperProtocol(), IpProto.TCP, "the fragment header's next header");
  t.equal(ip.upperOffset(), 48);
  // Fragment data after an extension-header number is not parsed as a header (its 0xff length would run past the end).
  t.equal(ip.wrap(v6(IpProto.FRAGMENT, '3c00 05c8 0000 0009', '06ff', '00'.repeat(14))).check(), 0);
  t.equal(ip.upperProtocol(), IpProto.DEST_OPTIONS);
  t.equal(ip.upperOffset(), 48);
});

t.test('the walk stops at ESP, AH and no-next-header and reports them', async (t) => {
  const ip = new Ipv6View();
  t.equal(ip.wrap(v6(IpProto.ESP, '0000 0100 0000 0001')).check(), 0);
  t.equal(ip.upperProtocol(), IpProto.ESP);
  t.equal(ip.upperOffset(), 40);
  t.equal(ip.wrap(v6(IpProto.HOP_BY_HOP, '3300 0104 0000 0000', '0604 0000 0000 0100 0000 0001')).check(), 0);
  t.equal(ip.upperProtocol(), IpProto.AH);
  t.equal(ip.upperOffset(), 48);
  t.equal(ip.wrap(v6(IpProto.NO_NEXT_HEADER)).check(), 0);
  t.equal(ip.upperProtocol(), IpProto.NO_NEXT_HEADER);
  t.equal(ip.payload().length, 0);
});

t.test('malformed extension chains', async (t) => {
  const ip = new Ipv6View();
  t.equal(ip.wrap(v6(IpProto.DEST_OPTIONS, '0000 0104 0000 0000', '0600 0104 0000 0000', TCP20)).check(),
    Reason.BAD_EXTENSION, 'hop-by-hop after another header');
  t.equal(ip.wrap(v6(IpProto.DEST_OPTIONS, '0605 0104 0000 0000 0000 0000 0000 0000')).check(),
    Reason.TRUNCATED, 'a length running past the payload');
  t.equal(ip.wrap(v6(IpProto.ROUTING, '0600 0400')).check(), Reason.TRUNCATED, 'fewer than 8 bytes left');
  t.equal(ip.wrap(v6(IpProto.FRAGMENT, '0600 0001')).check(), Reason.TRUNCATED, 'a cut fragment header');
});

t.test('truncated and impossible lengths', async (t) => {
  const ip = new Ipv6View();
  t.equal(ip.wrap(TCP6_ACK.subarray(0, 83)).check(), Reason.TRUNCATED, 'golden minus one byte');
  t.equal(ip.wrap(TCP6_ACK.subarray(0, 39)).check(), Reason.TRUNCATED, 'fixed header cut');
  t.equal(ip.wrap(TCP6_ACK, 0, 85).check(), Reason.TRUNCATED, 'len beyond the buffer');
  const bigger = Buffer.from(TCP6_ACK);
  bigger.writeUInt16BE(45, 4);
  t.equal(ip.wrap(bigger).check(), Reason.TRUNCATED, 'payload length one more than present');
  const v4 = Buffer.from(TCP6_ACK);
  v4[0] = 0x4b;
  t.equal(ip.wrap(v4).check(), Reason.BAD_VERSION);
  const padded = Buffer.concat([TCP6_ACK, hex('0000 0000')]);
  t.equal(ip.wrap(padded).check(), 0);
  t.equal(ip.end, 84, 'link padding is left out');
});

t.test('checkQuote: a datagram cut short, walked as far as it goes', async (t) => {
  const ip = new Ipv6View().wrap(TCP6_ACK.subarray(0, 56));
  t.equal(ip.check(), Reason.TRUNCATED);
  t.equal(ip.checkQuote(), 0);
  t.equal(ip.upperProtocol(), IpProto.TCP);
  t.equal(ip.payload().length, 8);
  t.equal(ip.wrap(TCP6_ACK.subarray(0, 44)).checkQuote(), Reason.TRUNCATED, 'cut inside the hop-by-hop header');
});

t.test('setters', async (t) => {
  const b = Buffer.from(TCP6_ACK);
  const ip = new Ipv6View().wrap(b);
  ip.setHopLimit(1);
  t.equal(ip.hopLimit(), 1);
  ip.setPayloadLength(40);
  t.equal(ip.check(), 0);
  t.equal(ip.end, 80);
});

t.test('address text is RFC 5952', async (t) => {
  const cases: Array<[string, string]> = [
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000100000000000000000000', '2001:db8:1::'],
    ['fe800000000000000202b3fffe1e8329', 'fe80::202:b3ff:fe1e:8329'],
    ['20010db8000000000000000100000000', '2001:db8::1:0:0'],
    ['20010db80000aaaa0000bbbb0000cccc', '2001:db8:0:aaaa:0:bbbb:0:cccc'],
  ];
  for (const [bytes, text] of cases) t.equal(ipv6Text(Buffer.from(bytes, 'hex'), 0), text);
});
