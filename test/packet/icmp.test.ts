// IcmpView and QuotedPacket: time exceeded with short and long quotes, RFC 4884 with RFC 4950
// MPLS for IPv4 and IPv6, quotes that are too short or carry IPv4 options, construction.
import t, { type Test } from 'tap';
import { buildIcmpError, buildTcpPacket, icmpErrorLength, writeIcmpError, type Ipv4Spec, type Ipv6Spec } from '../../src/packet/build.js';
import { fillRange } from '../../src/packet/checksum.js';
import { Reason } from '../../src/packet/errors.js';
import { IcmpView, mplsBottom, mplsLabel, mplsTc, mplsTtl } from '../../src/packet/icmp.js';
import { IpProto } from '../../src/packet/ip.js';
import { parsePacket, ParsedPacket, Transport } from '../../src/packet/packet.js';
import { TcpFlag, TcpOptions, TcpView } from '../../src/packet/tcp.js';
import {
  hex, ICMP4_FRAG_NEEDED, ICMP4_MPLS, ICMP4_MPLS_COMPAT, ICMP4_SHORT_QUOTE, ICMP4_TE_LONG, ICMP4_TE_SHORT, ICMP6_MPLS,
  TCP4_DATA, TCP4_SYN, TCP6_ACK,
} from './golden.js';

const p = new ParsedPacket();
p.verifyChecksums = true;

/** Parses a golden ICMP error and returns its ICMP view. */
function icmpOf(t: Test, pkt: Buffer): IcmpView {
  t.equal(parsePacket(pkt, p), 0, 'parses with checksums verified');
  t.equal(p.transport, Transport.ICMP);
  return p.icmp();
}

const MPLS_STACK = [[24001, 0, false, 1], [16, 5, true, 255]];
function mplsOf(icmp: IcmpView): Array<[number, number, boolean, number]> {
  const out: Array<[number, number, boolean, number]> = [];
  for (let i = 0; i < icmp.mplsCount(); i++) {
    const e = icmp.mplsEntry(i);
    out.push([mplsLabel(e), mplsTc(e), mplsBottom(e), mplsTtl(e)]);
  }
  return out;
}

t.test('time exceeded with the 8-byte minimum quote', async (t) => {
  const icmp = icmpOf(t, ICMP4_TE_SHORT);
  t.equal(icmp.type(), 11);
  t.equal(icmp.code(), 0);
  t.equal(icmp.checksum(), 0x6703);
  t.equal(icmp.isError(), true);
  t.equal(icmp.originalLength(), 0);
  t.equal(icmp.hasExtension(), false);
  t.equal(icmp.quoted().length, 28);
  t.equal(icmp.checkQuote(), 0);
  const q = icmp.quote;
  t.equal(q.version, 4);
  t.equal(q.protocol(), IpProto.TCP);
  t.equal(q.ip4.ttl(), 1);
  t.equal(q.ip4.ident(), 0x1c46);
  t.equal(q.ip4.srcText(), '192.0.2.1');
  t.equal(q.ip4.dstText(), '198.51.100.2');
  t.equal(q.ip4.totalLength(), 60, 'the length of the original, not of the quote');
  t.equal(q.srcPort(), 40000);
  t.equal(q.dstPort(), 443);
  t.equal(q.tcpSeqNumber(), 0xfffff000);
  t.equal(q.transportLength, 8);
  t.same(q.transport(), hex('9c40 01bb ffff f000'));
  t.equal(icmp.checkExtension(), 0);
  t.equal(icmp.mplsCount(), 0);
});

t.test('time exceeded with a long quote: the whole quoted segment is readable', async (t) => {
  const icmp = icmpOf(t, ICMP4_TE_LONG);
  t.equal(icmp.checkQuote(), 0);
  t.equal(icmp.quote.transportLength, 40);
  const tcp = new TcpView().wrap(icmp.buf, icmp.quote.transportOffset, icmp.quote.transportLength);
  t.equal(tcp.check(), 0);
  t.equal(tcp.flags(), TcpFlag.SYN);
  const o = new TcpOptions();
  t.equal(tcp.parseOptions(o), 0);
  t.equal(o.mss, 1460);
});

