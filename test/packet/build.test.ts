// The builder: round trips through parsePacket, option encoding, broken packets on request,
// and the programmer errors it refuses.
import t from 'tap';
import {
  buildIcmpError, buildTcpPacket, encodeTcpOptions, icmpErrorLength, tcpPacketLength, writeTcpPacket, type IpSpec, type TcpSpec,
} from '../../src/packet/build.js';
import { Reason } from '../../src/packet/errors.js';
import { IpProto } from '../../src/packet/ip.js';
import { parsePacket, ParsedPacket, Transport } from '../../src/packet/packet.js';
import { TcpFlag, TcpOptions } from '../../src/packet/tcp.js';
import { hex, TCP4_SYN } from './golden.js';

const V4: IpSpec = { version: 4, src: '192.0.2.1', dst: '198.51.100.2' };
const V6: IpSpec = { version: 6, src: '2001:db8::1', dst: '2001:db8:1::2' };
const ACK: TcpSpec = { srcPort: 1000, dstPort: 2000, seq: 1, ack: 2, flags: TcpFlag.ACK };

t.test('encodeTcpOptions lays options out as Linux does', async (t) => {
  t.same(encodeTcpOptions({ mss: 1460, sackPermitted: true, timestamps: [123456, 0], windowScale: 7 }), TCP4_SYN.subarray(40, 60));
  t.same(encodeTcpOptions({ timestamps: [1, 2] }), hex('0101 080a 0000 0001 0000 0002'));
  t.same(encodeTcpOptions({ sackPermitted: true }), hex('0101 0402'));
  t.same(encodeTcpOptions({ sack: [[0xfffffff0, 0x10]] }), hex('0101 050a ffff fff0 0000 0010'));
  t.same(encodeTcpOptions({}), Buffer.alloc(0));
  t.throws(() => encodeTcpOptions({ sack: [] }), RangeError);
  t.throws(() => encodeTcpOptions({ sack: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]] }), RangeError);
});

t.test('round trip: random segments over IPv4 and IPv6 parse back to their specs', async (t) => {
  let s = 2024;
  const next = (): number => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>>= 0);
  };
  const p = new ParsedPacket();
  p.verifyChecksums = true;
  const o = new TcpOptions();
  let wrong = 0;
  for (let n = 0; n < 1000; n++) {
    const sack: Array<[number, number]> = Array.from({ length: next() % 3 }, () => [next(), next()]);
    const ts: [number, number] | undefined = next() % 2 ? [next(), next()] : undefined;
    const opts = { mss: next() % 2 ? next() & 0xffff : undefined, timestamps: ts, sack: sack.length ? sack : undefined };
    const payload = Buffer.alloc(next() % 200, n);
    const tcp: TcpSpec = {
      srcPort: next() & 0xffff, dstPort: next() & 0xffff, seq: next(), ack: next(), flags: next() & 0xff,
      window: next() & 0xffff, urgent: next() & 0xffff, options: encodeTcpOptions(opts), payload,
    };
    const ip: IpSpec = n % 2
      ? { version: 6, src: '2001:db8::1', dst: '2001:db8::2', hopLimit: next() & 0xff, trafficClass: next() & 0xff, flowLabel: next() & 0xfffff }
      : { version: 4, src: '10.0.0.1', dst: '10.0.0.2', ttl: next() & 0xff, ident: next() & 0xffff, dscp: next() & 63, ecn: next() & 3 };
    const pkt = buildTcpPacket(ip, tcp);
    const fine = pkt.length === tcpPacketLength(ip, tcp) && parsePacket(pkt, p) === 0 && p.transport === Transport.TCP
      && p.tcp.parseOptions(o) === 0 && p.tcp.srcPort() === tcp.srcPort && p.tcp.dstPort() === tcp.dstPort
      && p.tcp.seqNumber() === tcp.seq && p.tcp.ackNumber() === tcp.ack && p.tcp.flags() === tcp.flags
      && p.tcp.window() === tcp.window && p.tcp.urgentPointer() === tcp.urgent && p.tcp.payload().equals(payload)
      && o.mss === (opts.mss ?? -1) && o.timestamps === !!ts && (!ts || (o.tsVal === ts[0] && o.tsEcr === ts[1]))
      && o.sackCount === sack.length && sack.every(([l, r], i) => o.sackBlocks[2 * i] === l && o.sackBlocks[2 * i + 1] === r)
      && (ip.version === 4
        ? p.ip4.ttl() === ip.ttl && p.ip4.ident() === ip.ident && p.ip4.dscp() === ip.dscp && p.ip4.ecn() === ip.ecn
        : p.ip6.hopLimit() === ip.hopLimit && p.ip6.trafficClass() === ip.trafficClass && p.ip6.flowLabel() === ip.flowLabel);
    if (!fine) wrong++;
  }
  t.equal(wrong, 0);
});

