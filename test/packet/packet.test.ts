// parsePacket: dispatch on the version nibble, the reusable result, checksum verification,
// fragments, other protocols, errors from each layer.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { buildTcpPacket } from '../../src/packet/build.js';
import { foldSum } from '../../src/packet/checksum.js';
import { Reason } from '../../src/packet/errors.js';
import { IpProto } from '../../src/packet/ip.js';
import { parsePacket, ParsedPacket, Transport } from '../../src/packet/packet.js';
import { TcpFlag, TcpOptions } from '../../src/packet/tcp.js';
import { hex, ICMP4_MPLS, ICMP4_TE_SHORT, ICMP6_MPLS, TCP4_DATA, TCP4_SYN, TCP6_ACK } from './golden.js';

t.test('every golden packet, one result object reused', async (t) => {
  const p = new ParsedPacket();
  p.verifyChecksums = true;
  const views = [p.ip4, p.ip6, p.tcp, p.icmp4, p.icmp6];
  const expect: Array<[string, Buffer, number, number, number, number, number]> = [
    // name, packet, version, transport, protocol, transport offset, transport length
    ['TCP4_SYN', TCP4_SYN, 4, Transport.TCP, IpProto.TCP, 20, 40],
    ['TCP6_ACK', TCP6_ACK, 6, Transport.TCP, IpProto.TCP, 48, 36],
    ['TCP4_DATA', TCP4_DATA, 4, Transport.TCP, IpProto.TCP, 24, 37],
    ['ICMP6_MPLS', ICMP6_MPLS, 6, Transport.ICMP, IpProto.ICMPV6, 40, 152],
    ['ICMP4_TE_SHORT', ICMP4_TE_SHORT, 4, Transport.ICMP, IpProto.ICMP, 20, 36],
    ['ICMP4_MPLS', ICMP4_MPLS, 4, Transport.ICMP, IpProto.ICMP, 20, 152],
  ];
  for (const [name, pkt, version, transport, protocol, offset, length] of expect) {
    t.equal(parsePacket(pkt, p), 0, name);
    t.same([p.version, p.transport, p.protocol, p.transportOffset, p.transportLength, p.fragment],
      [version, transport, protocol, offset, length, false], name);
    t.equal(p.ip(), version === 4 ? p.ip4 : p.ip6);
  }
  t.same([p.ip4, p.ip6, p.tcp, p.icmp4, p.icmp6], views, 'the same view objects throughout');
  parsePacket(TCP4_DATA, p);
  t.equal(p.tcp.payload().toString(), 'hello', 'payload by total length: link padding left out');
  parsePacket(ICMP6_MPLS, p);
  t.equal(p.icmp(), p.icmp6);
});

t.test('a packet inside a larger buffer', async (t) => {
  const big = Buffer.alloc(300, 0xff);
  TCP6_ACK.copy(big, 101);
  const p = new ParsedPacket();
  t.equal(parsePacket(big, p, 101, TCP6_ACK.length), 0);
  t.equal(p.tcp.srcPort(), 443);
  t.equal(p.transportOffset, 101 + 48);
  t.equal(parsePacket(big, p, 101, TCP6_ACK.length - 1), Reason.TRUNCATED);
  t.equal(parsePacket(big, p, 290, 20), Reason.TRUNCATED, 'len past the end of the buffer');
});

t.test('checksums are verified only when asked', async (t) => {
  const p = new ParsedPacket();
  const badTcp = Buffer.from(TCP4_SYN);
  badTcp[59] ^= 0x01;
  t.equal(parsePacket(badTcp, p), 0);
  p.verifyChecksums = true;
  t.equal(parsePacket(badTcp, p), Reason.BAD_CHECKSUM, 'TCP over IPv4');
  const badIp = Buffer.from(TCP4_SYN);
  badIp[8] = 63;
  t.equal(parsePacket(badIp, p), Reason.BAD_CHECKSUM, 'IPv4 header');
  const bad6 = Buffer.from(TCP6_ACK);
  bad6[83] ^= 0x80;
  t.equal(parsePacket(bad6, p), Reason.BAD_CHECKSUM, 'TCP over IPv6');
  const badIcmp = Buffer.from(ICMP6_MPLS);
  badIcmp[60] ^= 0x01;
  t.equal(parsePacket(badIcmp, p), Reason.BAD_CHECKSUM, 'ICMPv6');
  const badIcmp4 = Buffer.from(ICMP4_TE_SHORT);
  badIcmp4[55] ^= 0x01;
  t.equal(parsePacket(badIcmp4, p), Reason.BAD_CHECKSUM, 'ICMPv4');
});

