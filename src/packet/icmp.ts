// ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) view, for the error messages that quote a packet: the
// quoted packet through a checked inner view, the RFC 4884 length attribute and extension
// structure, and RFC 4950 MPLS label stacks in it.
import { EMPTY, u16, u32 } from './bytes.js';
import { fillRange, verifyRange } from './checksum.js';
import { Reason } from './errors.js';
import { IpProto, type PseudoHeaderSource } from './ip.js';
import { Ipv4View } from './ipv4.js';
import { Ipv6View } from './ipv6.js';
import { ByteView } from './view.js';

/** Byte offsets of the header fields. */
export const IcmpField = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  /** Bytes 4-7, whose meaning depends on the type. */
  REST: 4,
  /** RFC 4884 length attribute: ICMPv4 octet 5 in 32-bit words, ICMPv6 octet 4 in 64-bit words. */
  LENGTH_V4: 5,
  LENGTH_V6: 4,
  /** Next-hop MTU of an ICMPv4 "fragmentation needed" (RFC 1191). */
  NEXT_HOP_MTU_V4: 6,
  /** MTU of an ICMPv6 "packet too big". */
  MTU_V6: 4,
} as const;

export const ICMP_HEADER_LEN = 8;

export const Icmpv4Type = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
} as const;

export const ICMPV4_CODE_FRAGMENTATION_NEEDED = 4;

export const Icmpv6Type = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
} as const;

/** RFC 4884 extension header: version (high nibble of byte 0) and checksum; then objects. */
export const IcmpExtField = { VERSION: 0, CHECKSUM: 2 } as const;
/** RFC 4884 object header, relative to the object: total length, class-num, c-type. */
export const IcmpObjectField = { LENGTH: 0, CLASS: 2, CTYPE: 3 } as const;
export const ICMP_EXT_VERSION = 2;
export const ICMP_EXT_HEADER_LEN = 4;
export const ICMP_OBJECT_HEADER_LEN = 4;
/** RFC 4884: with an extension, the original datagram field holds at least 128 bytes. */
export const ICMP_MIN_ORIGINAL_LEN = 128;
/** RFC 4950: the MPLS label stack object. */
export const MPLS_CLASS = 1;
export const MPLS_CTYPE = 1;

/** RFC 792's minimum: the quote holds at least the first 8 bytes after the IP header(s). */
const MIN_QUOTED_TRANSPORT = 8;

/** The packet an ICMP error quotes: a checked IP header and at least 8 bytes of what follows it. */
export class QuotedPacket {
  readonly ip4 = new Ipv4View();
  readonly ip6 = new Ipv6View();
  /** 4 or 6 once check() passed, else 0. */
  version = 0;
  buf: Buffer = EMPTY;
  /** Absolute offset in buf of the quoted transport header. */
  transportOffset = 0;
  /** How many of its bytes are quoted: 8 or more. */
  transportLength = 0;

  check(buf: Buffer, off: number, len: number, version: 4 | 6): number {
    this.version = 0;
    this.buf = buf;
    if (len < 1) return Reason.TRUNCATED;
    if (buf[off] >> 4 !== version) return Reason.BAD_VERSION;
    const ip = version === 4 ? this.ip4 : this.ip6;
    const r = ip.wrap(buf, off, len).checkQuote();
    if (r !== 0) return r;
    // A later fragment quotes data, not a transport header.
    if (ip.fragmentOffset() !== 0) return Reason.UNSUPPORTED;
    this.transportOffset = ip.upperOffset();
    this.transportLength = ip.end - this.transportOffset;
    if (this.transportLength < MIN_QUOTED_TRANSPORT) return Reason.TRUNCATED;
    this.version = version;
    return 0;
  }

  ip(): Ipv4View | Ipv6View { return this.version === 4 ? this.ip4 : this.ip6; }
  protocol(): number { return this.ip().upperProtocol(); }
  /** TCP and UDP ports and the TCP sequence number: all in the guaranteed 8 bytes. */
  srcPort(): number { return u16(this.buf, this.transportOffset); }
  dstPort(): number { return u16(this.buf, this.transportOffset + 2); }
  tcpSeqNumber(): number { return u32(this.buf, this.transportOffset + 4); }
  /** The quoted transport bytes (8 or more: the acknowledgment number needs 12). */
  transport(): Buffer { return this.buf.subarray(this.transportOffset, this.transportOffset + this.transportLength); }
}

