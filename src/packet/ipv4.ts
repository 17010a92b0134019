// IPv4 header view (RFC 791) over (buf, off, len), re-pointed at each packet with wrap().
import { put16, u16 } from './bytes.js';
import { fillRange, pseudoHeaderSum, updateChecksum16, verifyRange } from './checksum.js';
import { Reason } from './errors.js';
import { ipv4Text } from './ip.js';
import { IpView } from './ip-view.js';

/** Byte offsets of the header fields. */
export const Ipv4Field = {
  VERSION_IHL: 0,
  DSCP_ECN: 1,
  TOTAL_LENGTH: 2,
  IDENT: 4,
  FLAGS_FRAGMENT: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
} as const;

export const IPV4_HEADER_LEN = 20;
export const IPV4_MAX_HEADER_LEN = 60;
/** Masks over the 16-bit flags/fragment-offset word. */
export const IPV4_DF = 0x4000;
export const IPV4_MF = 0x2000;
export const IPV4_FRAGMENT_MASK = 0x1fff;

const F = Ipv4Field;

export class Ipv4View extends IpView {
  protected datagramLength(): number { return this.totalLength(); }

  protected checkHeader(): number {
    const { buf, off, len } = this;
    if (len < IPV4_HEADER_LEN || off + len > buf.length) return Reason.TRUNCATED;
    if (buf[off] >> 4 !== 4) return Reason.BAD_VERSION;
    const hl = this.headerLength();
    if (hl < IPV4_HEADER_LEN) return Reason.BAD_HEADER_LENGTH;
    if (hl > len) return Reason.TRUNCATED;
    if (this.totalLength() < hl) return Reason.BAD_TOTAL_LENGTH;
    return 0;
  }

  version(): number { return this.buf[this.off] >> 4; }
  /** In bytes (IHL × 4). */
  headerLength(): number { return (this.buf[this.off] & 0x0f) << 2; }
  dscp(): number { return this.buf[this.off + F.DSCP_ECN] >> 2; }
  ecn(): number { return this.buf[this.off + F.DSCP_ECN] & 3; }
  totalLength(): number { return u16(this.buf, this.off + F.TOTAL_LENGTH); }
  ident(): number { return u16(this.buf, this.off + F.IDENT); }
  dontFragment(): boolean { return (u16(this.buf, this.off + F.FLAGS_FRAGMENT) & IPV4_DF) !== 0; }
  moreFragments(): boolean { return (u16(this.buf, this.off + F.FLAGS_FRAGMENT) & IPV4_MF) !== 0; }
  /** In bytes (the field counts 8-byte units). */
  fragmentOffset(): number { return (u16(this.buf, this.off + F.FLAGS_FRAGMENT) & IPV4_FRAGMENT_MASK) << 3; }
  ttl(): number { return this.buf[this.off + F.TTL]; }
  protocol(): number { return this.buf[this.off + F.PROTOCOL]; }
  checksum(): number { return u16(this.buf, this.off + F.CHECKSUM); }
  src(): Buffer { return this.buf.subarray(this.off + F.SRC, this.off + F.SRC + 4); }
  dst(): Buffer { return this.buf.subarray(this.off + F.DST, this.off + F.DST + 4); }
  srcText(): string { return ipv4Text(this.buf, this.off + F.SRC); }
  dstText(): string { return ipv4Text(this.buf, this.off + F.DST); }
  options(): Buffer { return this.buf.subarray(this.off + IPV4_HEADER_LEN, this.off + this.headerLength()); }

  /** The same as protocol(); IPv6 finds it after its extension headers. */
  upperProtocol(): number { return this.protocol(); }
  /** Absolute offset in buf of what follows the header. */
  upperOffset(): number { return this.off + this.headerLength(); }
  payload(): Buffer { return this.buf.subarray(this.upperOffset(), this.end); }

  verifyChecksum(): boolean { return verifyRange(this.buf, this.off, this.headerLength(), 0); }

  fillChecksum(): void { fillRange(this.buf, this.off, this.headerLength(), 0, this.off + F.CHECKSUM); }

  pseudoHeaderSum(protocol: number, length: number): number {
    return pseudoHeaderSum(this.buf, this.off + F.SRC, 8, protocol, length);
  }

  setChecksum(v: number): void { put16(this.buf, this.off + F.CHECKSUM, v); }
  setTtl(ttl: number): void { this.setWord(F.TTL, (ttl << 8) | this.protocol()); }
  setIdent(id: number): void { this.setWord(F.IDENT, id); }
  /** Moves the end of the datagram: call check() again before reading the payload. */
  setTotalLength(n: number): void { this.setWord(F.TOTAL_LENGTH, n); }

  /** Writes the 16-bit word at a field offset, updating the header checksum incrementally. */
  private setWord(field: number, word: number): void {
    const o = this.off + field;
    const old = u16(this.buf, o);
    put16(this.buf, o, word);
    this.setChecksum(updateChecksum16(this.checksum(), old, word));
  }
}