t.test('options are padded with EOL to whole words', async (t) => {
  const pkt = buildTcpPacket(V4, { ...ACK, options: hex('0303 07') });
  t.equal(pkt.length, 44);
  t.same(pkt.subarray(40, 44), hex('0303 0700'));
  t.equal(pkt[32] >> 4, 6);
});

t.test('IPv6 extension headers are chained', async (t) => {
  const pkt = buildTcpPacket({ ...V6, extensions: [
    { type: IpProto.HOP_BY_HOP, body: hex('0104 0000 0000') },
    { type: IpProto.FRAGMENT, body: hex('0001 0000 002a') },
  ] } as IpSpec, ACK);
  t.same([pkt[6], pkt[40], pkt[41], pkt[48], pkt[49]], [IpProto.HOP_BY_HOP, IpProto.FRAGMENT, 0, IpProto.TCP, 0]);
  const p = new ParsedPacket();
  p.verifyChecksums = true;
  t.equal(parsePacket(pkt, p), 0);
  t.equal(p.ip6.fragmentIdent(), 42);
  t.equal(p.transportOffset, 56);
});

t.test('ICMP errors: the original datagram is padded to the RFC 4884 unit, at least 128 bytes', async (t) => {
  const quote = Buffer.alloc(130, 0x11);
  const mpls = [{ label: 100, ttl: 1 }];
  const v4 = buildIcmpError({ version: 4, src: '10.0.0.9', dst: '10.0.0.1' }, { type: 11, code: 0, quote, mpls });
  t.equal(v4[20 + 5], 33, '132 bytes in 32-bit words');
  t.equal(v4.length, 20 + 8 + 132 + 4 + 8);
  t.equal(v4.length, icmpErrorLength({ version: 4, src: '10.0.0.9', dst: '10.0.0.1' }, { type: 11, code: 0, quote, mpls }));
  t.same(v4.subarray(28 + 130, 28 + 132), hex('0000'));
  const v6 = buildIcmpError({ version: 6, src: '2001:db8::9', dst: '2001:db8::1' }, { type: 1, code: 3, quote, mpls });
  t.equal(v6[40 + 4], 17, '136 bytes in 64-bit words');
  t.equal(v6.length, 40 + 8 + 136 + 4 + 8);
  const short = buildIcmpError({ version: 4, src: '10.0.0.9', dst: '10.0.0.1' }, { type: 11, code: 0, quote: Buffer.alloc(28), mpls });
  t.equal(short[25], 32, 'a short quote padded to 128 bytes');
  const plain = buildIcmpError({ version: 4, src: '10.0.0.9', dst: '10.0.0.1' }, { type: 11, code: 0, rest: 0xffffffff, quote });
  t.equal(plain[25], 0, 'no extension: length attribute 0, as Linux sends');
  t.equal(plain.readUInt32BE(24), 0xff00ffff, 'over the rest of the header');
  const p = new ParsedPacket();
  p.verifyChecksums = true;
  for (const pkt of [v4, v6, short, plain]) t.equal(parsePacket(pkt, p), 0);
});