export class IcmpView extends ByteView {
  /** The quoted packet, valid after checkQuote() returned 0. */
  readonly quote = new QuotedPacket();
  private quoteEnd = 0;
  private extOff = -1;
  private mplsOff = 0;
  private mplsN = 0;

  /** ICMPv4 over IPv4, or ICMPv6 over IPv6. */
  constructor(readonly ipVersion: 4 | 6) {
    super();
  }

  /**
   * Validates the header and, for messages with an RFC 4884 length attribute, that the original
   * datagram it describes fits. An extension follows it only when the field is at least 128 bytes
   * (RFC 4884); otherwise any bytes after it are ignored. Without a length attribute, RFC 4884's
   * rule for non-compliant senders applies: an extension header with a valid version and
   * checksum right after 128 bytes of quote is taken as one (older MPLS routers send that).
   */
  check(): number {
    const { buf, off, len } = this;
    const end = off + len;
    this.quoteEnd = end;
    this.extOff = -1;
    this.mplsN = 0;
    if (len < ICMP_HEADER_LEN || end > buf.length) return Reason.TRUNCATED;
    if (!this.hasLengthAttribute()) return 0;
    const body = off + ICMP_HEADER_LEN;
    const orig = this.originalLength();
    if (orig === 0) {
      const e = body + ICMP_MIN_ORIGINAL_LEN;
      if (end - e >= ICMP_EXT_HEADER_LEN && buf[e] >> 4 === ICMP_EXT_VERSION
        && u16(buf, e + IcmpExtField.CHECKSUM) !== 0 && verifyRange(buf, e, end - e, 0)) {
        this.quoteEnd = this.extOff = e;
      }
      return 0;
    }
    if (body + orig > end) return Reason.TRUNCATED;
    this.quoteEnd = body + orig;
    if (orig >= ICMP_MIN_ORIGINAL_LEN && this.quoteEnd < end) this.extOff = this.quoteEnd;
    return 0;
  }

  type(): number { return this.buf[this.off + IcmpField.TYPE]; }
  code(): number { return this.buf[this.off + IcmpField.CODE]; }
  checksum(): number { return u16(this.buf, this.off + IcmpField.CHECKSUM); }
  restOfHeader(): number { return u32(this.buf, this.off + IcmpField.REST); }

  /** Whether the message quotes the packet that caused it. */
  isError(): boolean {
    const t = this.type();
    return this.ipVersion === 4
      ? t === Icmpv4Type.DEST_UNREACHABLE || t === Icmpv4Type.TIME_EXCEEDED || t === Icmpv4Type.PARAMETER_PROBLEM
        || t === Icmpv4Type.SOURCE_QUENCH || t === Icmpv4Type.REDIRECT
      : t >= Icmpv6Type.DEST_UNREACHABLE && t <= Icmpv6Type.PARAMETER_PROBLEM;
  }

  /** Whether the type carries the RFC 4884 length attribute. */
  hasLengthAttribute(): boolean { return hasLengthAttribute(this.ipVersion, this.type()); }

  /** The RFC 4884 length of the original datagram field in bytes (padding included); 0 when not given. */
  originalLength(): number {
    if (!this.hasLengthAttribute()) return 0;
    return this.ipVersion === 4 ? this.buf[this.off + IcmpField.LENGTH_V4] << 2 : this.buf[this.off + IcmpField.LENGTH_V6] << 3;
  }

  /** The MTU of an ICMPv6 packet-too-big or an ICMPv4 fragmentation-needed; 0 for other messages. */
  mtu(): number {
    const t = this.type();
    if (this.ipVersion === 6) return t === Icmpv6Type.PACKET_TOO_BIG ? u32(this.buf, this.off + IcmpField.MTU_V6) : 0;
    return t === Icmpv4Type.DEST_UNREACHABLE && this.code() === ICMPV4_CODE_FRAGMENTATION_NEEDED
      ? u16(this.buf, this.off + IcmpField.NEXT_HOP_MTU_V4)
      : 0;
  }

  /** The original datagram field: the quote, with any RFC 4884 padding, without the extension. */
  quoted(): Buffer { return this.buf.subarray(this.off + ICMP_HEADER_LEN, this.quoteEnd); }