t.test('fragments', async (t) => {
  const p = new ParsedPacket();
  p.verifyChecksums = true;
  const ip = { version: 4 as const, src: '192.0.2.1', dst: '198.51.100.2' };
  const later = buildTcpPacket({ ...ip, fragmentOffset: 1480 }, { srcPort: 1, dstPort: 2, seq: 3, flags: TcpFlag.ACK });
  t.equal(parsePacket(later, p), 0);
  t.equal(p.fragment, true);
  t.equal(p.transport, Transport.NONE, 'no transport header in a later fragment');
  t.equal(p.protocol, IpProto.TCP);
  const first = buildTcpPacket({ ...ip, moreFragments: true }, { srcPort: 1, dstPort: 2, seq: 3, flags: TcpFlag.ACK, payload: Buffer.alloc(8) });
  first[first.length - 1] = 1; // the TCP checksum would cover the whole datagram: not verifiable here
  t.equal(parsePacket(first, p), 0);
  t.equal(p.fragment, false);
  t.equal(p.transport, Transport.TCP);
  const later6 = hex('6000 0000 0018 2c40', '2001 0db8 0000 0000 0000 0000 0000 0001 2001 0db8 0001 0000 0000 0000 0000 0002',
    '0600 05c8 0000 0009', '00'.repeat(16));
  t.equal(parsePacket(later6, p), 0);
  t.same([p.fragment, p.transport, p.protocol, p.transportOffset], [true, Transport.NONE, IpProto.TCP, 48]);
});

t.test('other protocols pass through as numbers', async (t) => {
  const p = new ParsedPacket();
  const udp = hex('4500 001c 0000 4000 4011 0000 c000 0201 c633 6402', '0035 0035 0008 0000');
  t.equal(parsePacket(udp, p), 0);
  t.same([p.version, p.protocol, p.transport, p.transportOffset, p.transportLength], [4, IpProto.UDP, Transport.NONE, 20, 8]);
  const esp = hex('6000 0000 0008 3240', '2001 0db8 0000 0000 0000 0000 0000 0001 2001 0db8 0001 0000 0000 0000 0000 0002',
    '0000 0100 0000 0001');
  t.equal(parsePacket(esp, p), 0);
  t.same([p.version, p.protocol, p.transport], [6, IpProto.ESP, Transport.NONE]);
  const icmpv6OverV4 = Buffer.from(udp);
  icmpv6OverV4[9] = IpProto.ICMPV6;
  t.equal(parsePacket(icmpv6OverV4, p), 0);
  t.equal(p.transport, Transport.NONE, 'ICMPv6 is only ICMP over IPv6');
});

t.test('errors from each layer', async (t) => {
  const p = new ParsedPacket();
  t.equal(parsePacket(Buffer.alloc(0), p), Reason.TRUNCATED);
  t.equal(p.version, 0);
  t.equal(parsePacket(hex('5500 0014'), p), Reason.BAD_VERSION);
  t.equal(parsePacket(Buffer.alloc(40), p), Reason.BAD_VERSION, 'zeros');
  t.equal(parsePacket(TCP4_SYN.subarray(0, 59), p), Reason.TRUNCATED);
  t.equal(p.version, 0);
  const badOffset = Buffer.from(TCP4_SYN);
  badOffset[32] = 0x40;
  t.equal(parsePacket(badOffset, p), Reason.BAD_HEADER_LENGTH);
  t.equal(p.version, 4, 'the IP header was fine');
  t.equal(p.transport, Transport.NONE);
  const shortIcmp = hex('4500 001b 0000 0000 4001 0000 cb00 7109 c000 0201', '0b00 0000 0000 00');
  t.equal(parsePacket(shortIcmp, p), Reason.TRUNCATED, 'a 7-byte ICMP message');
});

t.test('packets the kernel made (fixtures/README.md): partial checksums, Linux option layout', async (t) => {
  const fixture = (name: string): Buffer => readFileSync(new URL(`fixtures/${name}`, import.meta.url));
  const cases: Array<[string, number, number, number, number, string]> = [
    // file, version, src port, stored (partial) checksum, full checksum (from tcpdump), payload
    ['lo-syn4.bin', 4, 52620, 0xfe30, 0xeaec, ''],
    ['lo-data4.bin', 4, 47999, 0xfe2c, 0xa64c, 'pong'],
    ['lo-syn6.bin', 6, 54172, 0x0030, 0xeffb, ''],
  ];
  const p = new ParsedPacket();
  const o = new TcpOptions();
  for (const [name, version, srcPort, partial, full, payload] of cases) {
    const pkt = fixture(name);
    t.equal(parsePacket(pkt, p), 0, name);
    t.same([p.version, p.transport, p.tcp.srcPort(), p.tcp.payload().toString()], [version, Transport.TCP, srcPort, payload], name);
    t.equal(p.tcp.checksum(), partial);
    t.equal(p.tcp.checksum(), foldSum(p.ip().pseudoHeaderSum(IpProto.TCP, p.transportLength)), 'the field holds the pseudo-header sum');
    t.notOk(p.tcp.verifyChecksum(p.ip()));
    p.verifyChecksums = true;
    t.equal(parsePacket(pkt, p), Reason.BAD_CHECKSUM, 'so verification must stay off for such packets');
    p.verifyChecksums = false;
    parsePacket(pkt, p);
    p.tcp.fillChecksum(p.ip());
    t.equal(p.tcp.checksum(), full, 'the full checksum agrees with tcpdump');
    t.equal(p.tcp.parseOptions(o), 0);
  }
  parsePacket(fixture('lo-syn4.bin'), p);
  p.tcp.parseOptions(o);
  t.same([o.mss, o.sackPermitted, o.timestamps, o.tsVal, o.tsEcr, o.windowScale], [65495, true, true, 1111634256, 0, 10]);
  parsePacket(fixture('lo-syn6.bin'), p);
  t.equal(p.ip6.flowLabel(), 0x7cf4f);
  p.tcp.parseOptions(o);
  t.same([o.mss, o.windowScale], [65476, 10]);
});
