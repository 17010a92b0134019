// The packet codec: zero-copy views over IPv4, IPv6, TCP and ICMP headers in Buffers.
//
// The contract, as smoltcp's wire module has it:
// - A view is re-pointed at a packet with wrap(buf, off, len); it allocates nothing and copies
//   nothing (payload() and the like return subarrays).
// - check() validates the length and every length field inside the header; it returns 0 or a
//   Reason code and never throws, whatever the bytes. After it returns 0, no accessor reads
//   outside [off, off + len). Setters of length fields void that guarantee until the next check().
// - Accessors of an unchecked view may return garbage; untrusted bytes must go through check().
// - The builders size, write and checksum whole packets; they throw on programmer errors.
export { Reason, reasonName } from './errors.js';
export { seqAdd, seqBetween, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';
export {
  checksum, fillRange, finishSum, foldSum, pseudoHeaderSum, sumWords, updateChecksum16, updateChecksum32, verifyRange,
} from './checksum.js';
export { IpProto, ipv4Text, ipv6Text, type PseudoHeaderSource } from './ip.js';
export { IPV4_DF, IPV4_FRAGMENT_MASK, IPV4_HEADER_LEN, IPV4_MAX_HEADER_LEN, IPV4_MF, Ipv4Field, Ipv4View } from './ipv4.js';
export { IPV6_FRAGMENT_HEADER_LEN, IPV6_HEADER_LEN, Ipv6ExtField, Ipv6Field, Ipv6View } from './ipv6.js';
export {
  segEnd, TCP_HEADER_LEN, TCP_MAX_HEADER_LEN, TCP_MAX_WINDOW_SCALE, TcpField, TcpFlag, TcpOptionKind, TcpOptions, TcpView,
} from './tcp.js';
export {
  ICMP_EXT_HEADER_LEN, ICMP_EXT_VERSION, ICMP_HEADER_LEN, ICMP_MIN_ORIGINAL_LEN, ICMP_OBJECT_HEADER_LEN,
  ICMPV4_CODE_FRAGMENTATION_NEEDED, hasLengthAttribute, IcmpExtField, IcmpField, IcmpObjectField, Icmpv4Type, Icmpv6Type, IcmpView,
  MPLS_CLASS, MPLS_CTYPE, mplsBottom, mplsLabel, mplsTc, mplsTtl, QuotedPacket,
} from './icmp.js';
export { parsePacket, ParsedPacket, Transport, type TransportKind } from './packet.js';
export {
  buildIcmpError, buildTcpPacket, encodeTcpOptions, icmpErrorLength, tcpPacketLength, writeIcmpError, writeTcpPacket,
  type BuildOptions, type IcmpErrorSpec, type IpSpec, type Ipv4Spec, type Ipv6ExtensionSpec, type Ipv6Spec,
  type MplsEntrySpec, type TcpOptionsSpec, type TcpSpec,
} from './build.js';
export * from './view.js';