t.test('without fixLengths and computeChecksums, fields come from the spec (0 when absent)', async (t) => {
  const p = new ParsedPacket();
  const raw = buildTcpPacket(V4, ACK, { fixLengths: false, computeChecksums: false });
  t.same([raw[0], raw.readUInt16BE(2), raw.readUInt16BE(10), raw[32], raw.readUInt16BE(36)], [0x40, 0, 0, 0, 0]);
  t.equal(parsePacket(raw, p), Reason.BAD_HEADER_LENGTH);
  const wrongTotal = buildTcpPacket({ ...V4, headerLength: 20, totalLength: 19 } as IpSpec, { ...ACK, headerLength: 20 }, { fixLengths: false });
  t.equal(parsePacket(wrongTotal, p), Reason.BAD_TOTAL_LENGTH);
  const wrongOffset = buildTcpPacket({ ...V4, headerLength: 20, totalLength: 40 } as IpSpec, { ...ACK, headerLength: 16 }, { fixLengths: false });
  t.equal(parsePacket(wrongOffset, p), Reason.BAD_HEADER_LENGTH);
  const longer6 = buildTcpPacket({ ...V6, payloadLength: 21 } as IpSpec, { ...ACK, headerLength: 20 }, { fixLengths: false });
  t.equal(parsePacket(longer6, p), Reason.TRUNCATED);
  const badSum = buildTcpPacket(V4, { ...ACK, checksum: 0x1234 }, { computeChecksums: false });
  t.equal(badSum.readUInt16BE(36), 0x1234);
  t.equal(parsePacket(badSum, p), 0);
  p.verifyChecksums = true;
  t.equal(parsePacket(badSum, p), Reason.BAD_CHECKSUM);
  const given = buildTcpPacket(V4, { ...ACK, checksum: 0x1234 });
  t.equal(parsePacket(given, p), 0, 'a checksum in the spec is overwritten when computing');
  const badExt = buildIcmpError({ version: 4, src: '10.0.0.9', dst: '10.0.0.1' },
    { type: 11, code: 0, quote: TCP4_SYN, mpls: [{ label: 1, ttl: 1 }], extensionChecksum: 0xbeef }, { computeChecksums: false });
  t.equal(badExt.readUInt16BE(20 + 8 + 128 + 2), 0xbeef);
});

t.test('programmer errors throw RangeError', async (t) => {
  t.throws(() => buildTcpPacket({ ...V4, options: hex('0101 01') } as IpSpec, ACK), RangeError, 'IPv4 options not in words');
  t.throws(() => buildTcpPacket({ ...V4, options: Buffer.alloc(44) } as IpSpec, ACK), RangeError, 'IPv4 options over 40 bytes');
  t.throws(() => buildTcpPacket(V4, { ...ACK, options: Buffer.alloc(41) }), RangeError, 'TCP options over 40 bytes');
  t.throws(() => buildTcpPacket({ ...V6, extensions: [{ type: 60, body: Buffer.alloc(5) }] } as IpSpec, ACK), RangeError, 'extension not in 8-byte units');
  t.throws(() => buildTcpPacket({ ...V4, src: '10.0.0.256' } as IpSpec, ACK), RangeError);
  t.throws(() => buildTcpPacket({ ...V4, dst: '10.0.0' } as IpSpec, ACK), RangeError);
  t.throws(() => buildTcpPacket({ ...V6, src: '2001:db8::1::2' } as IpSpec, ACK), RangeError);
  t.throws(() => buildTcpPacket({ ...V6, src: '2001:db8:1:2:3:4:5' } as IpSpec, ACK), RangeError);
  t.throws(() => buildTcpPacket({ ...V6, src: 'g::1' } as IpSpec, ACK), RangeError);
  t.throws(() => buildTcpPacket({ ...V4, src: Buffer.alloc(16) } as IpSpec, ACK), RangeError, 'address bytes of the wrong size');
  t.throws(() => writeTcpPacket(Buffer.alloc(39), 0, V4, ACK), RangeError, 'buffer too small');
  const icmpSpec = { type: 2, code: 0, quote: TCP4_SYN, mpls: [{ label: 1, ttl: 1 }] };
  t.throws(() => buildIcmpError(V6, icmpSpec), RangeError, 'packet too big cannot carry an extension');
  t.throws(() => buildIcmpError(V4, { type: 11, code: 0, quote: TCP4_SYN, mpls: [] }), RangeError, 'empty label stack');
  t.same(buildTcpPacket({ ...V6, src: '::' } as IpSpec, ACK).subarray(8, 24), Buffer.alloc(16));
  t.same(buildTcpPacket({ ...V6, src: '::ffff:1' } as IpSpec, ACK).subarray(8, 24), hex('0000 0000 0000 0000 0000 0000 ffff 0001'));
});
