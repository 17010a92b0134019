// Builds IPv4/IPv6 packets carrying a TCP segment or an ICMP error, for tests and for the probe
// engine. Each packet is sized first, allocated once, written front to back, and its checksums
// are filled last. Builders throw (RangeError) on impossible specs: those are programmer errors.
import { EMPTY, put16, put32 } from './bytes.js';
import { checksum } from './checksum.js';
import { ICMP_EXT_HEADER_LEN, ICMP_EXT_VERSION, ICMP_HEADER_LEN, ICMP_MIN_ORIGINAL_LEN, ICMP_OBJECT_HEADER_LEN, hasLengthAttribute, IcmpExtField, IcmpField, IcmpObjectField, IcmpView, MPLS_CLASS, MPLS_CTYPE } from './icmp.js';
import { IpProto } from './ip.js';
import { IPV4_DF, IPV4_HEADER_LEN, IPV4_MAX_HEADER_LEN, IPV4_MF, Ipv4Field, Ipv4View } from './ipv4.js';
import { IPV6_HEADER_LEN, Ipv6Field, Ipv6View } from './ipv6.js';
import { TCP_HEADER_LEN, TCP_MAX_HEADER_LEN, TcpField, TcpOptionKind, TcpView } from './tcp.js';

/**
 * As gopacket's SerializeOptions. When an option is false, the fields it covers are written from
 * the spec as given (0 when absent), so tests can build deliberately broken packets.
 */
export interface BuildOptions {
  /** IPv4 header and total length, IPv6 payload length, TCP data offset, RFC 4884 length. Default true. */
  fixLengths?: boolean;
  /** IPv4 header, TCP, ICMP and RFC 4884 extension checksums. Default true. */
  computeChecksums?: boolean;
}

export interface Ipv4Spec {
  version: 4;
  src: string | Uint8Array;
  dst: string | Uint8Array;
  ttl?: number;
  ident?: number;
  dscp?: number;
  ecn?: number;
  /** Default true. */
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In bytes, a multiple of 8. */
  fragmentOffset?: number;
  /** Whole 32-bit words, at most 40 bytes. */
  options?: Uint8Array;
  /** Default: that of the transport built. */
  protocol?: number;
  /** Used only without fixLengths; in bytes. */
  headerLength?: number;
  totalLength?: number;
  /** Used only without computeChecksums. */
  checksum?: number;
}

export interface Ipv6ExtensionSpec {
  /** HOP_BY_HOP, ROUTING, FRAGMENT, DEST_OPTIONS, or any number. */
  type: number;
  /** The bytes after the next-header and length bytes; 2 + body.length must be a multiple of 8. */
  body: Uint8Array;
}

export interface Ipv6Spec {
  version: 6;
  src: string | Uint8Array;
  dst: string | Uint8Array;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Written in order; each header's length byte follows its body. */
  extensions?: Ipv6ExtensionSpec[];
  /** Used only without fixLengths. */
  payloadLength?: number;
}

export type IpSpec = Ipv4Spec | Ipv6Spec;

export interface TcpSpec {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  /** TcpFlag bits. */
  flags: number;
  /** Default 65535. */
  window?: number;
  urgent?: number;
  /** Raw option bytes (see encodeTcpOptions), padded with zeros (EOL) to whole words. */
  options?: Uint8Array;
  payload?: Uint8Array;
  /** Used only without fixLengths; in bytes. */
  headerLength?: number;
  /** Used only without computeChecksums. */
  checksum?: number;
}

export interface MplsEntrySpec {
  label: number;
  tc?: number;
  ttl: number;
  /** Default: set on the last entry only. */
  bottom?: boolean;
}

export interface IcmpErrorSpec {
  type: number;
  code: number;
  /** Bytes 4-7 (MTU, pointer, gateway); the RFC 4884 length byte is written over it. */
  rest?: number;
  /** The original datagram bytes to quote, already cut to size. */
  quote: Uint8Array;
  /** Appends an RFC 4884 extension holding one RFC 4950 label stack object (top entry first). */
  mpls?: MplsEntrySpec[];
  /** Used only without fixLengths, in the attribute's units (0 is the pre-RFC 4884 layout). */
  lengthAttribute?: number;
  /** Used only without computeChecksums. */
  checksum?: number;
  extensionChecksum?: number;
}

export interface TcpOptionsSpec {
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  /** [tsVal, tsEcr]. */
  timestamps?: [number, number];
  /** [left, right] edges, 1 to 4 blocks. */
  sack?: Array<[number, number]>;
}