  /** Opens the quoted packet as `quote`: UNSUPPORTED for messages that quote nothing. */
  checkQuote(): number {
    if (!this.isError()) return Reason.UNSUPPORTED;
    const start = this.off + ICMP_HEADER_LEN;
    return this.quote.check(this.buf, start, this.quoteEnd - start, this.ipVersion);
  }

  hasExtension(): boolean { return this.extOff >= 0; }
  /** The RFC 4884 extension structure (header and objects); empty without one. */
  extension(): Buffer {
    const end = this.off + this.len;
    return this.buf.subarray(this.extOff >= 0 ? this.extOff : end, end);
  }

  /**
   * Validates the extension structure and finds the first MPLS label stack object in it. Returns
   * 0 without an extension too. A zero checksum means the sender did not compute one (as Linux
   * reads it); version other than 2 is UNSUPPORTED.
   */
  checkExtension(): number {
    this.mplsN = 0;
    const e = this.extOff;
    if (e < 0) return 0;
    const b = this.buf, end = this.off + this.len;
    if (end - e < ICMP_EXT_HEADER_LEN) return Reason.TRUNCATED;
    if (b[e] >> 4 !== ICMP_EXT_VERSION) return Reason.UNSUPPORTED;
    if (u16(b, e + IcmpExtField.CHECKSUM) !== 0 && !verifyRange(b, e, end - e, 0)) return Reason.BAD_CHECKSUM;
    let mplsOff = 0, mplsN = 0;
    for (let p = e + ICMP_EXT_HEADER_LEN; p < end; ) {
      if (end - p < ICMP_OBJECT_HEADER_LEN) return Reason.BAD_EXTENSION;
      const n = u16(b, p + IcmpObjectField.LENGTH);
      if (n < ICMP_OBJECT_HEADER_LEN || p + n > end) return Reason.BAD_EXTENSION;
      if (b[p + IcmpObjectField.CLASS] === MPLS_CLASS && b[p + IcmpObjectField.CTYPE] === MPLS_CTYPE && mplsN === 0) {
        if (n === ICMP_OBJECT_HEADER_LEN || (n & 3) !== 0) return Reason.BAD_EXTENSION;
        mplsOff = p + ICMP_OBJECT_HEADER_LEN;
        mplsN = (n - ICMP_OBJECT_HEADER_LEN) >> 2;
      }
      p += n;
    }
    this.mplsOff = mplsOff;
    this.mplsN = mplsN;
    return 0;
  }

  /** Label stack entries found by checkExtension(). */
  mplsCount(): number { return this.mplsN; }
  /** Entry i (0 is the top of the stack), i < mplsCount(); take it apart with mplsLabel() and friends. */
  mplsEntry(i: number): number { return u32(this.buf, this.mplsOff + 4 * i); }

  verifyChecksum(ip: PseudoHeaderSource): boolean {
    return verifyRange(this.buf, this.off, this.len, this.pseudoSum(ip));
  }

  fillChecksum(ip: PseudoHeaderSource): void {
    fillRange(this.buf, this.off, this.len, this.pseudoSum(ip), this.off + IcmpField.CHECKSUM);
  }

  /** ICMPv6 covers a pseudo-header (RFC 4443 §2.3); ICMPv4 does not. */
  private pseudoSum(ip: PseudoHeaderSource): number {
    return this.ipVersion === 6 ? ip.pseudoHeaderSum(IpProto.ICMPV6, this.len) : 0;
  }
}

/** The ICMP types RFC 4884 gives a length attribute (and so may carry an extension). */
export function hasLengthAttribute(ipVersion: 4 | 6, type: number): boolean {
  return ipVersion === 4
    ? type === Icmpv4Type.DEST_UNREACHABLE || type === Icmpv4Type.TIME_EXCEEDED || type === Icmpv4Type.PARAMETER_PROBLEM
    : type === Icmpv6Type.DEST_UNREACHABLE || type === Icmpv6Type.TIME_EXCEEDED;
}

// RFC 3032 label stack entry: label (20 bits), traffic class (3), bottom of stack (1), TTL (8).
export function mplsLabel(entry: number): number { return entry >>> 12; }
export function mplsTc(entry: number): number { return (entry >>> 9) & 7; }
export function mplsBottom(entry: number): boolean { return (entry & 0x100) !== 0; }
export function mplsTtl(entry: number): number { return entry & 0xff; }