t.test('RFC 4884 time exceeded with a two-entry MPLS stack (IPv4)', async (t) => {
  const icmp = icmpOf(t, ICMP4_MPLS);
  t.equal(icmp.originalLength(), 128);
  t.equal(icmp.hasExtension(), true);
  t.equal(icmp.quoted().length, 128);
  t.equal(icmp.extension().length, 16);
  t.equal(icmp.checkQuote(), 0);
  const q = icmp.quote;
  t.equal(q.ip4.headerLength(), 24, 'the quoted header has options');
  t.same(q.ip4.options(), hex('0101 0100'));
  t.equal(q.transportLength, 37, 'the quote ends with the quoted datagram, before the padding');
  t.equal(q.srcPort(), 443);
  t.equal(q.tcpSeqNumber(), 0x7ffffff0);
  t.equal(icmp.checkExtension(), 0);
  t.same(mplsOf(icmp), MPLS_STACK);
});

t.test('the same from a sender predating RFC 4884 (length attribute 0)', async (t) => {
  const icmp = icmpOf(t, ICMP4_MPLS_COMPAT);
  t.equal(icmp.originalLength(), 0);
  t.equal(icmp.hasExtension(), true, 'found after 128 bytes by its version and checksum');
  t.equal(icmp.quoted().length, 128);
  t.equal(icmp.checkQuote(), 0);
  t.equal(icmp.checkExtension(), 0);
  t.same(mplsOf(icmp), MPLS_STACK);
  // Without a valid extension checksum at byte 128 the tail is part of the quote.
  const b = Buffer.from(ICMP4_MPLS_COMPAT);
  b[b.length - 1] ^= 1;
  fillRange(b, 20, b.length - 20, 0, 22);
  const other = icmpOf(t, b);
  t.equal(other.hasExtension(), false);
  t.equal(other.quoted().length, 144);
  t.equal(other.checkExtension(), 0);
  t.equal(other.mplsCount(), 0);
});

t.test('RFC 4884 time exceeded with a two-entry MPLS stack (IPv6, extension headers in the quote)', async (t) => {
  const icmp = icmpOf(t, ICMP6_MPLS);
  t.equal(icmp.ipVersion, 6);
  t.equal(icmp.type(), 3);
  t.equal(icmp.checksum(), 0xfae3);
  t.ok(icmp.verifyChecksum(p.ip6), 'with the IPv6 pseudo-header');
  t.equal(icmp.originalLength(), 128, '16 units of 64 bits');
  t.equal(icmp.checkQuote(), 0);
  const q = icmp.quote;
  t.equal(q.version, 6);
  t.equal(q.ip6.hopLimit(), 1);
  t.equal(q.ip6.srcText(), '2001:db8::1');
  t.equal(q.protocol(), IpProto.TCP, 'after the quoted hop-by-hop header');
  t.equal(q.transportOffset - icmp.off, 8 + 48);
  t.equal(q.transportLength, 36);
  t.same([q.srcPort(), q.dstPort(), q.tcpSeqNumber()], [443, 40000, 0x7ffffff0]);
  t.equal(icmp.checkExtension(), 0);
  t.same(mplsOf(icmp), MPLS_STACK);
});

t.test('fragmentation needed quoting a header with IPv4 options', async (t) => {
  const icmp = icmpOf(t, ICMP4_FRAG_NEEDED);
  t.equal(icmp.type(), 3);
  t.equal(icmp.code(), 4);
  t.equal(icmp.mtu(), 1400);
  t.equal(icmp.checkQuote(), 0);
  t.equal(icmp.quote.ip4.headerLength(), 24);
  t.same([icmp.quote.srcPort(), icmp.quote.dstPort(), icmp.quote.tcpSeqNumber()], [443, 40000, 0x7ffffff0]);
  t.equal(icmp.quote.transportLength, 8);
});

t.test('a quote shorter than 8 transport bytes is rejected', async (t) => {
  const icmp = icmpOf(t, ICMP4_SHORT_QUOTE);
  t.equal(icmp.checkQuote(), Reason.TRUNCATED);
  t.equal(icmp.quote.version, 0);
  // Cut anywhere inside the quoted IP header, too.
  for (let cut = 29; cut < 48; cut++) {
    t.equal(icmp.wrap(ICMP4_SHORT_QUOTE, 20, cut - 20).check(), 0);
    t.equal(icmp.checkQuote(), Reason.TRUNCATED, `quote of ${cut - 28} bytes`);
  }
  t.equal(icmp.wrap(ICMP4_SHORT_QUOTE, 20, 8).check(), 0);
  t.equal(icmp.checkQuote(), Reason.TRUNCATED, 'no quote at all');
});