const K = TcpOptionKind;

/** Options as Linux lays them out, every one aligned on a word with NOPs. */
export function encodeTcpOptions(o: TcpOptionsSpec): Buffer {
  const bytes: number[] = [];
  const word32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  if (o.mss !== undefined) bytes.push(K.MSS, 4, o.mss >>> 8, o.mss & 0xff);
  if (o.timestamps) {
    bytes.push(...(o.sackPermitted ? [K.SACK_PERMITTED, 2] : [K.NOP, K.NOP]), K.TIMESTAMPS, 10);
    bytes.push(...word32(o.timestamps[0]), ...word32(o.timestamps[1]));
  } else if (o.sackPermitted) {
    bytes.push(K.NOP, K.NOP, K.SACK_PERMITTED, 2);
  }
  if (o.windowScale !== undefined) bytes.push(K.NOP, K.WINDOW_SCALE, 3, o.windowScale);
  if (o.sack) {
    if (o.sack.length < 1 || o.sack.length > 4) throw new RangeError(`sack: ${o.sack.length} blocks (1 to 4)`);
    bytes.push(K.NOP, K.NOP, K.SACK, 2 + 8 * o.sack.length);
    for (const [left, right] of o.sack) bytes.push(...word32(left), ...word32(right));
  }
  return Buffer.from(bytes);
}

export function tcpPacketLength(ip: IpSpec, tcp: TcpSpec): number {
  return ipHeaderLength(ip) + tcpHeaderLength(tcp) + (tcp.payload?.length ?? 0);
}

export function buildTcpPacket(ip: IpSpec, tcp: TcpSpec, opts: BuildOptions = {}): Buffer {
  const buf = Buffer.alloc(tcpPacketLength(ip, tcp));
  writeTcpPacket(buf, 0, ip, tcp, opts);
  return buf;
}

/** Writes the packet at buf[off]; returns its length. */
export function writeTcpPacket(buf: Buffer, off: number, ip: IpSpec, tcp: TcpSpec, opts: BuildOptions = {}): number {
  const total = tcpPacketLength(ip, tcp);
  if (off + total > buf.length) throw new RangeError(`packet of ${total} bytes does not fit`);
  const hl = tcpHeaderLength(tcp);
  const fix = opts.fixLengths ?? true;
  const o = writeIp(buf, off, ip, IpProto.TCP, total, opts);
  put16(buf, o + TcpField.SRC_PORT, tcp.srcPort);
  put16(buf, o + TcpField.DST_PORT, tcp.dstPort);
  put32(buf, o + TcpField.SEQ, tcp.seq);
  put32(buf, o + TcpField.ACK, tcp.ack ?? 0);
  buf[o + TcpField.DATA_OFFSET] = ((fix ? hl : (tcp.headerLength ?? 0)) >> 2) << 4;
  buf[o + TcpField.FLAGS] = tcp.flags;
  put16(buf, o + TcpField.WINDOW, tcp.window ?? 65535);
  put16(buf, o + TcpField.CHECKSUM, tcp.checksum ?? 0);
  put16(buf, o + TcpField.URGENT, tcp.urgent ?? 0);
  const options = tcp.options ?? EMPTY;
  buf.set(options, o + TCP_HEADER_LEN);
  buf.fill(0, o + TCP_HEADER_LEN + options.length, o + hl);
  if (tcp.payload) buf.set(tcp.payload, o + hl);
  if (opts.computeChecksums ?? true) {
    tcpView.wrap(buf, o, off + total - o).fillChecksum(ipView(buf, off, ip));
    if (ip.version === 4) ip4View.fillChecksum();
  }
  return total;
}

export function icmpErrorLength(ip: IpSpec, icmp: IcmpErrorSpec): number {
  return ipHeaderLength(ip) + ICMP_HEADER_LEN + icmpBodyLength(ip, icmp);
}

export function buildIcmpError(ip: IpSpec, icmp: IcmpErrorSpec, opts: BuildOptions = {}): Buffer {
  const buf = Buffer.alloc(icmpErrorLength(ip, icmp));
  writeIcmpError(buf, 0, ip, icmp, opts);
  return buf;
}

