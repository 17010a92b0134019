// Golden packets, hand-built byte by byte. Checksums were computed with an independent RFC 1071
// implementation (a few lines of Python), not with the codec under test.
//
// Addresses: host 192.0.2.1 / 2001:db8::1 talks to 198.51.100.2 / 2001:db8:1::2; a router at
// 203.0.113.9 / 2001:db8:ffff::9 answers with ICMP errors.

/** Bytes from hex chunks; spaces are for reading only. */
export function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
}

/** IPv4 + TCP SYN with options in Linux's order (60 bytes). */
export const TCP4_SYN = hex(
  '4500 003c', // version 4, IHL 5, DSCP 0, ECN 0, total length 60
  '1c46 4000', // ident 0x1c46, DF, fragment offset 0
  '4006 323f', // TTL 64, protocol 6, header checksum
  'c000 0201', // src 192.0.2.1
  'c633 6402', // dst 198.51.100.2
  '9c40 01bb', // TCP: src port 40000, dst port 443
  'ffff f000', // seq 0xfffff000
  '0000 0000', // ack 0
  'a002 faf0', // data offset 10 (40 bytes), SYN, window 64240
  'f099 0000', // checksum, urgent pointer 0
  '0204 05b4', // MSS 1460
  '0402 080a 0001 e240 0000 0000', // SACK permitted; timestamps val 123456 ecr 0
  '0103 0307', // NOP; window scale 7
);

/** IPv4 with options (IHL 6) and ECT(0) + TCP ACK|PSH, timestamps, payload "hello", then 3 bytes of link padding (64 bytes). */
export const TCP4_DATA = hex(
  '4602 003d', // version 4, IHL 6, DSCP 0, ECN 2 (ECT(0)), total length 61
  'beef 4000', // ident 0xbeef, DF
  '3f06 8d91', // TTL 63, protocol 6, header checksum
  'c000 0201', // src 192.0.2.1
  'c633 6402', // dst 198.51.100.2
  '0101 0100', // IP options: NOP NOP NOP EOL
  '01bb 9c40', // TCP: src port 443, dst port 40000
  '7fff fff0', // seq 0x7ffffff0
  '0000 0010', // ack 0x10
  '8018 0200', // data offset 8 (32 bytes), ACK|PSH, window 512
  '6226 0000', // checksum, urgent pointer 0
  '0101 080a 0001 e241 0001 e240', // NOP NOP; timestamps val 123457 ecr 123456
  '6865 6c6c 6f', // payload "hello"
  '0000 00', // link padding, outside the total length
);

/** IPv6 with a hop-by-hop header (PadN) + TCP ACK with one SACK block and 4 bytes of payload (84 bytes). */
export const TCP6_ACK = hex(
  '6b81 2345', // version 6, traffic class 0xb8 (DSCP 46, ECN 0), flow label 0x12345
  '002c 0040', // payload length 44, next header 0 (hop-by-hop), hop limit 64
  '2001 0db8 0000 0000 0000 0000 0000 0001', // src 2001:db8::1
  '2001 0db8 0001 0000 0000 0000 0000 0002', // dst 2001:db8:1::2
  '0600 0104 0000 0000', // hop-by-hop: next header 6, length 0 (8 bytes), PadN of 4
  '01bb 9c40', // TCP: src port 443, dst port 40000
  '7fff fff0', // seq 0x7ffffff0
  '0000 0010', // ack 0x10
  '8010 01f5', // data offset 8 (32 bytes), ACK, window 501
  '30b5 0000', // checksum, urgent pointer 0
  '0101 050a 0000 1000 0000 2000', // NOP NOP; SACK one block 0x1000-0x2000
  'dead beef', // payload
);

/** The router's IPv4 header in front of each ICMPv4 error below (TTL 249, protocol 1). */
const ROUTER4 = (totalLength: string, checksum: string): string => `4500 ${totalLength} 0000 0000 f901 ${checksum} cb00 7109 c000 0201`;

/** TCP4_SYN's IPv4 header as a router quotes it: TTL 1 (and its checksum). */
const SYN_TTL1_IP = '4500 003c 1c46 4000 0106 713f c000 0201 c633 6402';
/** TCP4_DATA's IPv4 header (with options) at TTL 1. */
const DATA_TTL1_IP = '4602 003d beef 4000 0106 cb91 c000 0201 c633 6402 0101 0100';

