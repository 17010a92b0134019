// IPv6 header view (RFC 8200) over (buf, off, len), with the extension-header walk that finds the
// upper-layer protocol. check() does the walk, so its results are ready as soon as it passes.
import { put16, u16, u32 } from './bytes.js';
import { pseudoHeaderSum } from './checksum.js';
import { Reason } from './errors.js';
import { IpProto, ipv6Text } from './ip.js';
import { IpView } from './ip-view.js';

/** Byte offsets of the fixed header fields. */
export const Ipv6Field = {
  VERSION_CLASS_FLOW: 0,
  PAYLOAD_LENGTH: 4,
  NEXT_HEADER: 6,
  HOP_LIMIT: 7,
  SRC: 8,
  DST: 24,
} as const;

export const IPV6_HEADER_LEN = 40;

/** Offsets inside an extension header, relative to its start. */
export const Ipv6ExtField = {
  NEXT_HEADER: 0,
  /** Length in 8-byte units, not counting the first 8 (hop-by-hop, routing, destination options). */
  LENGTH: 1,
  /** Fragment header: offset (13 bits, 8-byte units) << 3 | M flag. */
  FRAGMENT_OFFSET_FLAGS: 2,
  FRAGMENT_IDENT: 4,
} as const;

export const IPV6_FRAGMENT_HEADER_LEN = 8;

const F = Ipv6Field;

export class Ipv6View extends IpView {
  private upperProto = 0;
  private upperOff = 0;
  private fragOff = 0;
  private fragMore = false;
  private fragIdent = -1;

  protected datagramLength(): number { return IPV6_HEADER_LEN + this.payloadLength(); }
  protected override checkRest(): number { return this.walk(); }

  protected checkHeader(): number {
    const { buf, off, len } = this;
    if (len < IPV6_HEADER_LEN || off + len > buf.length) return Reason.TRUNCATED;
    if (buf[off] >> 4 !== 6) return Reason.BAD_VERSION;
    return 0;
  }

  /**
   * Passes over hop-by-hop, routing, fragment and destination-options headers. It stops at
   * anything else, which is the upper layer as far as this codec goes: TCP, ICMPv6, but also
   * ESP, AH and no-next-header, whose contents it does not parse. After a fragment header with a
   * non-zero offset the rest is fragment data, so the walk stops there too.
   */
  private walk(): number {
    const b = this.buf, end = this.end;
    let next = b[this.off + F.NEXT_HEADER];
    let p = this.off + IPV6_HEADER_LEN;
    this.fragOff = 0;
    this.fragMore = false;
    this.fragIdent = -1;
    for (;;) {
      if (next === IpProto.HOP_BY_HOP || next === IpProto.ROUTING || next === IpProto.DEST_OPTIONS) {
        // RFC 8200 §4.1: hop-by-hop options may only come first.
        if (next === IpProto.HOP_BY_HOP && p !== this.off + IPV6_HEADER_LEN) return Reason.BAD_EXTENSION;
        if (p + 8 > end) return Reason.TRUNCATED;
        const size = (b[p + 1] + 1) << 3;
        if (p + size > end) return Reason.TRUNCATED;
        next = b[p];
        p += size;
      } else if (next === IpProto.FRAGMENT) {
        if (p + IPV6_FRAGMENT_HEADER_LEN > end) return Reason.TRUNCATED;
        const w = u16(b, p + Ipv6ExtField.FRAGMENT_OFFSET_FLAGS);
        this.fragOff = w & 0xfff8;
        this.fragMore = (w & 1) !== 0;
        this.fragIdent = u32(b, p + Ipv6ExtField.FRAGMENT_IDENT);
        next = b[p];
        p += IPV6_FRAGMENT_HEADER_LEN;
        if (this.fragOff !== 0) break;
      } else {
        break;
      }
    }
    this.upperProto = next;
    this.upperOff = p;
    return 0;
  }

  version(): number { return this.buf[this.off] >> 4; }
  trafficClass(): number { return (u16(this.buf, this.off) >> 4) & 0xff; }
  dscp(): number { return this.trafficClass() >> 2; }
  ecn(): number { return this.trafficClass() & 3; }
  flowLabel(): number { return u32(this.buf, this.off) & 0xfffff; }
  payloadLength(): number { return u16(this.buf, this.off + F.PAYLOAD_LENGTH); }
  nextHeader(): number { return this.buf[this.off + F.NEXT_HEADER]; }
  hopLimit(): number { return this.buf[this.off + F.HOP_LIMIT]; }
  src(): Buffer { return this.buf.subarray(this.off + F.SRC, this.off + F.SRC + 16); }
  dst(): Buffer { return this.buf.subarray(this.off + F.DST, this.off + F.DST + 16); }
  srcText(): string { return ipv6Text(this.buf, this.off + F.SRC); }
  dstText(): string { return ipv6Text(this.buf, this.off + F.DST); }

  /** The next header after the extension headers (TCP, ICMPv6, ESP, AH, no-next-header, ...). */
  upperProtocol(): number { return this.upperProto; }
  /** Absolute offset in buf of that header. */
  upperOffset(): number { return this.upperOff; }
  /** From the fragment header, in bytes; 0 when there is none. */
  fragmentOffset(): number { return this.fragOff; }
  moreFragments(): boolean { return this.fragMore; }
  /** The fragment header's identification, or -1 without one. */
  fragmentIdent(): number { return this.fragIdent; }
  /** The upper-layer bytes, extension headers excluded. */
  payload(): Buffer { return this.buf.subarray(this.upperOff, this.end); }

  /** The destination used is the header's: with a routing header it should be the final one (RFC 8200 §8.1). */
  pseudoHeaderSum(protocol: number, length: number): number {
    return pseudoHeaderSum(this.buf, this.off + F.SRC, 32, protocol, length);
  }

  setHopLimit(n: number): void { this.buf[this.off + F.HOP_LIMIT] = n; }
  /** Moves the end of the datagram: call check() again before reading the payload. */
  setPayloadLength(n: number): void { put16(this.buf, this.off + F.PAYLOAD_LENGTH, n); }
}