/** Writes an ICMPv4 error (over IPv4) or ICMPv6 error (over IPv6) at buf[off]; returns its length. */
export function writeIcmpError(buf: Buffer, off: number, ip: IpSpec, icmp: IcmpErrorSpec, opts: BuildOptions = {}): number {
  const total = icmpErrorLength(ip, icmp);
  const { mpls } = icmp;
  const hasLength = hasLengthAttribute(ip.version, icmp.type);
  if (off + total > buf.length) throw new RangeError(`packet of ${total} bytes does not fit`);
  if (mpls && !hasLength) throw new RangeError(`ICMP type ${icmp.type} cannot carry an RFC 4884 extension`);
  if (mpls?.length === 0) throw new RangeError('mpls: empty label stack');
  const fix = opts.fixLengths ?? true, sums = opts.computeChecksums ?? true;
  const o = writeIp(buf, off, ip, ip.version === 4 ? IpProto.ICMP : IpProto.ICMPV6, total, opts);
  const end = off + total;
  buf[o + IcmpField.TYPE] = icmp.type;
  buf[o + IcmpField.CODE] = icmp.code;
  put16(buf, o + IcmpField.CHECKSUM, icmp.checksum ?? 0);
  put32(buf, o + IcmpField.REST, icmp.rest ?? 0);
  const body = o + ICMP_HEADER_LEN;
  buf.set(icmp.quote, body);
  if (hasLength) {
    const unit = ip.version === 4 ? 4 : 8;
    const computed = mpls ? paddedQuoteLength(ip, icmp) / unit : 0;
    buf[o + (ip.version === 4 ? IcmpField.LENGTH_V4 : IcmpField.LENGTH_V6)] = fix ? computed : (icmp.lengthAttribute ?? 0);
  }
  if (mpls) {
    const e = body + paddedQuoteLength(ip, icmp);
    buf.fill(0, body + icmp.quote.length, e);
    buf[e] = ICMP_EXT_VERSION << 4;
    buf[e + 1] = 0;
    put16(buf, e + IcmpExtField.CHECKSUM, sums ? 0 : (icmp.extensionChecksum ?? 0));
    const obj = e + ICMP_EXT_HEADER_LEN;
    put16(buf, obj + IcmpObjectField.LENGTH, ICMP_OBJECT_HEADER_LEN + 4 * mpls.length);
    buf[obj + IcmpObjectField.CLASS] = MPLS_CLASS;
    buf[obj + IcmpObjectField.CTYPE] = MPLS_CTYPE;
    mpls.forEach((m, i) => {
      const bottom = m.bottom ?? i === mpls.length - 1;
      put32(buf, obj + ICMP_OBJECT_HEADER_LEN + 4 * i, (m.label << 12) | ((m.tc ?? 0) << 9) | (bottom ? 0x100 : 0) | m.ttl);
    });
    if (sums) put16(buf, e + IcmpExtField.CHECKSUM, checksum(buf, e, end - e));
  }
  if (sums) {
    icmpView(ip).wrap(buf, o, end - o).fillChecksum(ipView(buf, off, ip));
    if (ip.version === 4) ip4View.fillChecksum();
  }
  return total;
}

// Views the builder writes checksums through; one each, reused.
const ip4View = new Ipv4View();
const ip6View = new Ipv6View();
const tcpView = new TcpView();
const icmp4View = new IcmpView(4);
const icmp6View = new IcmpView(6);

function ipView(buf: Buffer, off: number, ip: IpSpec): Ipv4View | Ipv6View {
  return ip.version === 4 ? ip4View.wrap(buf, off, ipHeaderLength(ip)) : ip6View.wrap(buf, off, IPV6_HEADER_LEN);
}

function icmpView(ip: IpSpec): IcmpView {
  return ip.version === 4 ? icmp4View : icmp6View;
}

function ipHeaderLength(ip: IpSpec): number {
  if (ip.version === 4) {
    const n = ip.options?.length ?? 0;
    if (n % 4 !== 0 || IPV4_HEADER_LEN + n > IPV4_MAX_HEADER_LEN) throw new RangeError(`IPv4 options: ${n} bytes`);
    return IPV4_HEADER_LEN + n;
  }
  let n = IPV6_HEADER_LEN;
  for (const ext of ip.extensions ?? []) {
    if ((2 + ext.body.length) % 8 !== 0) throw new RangeError(`IPv6 extension ${ext.type}: body of ${ext.body.length} bytes`);
    n += 2 + ext.body.length;
  }
  return n;
}

function tcpHeaderLength(tcp: TcpSpec): number {
  const hl = TCP_HEADER_LEN + (((tcp.options?.length ?? 0) + 3) & ~3);
  if (hl > TCP_MAX_HEADER_LEN) throw new RangeError(`TCP options: ${tcp.options?.length} bytes`);
  return hl;
}