/** Time exceeded quoting the RFC 792 minimum: IP header + 8 bytes (ports and seq) (56 bytes). */
export const ICMP4_TE_SHORT = hex(
  ROUTER4('0038', 'c3b9'),
  '0b00 6703 0000 0000', // type 11 time exceeded, code 0, checksum, unused (length attribute 0)
  SYN_TTL1_IP,
  '9c40 01bb ffff f000', // ports 40000 -> 443, seq 0xfffff000
);

/** Time exceeded quoting the whole 60-byte SYN (88 bytes). */
export const ICMP4_TE_LONG = hex(
  ROUTER4('0058', 'c399'),
  '0b00 e165 0000 0000', // type 11, code 0, checksum
  SYN_TTL1_IP,
  '9c40 01bb ffff f000 0000 0000 a002 faf0 f099 0000 0204 05b4 0402 080a 0001 e240 0000 0000 0103 0307',
);

/** The 61-byte TCP4_DATA at TTL 1, padded with zeros to the 128-byte original datagram field. */
const DATA_QUOTE_128 = DATA_TTL1_IP
  + '01bb 9c40 7fff fff0 0000 0010 8018 0200 6226 0000 0101 080a 0001 e241 0001 e240 6865 6c6c 6f'
  + '00'.repeat(128 - 61);

/** RFC 4884 extension structure with an RFC 4950 MPLS label stack of two entries. */
const MPLS_EXTENSION =
  '2000 bd15' // version 2, reserved, checksum
  + '000c 0101' // object: length 12, class 1 (MPLS label stack), c-type 1
  + '05dc 1001' // label 24001, TC 0, S 0, TTL 1
  + '0001 0bff'; // label 16, TC 5, S 1 (bottom), TTL 255

/** RFC 4884 time exceeded: length attribute 32 words (128 bytes), then the MPLS extension (172 bytes). */
export const ICMP4_MPLS = hex(
  ROUTER4('00ac', 'c345'),
  '0b00 e142 0020 0000', // type 11, code 0, checksum, unused, length 32 (32-bit words), unused
  DATA_QUOTE_128,
  MPLS_EXTENSION,
);

/** The same message from a sender predating RFC 4884: length attribute 0, extension after exactly 128 bytes. */
export const ICMP4_MPLS_COMPAT = hex(
  ROUTER4('00ac', 'c345'),
  '0b00 e162 0000 0000', // type 11, code 0, checksum, length attribute 0
  DATA_QUOTE_128,
  MPLS_EXTENSION,
);

/** Fragmentation needed (next-hop MTU 1400) quoting an IPv4 header with options + 8 bytes (60 bytes). */
export const ICMP4_FRAG_NEEDED = hex(
  ROUTER4('003c', 'c3b5'),
  '0304 d997 0000 0578', // type 3 unreachable, code 4, checksum, unused, next-hop MTU 1400
  DATA_TTL1_IP,
  '01bb 9c40 7fff fff0', // ports 443 -> 40000, seq 0x7ffffff0
);

/** Time exceeded whose quote stops 4 bytes into the TCP header: too short to match (52 bytes). */
export const ICMP4_SHORT_QUOTE = hex(
  ROUTER4('0034', 'c3bd'),
  '0b00 5704 0000 0000',
  SYN_TTL1_IP,
  '9c40 01bb', // ports only
);

/** ICMPv6 time exceeded, RFC 4884 length 16 (64-bit words, 128 bytes) quoting TCP6_ACK at hop limit 1, then the MPLS extension (192 bytes). */
export const ICMP6_MPLS = hex(
  '6000 0000 0098 3a40', // version 6, payload length 152, next header 58 (ICMPv6), hop limit 64
  '2001 0db8 ffff 0000 0000 0000 0000 0009', // src 2001:db8:ffff::9
  '2001 0db8 0000 0000 0000 0000 0000 0001', // dst 2001:db8::1
  '0300 fae3 1000 0000', // type 3 time exceeded, code 0, checksum, length 16, unused
  '6b81 2345 002c 0001', // quoted IPv6 header: hop limit 1
  '2001 0db8 0000 0000 0000 0000 0000 0001 2001 0db8 0001 0000 0000 0000 0000 0002',
  '0600 0104 0000 0000', // quoted hop-by-hop
  '01bb 9c40 7fff fff0 0000 0010 8010 01f5 30b5 0000 0101 050a 0000 1000 0000 2000 dead beef',
  '00'.repeat(128 - 84), // padding to 128
  MPLS_EXTENSION,
);