t.test('quotes that cannot be matched', async (t) => {
  const r4: Ipv4Spec = { version: 4, src: '203.0.113.9', dst: '192.0.2.1' };
  const quoteOf = (pkt: Buffer): number => {
    t.equal(parsePacket(pkt, p), 0);
    return p.icmp().checkQuote();
  };
  t.equal(quoteOf(buildIcmpError(r4, { type: 11, code: 0, quote: TCP6_ACK.subarray(0, 56) })), Reason.BAD_VERSION, 'IPv6 quoted in ICMPv4');
  const fragment = buildTcpPacket({ version: 4, src: '192.0.2.1', dst: '198.51.100.2', fragmentOffset: 1480 },
    { srcPort: 1, dstPort: 2, seq: 3, flags: TcpFlag.ACK });
  t.equal(quoteOf(buildIcmpError(r4, { type: 11, code: 0, quote: fragment.subarray(0, 28) })), Reason.UNSUPPORTED, 'a later fragment');
  const badIhl = Buffer.from(TCP4_SYN.subarray(0, 28));
  badIhl[0] = 0x43;
  t.equal(quoteOf(buildIcmpError(r4, { type: 11, code: 0, quote: badIhl })), Reason.BAD_HEADER_LENGTH);
  t.equal(quoteOf(buildIcmpError(r4, { type: 0, code: 0, quote: TCP4_SYN.subarray(0, 28) })), Reason.UNSUPPORTED, 'an echo reply quotes nothing');
});

t.test('truncated and impossible lengths', async (t) => {
  for (const [name, pkt] of Object.entries({ ICMP4_TE_SHORT, ICMP4_MPLS, ICMP6_MPLS })) {
    t.equal(parsePacket(pkt.subarray(0, pkt.length - 1), p), Reason.TRUNCATED, `${name} minus one byte`);
  }
  const icmp = new IcmpView(4);
  t.equal(icmp.wrap(ICMP4_TE_SHORT, 20, 7).check(), Reason.TRUNCATED, 'header cut');
  const long = Buffer.from(ICMP4_MPLS);
  long[25] = 40; // 160 bytes of original datagram in a 152-byte body
  t.equal(icmp.wrap(long, 20).check(), Reason.TRUNCATED, 'RFC 4884 length beyond the message');
  long[25] = 31; // 124 bytes: fits, but too short to be followed by an extension
  t.equal(icmp.wrap(long, 20).check(), 0);
  t.equal(icmp.hasExtension(), false);
  t.equal(icmp.quoted().length, 124);
});

t.test('malformed extensions', async (t) => {
  const icmp = new IcmpView(4);
  const ext = 20 + 8 + 128;
  const variant = (edit: (b: Buffer) => void): number => {
    const b = Buffer.from(ICMP4_MPLS);
    edit(b);
    t.equal(icmp.wrap(b, 20).check(), 0);
    return icmp.checkExtension();
  };
  t.equal(variant((b) => { b[b.length - 1] ^= 1; }), Reason.BAD_CHECKSUM);
  t.equal(variant((b) => { b[b.length - 1] ^= 1; b.writeUInt16BE(0, ext + 2); }), 0, 'checksum 0: none was sent');
  t.equal(variant((b) => { b[ext] = 0x10; b.writeUInt16BE(0, ext + 2); }), Reason.UNSUPPORTED, 'version 1');
  t.equal(variant((b) => { b.writeUInt16BE(0, ext + 2); b.writeUInt16BE(3, ext + 4); }), Reason.BAD_EXTENSION, 'object length 3');
  t.equal(variant((b) => { b.writeUInt16BE(0, ext + 2); b.writeUInt16BE(16, ext + 4); }), Reason.BAD_EXTENSION, 'object past the end');
  t.equal(variant((b) => { b.writeUInt16BE(0, ext + 2); b.writeUInt16BE(4, ext + 4); }), Reason.BAD_EXTENSION, 'object length 4 leaves a 4-byte tail');
  const empty = buildIcmpError({ version: 4, src: '203.0.113.9', dst: '192.0.2.1' },
    { type: 11, code: 0, quote: TCP4_SYN, mpls: [{ label: 1, ttl: 1 }] });
  empty.writeUInt16BE(4, empty.length - 8);
  empty.writeUInt16BE(0, empty.length - 10);
  t.equal(icmp.wrap(empty, 20).check(), 0);
  t.equal(icmp.checkExtension(), Reason.BAD_EXTENSION, 'an MPLS object with no entry');
  const odd = Buffer.from(ICMP4_MPLS);
  odd.writeUInt16BE(0, ext + 2);
  odd.writeUInt16BE(14, ext + 4);
  t.equal(icmp.wrap(odd.subarray(0, odd.length - 2), 20).check(), 0);
  t.equal(icmp.checkExtension(), Reason.BAD_EXTENSION, 'an MPLS object of 14 bytes');
  t.equal(icmp.wrap(Buffer.from(ICMP4_MPLS).subarray(0, ext + 2), 20).check(), 0);
  t.equal(icmp.hasExtension(), true);
  t.equal(icmp.checkExtension(), Reason.TRUNCATED, 'extension header cut');
});