function paddedQuoteLength(ip: IpSpec, icmp: IcmpErrorSpec): number {
  const unit = ip.version === 4 ? 4 : 8;
  return Math.max(ICMP_MIN_ORIGINAL_LEN, Math.ceil(icmp.quote.length / unit) * unit);
}

function icmpBodyLength(ip: IpSpec, icmp: IcmpErrorSpec): number {
  if (!icmp.mpls) return icmp.quote.length;
  return paddedQuoteLength(ip, icmp) + ICMP_EXT_HEADER_LEN + ICMP_OBJECT_HEADER_LEN + 4 * icmp.mpls.length;
}

/** Writes the IP header(s) of a packet `total` bytes long; returns where the transport header goes. */
function writeIp(buf: Buffer, off: number, ip: IpSpec, protocol: number, total: number, opts: BuildOptions): number {
  const fix = opts.fixLengths ?? true;
  const hl = ipHeaderLength(ip);
  if (ip.version === 4) {
    buf[off + Ipv4Field.VERSION_IHL] = 0x40 | ((fix ? hl : (ip.headerLength ?? 0)) >> 2);
    buf[off + Ipv4Field.DSCP_ECN] = ((ip.dscp ?? 0) << 2) | (ip.ecn ?? 0);
    put16(buf, off + Ipv4Field.TOTAL_LENGTH, fix ? total : (ip.totalLength ?? 0));
    put16(buf, off + Ipv4Field.IDENT, ip.ident ?? 0);
    const flags = ((ip.dontFragment ?? true) ? IPV4_DF : 0) | (ip.moreFragments ? IPV4_MF : 0);
    put16(buf, off + Ipv4Field.FLAGS_FRAGMENT, flags | ((ip.fragmentOffset ?? 0) >> 3));
    buf[off + Ipv4Field.TTL] = ip.ttl ?? 64;
    buf[off + Ipv4Field.PROTOCOL] = ip.protocol ?? protocol;
    put16(buf, off + Ipv4Field.CHECKSUM, ip.checksum ?? 0);
    buf.set(addressBytes(ip.src, 4), off + Ipv4Field.SRC);
    buf.set(addressBytes(ip.dst, 4), off + Ipv4Field.DST);
    if (ip.options) buf.set(ip.options, off + IPV4_HEADER_LEN);
    return off + hl;
  }
  const exts = ip.extensions ?? [];
  put32(buf, off + Ipv6Field.VERSION_CLASS_FLOW, ((6 << 28) | ((ip.trafficClass ?? 0) << 20) | (ip.flowLabel ?? 0)) >>> 0);
  put16(buf, off + Ipv6Field.PAYLOAD_LENGTH, fix ? total - IPV6_HEADER_LEN : (ip.payloadLength ?? 0));
  buf[off + Ipv6Field.NEXT_HEADER] = exts.length > 0 ? exts[0].type : protocol;
  buf[off + Ipv6Field.HOP_LIMIT] = ip.hopLimit ?? 64;
  buf.set(addressBytes(ip.src, 16), off + Ipv6Field.SRC);
  buf.set(addressBytes(ip.dst, 16), off + Ipv6Field.DST);
  let p = off + IPV6_HEADER_LEN;
  exts.forEach((ext, i) => {
    buf[p] = i + 1 < exts.length ? exts[i + 1].type : protocol;
    buf[p + 1] = (2 + ext.body.length) / 8 - 1;
    buf.set(ext.body, p + 2);
    p += 2 + ext.body.length;
  });
  return p;
}

function addressBytes(a: string | Uint8Array, size: 4 | 16): Uint8Array {
  const bytes = typeof a !== 'string' ? a : size === 4 ? ipv4Bytes(a) : ipv6Bytes(a);
  if (bytes.length !== size) throw new RangeError(`address of ${bytes.length} bytes where ${size} are needed`);
  return bytes;
}

function ipv4Bytes(text: string): Uint8Array {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || !parts.every((n) => Number.isInteger(n) && n >= 0 && n <= 255)) {
    throw new RangeError(`not an IPv4 address: ${text}`);
  }
  return Uint8Array.from(parts);
}

function ipv6Bytes(text: string): Uint8Array {
  const halves = text.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves[1] ? halves[1].split(':') : [];
  const words = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  if (halves.length > 2 || words.length !== 8 || !words.every((w) => /^[0-9a-f]{1,4}$/i.test(w))) {
    throw new RangeError(`not an IPv6 address: ${text}`);
  }
  const out = Buffer.alloc(16);
  words.forEach((w, i) => put16(out, 2 * i, parseInt(w, 16)));
  return out;
}