t.test('other fields: packet too big, echo', async (t) => {
  const ptb = buildIcmpError({ version: 6, src: '2001:db8:ffff::9', dst: '2001:db8::1' },
    { type: 2, code: 0, rest: 1280, quote: TCP6_ACK });
  const icmp = icmpOf(t, ptb);
  t.equal(icmp.mtu(), 1280);
  t.equal(icmp.hasLengthAttribute(), false);
  t.equal(icmp.originalLength(), 0);
  t.equal(icmp.checkQuote(), 0);
  t.equal(icmp.quote.transportLength, 36);
  const echo = icmpOf(t, buildIcmpError({ version: 4, src: '10.0.0.1', dst: '10.0.0.2' },
    { type: 0, code: 0, rest: 0x12340001, quote: hex('6869') }));
  t.equal(echo.isError(), false);
  t.equal(echo.restOfHeader(), 0x12340001);
  t.equal(echo.mtu(), 0);
  t.equal(echo.hasExtension(), false);
});

t.test('construct over a 0xa5 fill gives the golden bytes', async (t) => {
  const router4: Ipv4Spec = { version: 4, src: '203.0.113.9', dst: '192.0.2.1', ttl: 249, dontFragment: false };
  const router6: Ipv6Spec = { version: 6, src: '2001:db8:ffff::9', dst: '2001:db8::1' };
  const mpls = [{ label: 24001, ttl: 1 }, { label: 16, tc: 5, ttl: 255 }];
  const atTtl1 = (pkt: Buffer, ihl: number): Buffer => {
    const b = Buffer.from(pkt);
    b[8] = 1;
    fillRange(b, 0, ihl, 0, 10);
    return b;
  };
  const hopLimit1 = Buffer.from(TCP6_ACK);
  hopLimit1[7] = 1;
  const cases: Array<[string, Buffer, () => Buffer]> = [
    ['ICMP4_TE_SHORT', ICMP4_TE_SHORT, () => poisoned(router4, 56, { type: 11, code: 0, quote: atTtl1(TCP4_SYN, 20).subarray(0, 28) })],
    ['ICMP4_TE_LONG', ICMP4_TE_LONG, () => poisoned(router4, 88, { type: 11, code: 0, quote: atTtl1(TCP4_SYN, 20) })],
    ['ICMP4_MPLS', ICMP4_MPLS, () => poisoned(router4, 172, { type: 11, code: 0, quote: atTtl1(TCP4_DATA, 24).subarray(0, 61), mpls })],
    ['ICMP4_FRAG_NEEDED', ICMP4_FRAG_NEEDED, () => poisoned(router4, 60, { type: 3, code: 4, rest: 1400, quote: atTtl1(TCP4_DATA, 24).subarray(0, 32) })],
    ['ICMP6_MPLS', ICMP6_MPLS, () => poisoned(router6, 192, { type: 3, code: 0, quote: hopLimit1, mpls })],
  ];
  for (const [name, golden, build] of cases) t.same(build(), golden, name);
  // The pre-RFC 4884 layout: lengths from the spec, attribute 0.
  const compat = { type: 11, code: 0, quote: atTtl1(TCP4_DATA, 24).subarray(0, 61), mpls, lengthAttribute: 0 };
  const ip = { ...router4, headerLength: 20, totalLength: icmpErrorLength(router4, compat) };
  t.same(poisoned(ip, 172, compat, { fixLengths: false }), ICMP4_MPLS_COMPAT);
});

/** Writes an ICMP error into a 0xa5-filled buffer with room to spare, checks the spare is untouched, returns the packet. */
function poisoned(...[ip, size, icmp, opts]: [Ipv4Spec | Ipv6Spec, number, Parameters<typeof writeIcmpError>[3], Parameters<typeof writeIcmpError>[4]?]): Buffer {
  const buf = Buffer.alloc(size + 8, 0xa5);
  const n = writeIcmpError(buf, 0, ip, icmp, opts);
  if (n !== size || !buf.subarray(size).equals(Buffer.alloc(8, 0xa5))) throw new Error(`wrote ${n} bytes, or past them`);
  return buf.subarray(0, size);
}
