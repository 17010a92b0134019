// TCP header view (RFC 9293) over (buf, off, len), where len is the segment length the IP layer
// gives (header + payload); re-pointed at each packet with wrap().
import { put16, put32, u16, u32 } from './bytes.js';
import { fillRange, updateChecksum16, updateChecksum32, verifyRange } from './checksum.js';
import { Reason } from './errors.js';
import { IpProto, type PseudoHeaderSource } from './ip.js';
import { ByteView } from './view.js';

/** Byte offsets of the header fields. */
export const TcpField = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  /** Data offset in the high nibble, in 32-bit words. */
  DATA_OFFSET: 12,
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
} as const;

export const TCP_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;

export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
} as const;

/** RFC 7323 §2.3: the largest window scale shift. */
export const TCP_MAX_WINDOW_SCALE = 14;

const F = TcpField;
const K = TcpOptionKind;

/** What parseOptions() found; one object, reused for every segment. -1 means absent. */
export class TcpOptions {
  mss = -1;
  /** Shift count, already clamped to 14. */
  windowScale = -1;
  sackPermitted = false;
  /** Number of SACK blocks (0-4); block i is sackBlocks[2i] (left edge) to sackBlocks[2i + 1] (right edge). */
  sackCount = 0;
  readonly sackBlocks = new Uint32Array(8);
  timestamps = false;
  tsVal = 0;
  tsEcr = 0;

  reset(): void {
    this.mss = -1;
    this.windowScale = -1;
    this.sackPermitted = false;
    this.sackCount = 0;
    this.timestamps = false;
    this.tsVal = 0;
    this.tsEcr = 0;
  }
}

export class TcpView extends ByteView {

  /** Validates the fixed header and the data offset. Options are checked by parseOptions(). */
  check(): number {
    if (this.len < TCP_HEADER_LEN || this.off + this.len > this.buf.length) return Reason.TRUNCATED;
    const hl = this.headerLength();
    if (hl < TCP_HEADER_LEN) return Reason.BAD_HEADER_LENGTH;
    if (hl > this.len) return Reason.TRUNCATED;
    return 0;
  }

  srcPort(): number { return u16(this.buf, this.off + F.SRC_PORT); }
  dstPort(): number { return u16(this.buf, this.off + F.DST_PORT); }
  seqNumber(): number { return u32(this.buf, this.off + F.SEQ); }
  ackNumber(): number { return u32(this.buf, this.off + F.ACK); }
  /** In bytes (data offset × 4). */
  headerLength(): number { return (this.buf[this.off + F.DATA_OFFSET] >> 4) << 2; }
  /** The eight flag bits (TcpFlag masks). */
  flags(): number { return this.buf[this.off + F.FLAGS]; }
  window(): number { return u16(this.buf, this.off + F.WINDOW); }
  checksum(): number { return u16(this.buf, this.off + F.CHECKSUM); }
  urgentPointer(): number { return u16(this.buf, this.off + F.URGENT); }
  options(): Buffer { return this.buf.subarray(this.off + TCP_HEADER_LEN, this.off + this.headerLength()); }
  payloadOffset(): number { return this.off + this.headerLength(); }
  payloadLength(): number { return this.len - this.headerLength(); }
  payload(): Buffer { return this.buf.subarray(this.payloadOffset(), this.off + this.len); }

  /**
   * Walks the options into `out`. Returns BAD_OPTION for a length byte that is missing, below 2,
   * runs past the header, or is wrong for its kind; unknown kinds are passed over by their length.
   */
  parseOptions(out: TcpOptions): number {
    out.reset();
    const b = this.buf;
    const end = this.off + this.headerLength();
    for (let p = this.off + TCP_HEADER_LEN; p < end; ) {
      const kind = b[p];
      if (kind === K.EOL) break;
      if (kind === K.NOP) {
        p++;
        continue;
      }
      if (p + 2 > end) return Reason.BAD_OPTION;
      const n = b[p + 1];
      if (n < 2 || p + n > end) return Reason.BAD_OPTION;
      switch (kind) {
        case K.MSS:
          if (n !== 4) return Reason.BAD_OPTION;
          out.mss = u16(b, p + 2);
          break;
        case K.WINDOW_SCALE:
          if (n !== 3) return Reason.BAD_OPTION;
          // RFC 7323 §2.3: "If a Window Scale option is received with a shift.cnt value larger
          // than 14, the TCP SHOULD log the error but MUST use 14 instead of the specified value."
          out.windowScale = Math.min(b[p + 2], TCP_MAX_WINDOW_SCALE);
          break;
        case K.SACK_PERMITTED:
          if (n !== 2) return Reason.BAD_OPTION;
          out.sackPermitted = true;
          break;
        case K.SACK: {
          // 1 to 4 blocks of 8 bytes (no more than 4 fit in 40 bytes of options).
          const count = (n - 2) >> 3;
          if (count < 1 || n !== 2 + 8 * count) return Reason.BAD_OPTION;
          for (let i = 0; i < 2 * count; i++) out.sackBlocks[i] = u32(b, p + 2 + 4 * i);
          out.sackCount = count;
          break;
        }
        case K.TIMESTAMPS:
          if (n !== 10) return Reason.BAD_OPTION;
          out.timestamps = true;
          out.tsVal = u32(b, p + 2);
          out.tsEcr = u32(b, p + 6);
          break;
      }
      p += n;
    }
    return 0;
  }

  verifyChecksum(ip: PseudoHeaderSource): boolean {
    return verifyRange(this.buf, this.off, this.len, ip.pseudoHeaderSum(IpProto.TCP, this.len));
  }

  fillChecksum(ip: PseudoHeaderSource): void {
    fillRange(this.buf, this.off, this.len, ip.pseudoHeaderSum(IpProto.TCP, this.len), this.off + F.CHECKSUM);
  }

  // In-place rewrites that keep a correct checksum correct (RFC 1624), without re-summing the payload.
  setSeqNumber(v: number): void { this.setWord32(F.SEQ, v); }
  setAckNumber(v: number): void { this.setWord32(F.ACK, v); }
  setWindow(v: number): void {
    const o = this.off + F.WINDOW, old = u16(this.buf, o);
    put16(this.buf, o, v);
    this.setChecksum(updateChecksum16(this.checksum(), old, v));
  }

  setChecksum(v: number): void { put16(this.buf, this.off + F.CHECKSUM, v); }

  private setWord32(field: number, v: number): void {
    const o = this.off + field, old = u32(this.buf, o);
    put32(this.buf, o, v);
    this.setChecksum(updateChecksum32(this.checksum(), old, v));
  }
}

/** The sequence number after the segment: seq + payload length + SYN + FIN, modulo 2^32. */
export function segEnd(tcp: TcpView): number {
  const f = tcp.flags();
  return (tcp.seqNumber() + tcp.payloadLength() + (f & TcpFlag.SYN ? 1 : 0) + (f & TcpFlag.FIN ? 1 : 0)) >>> 0;
}

/**
 * Calls <visit> with the kind, offset and length of each option in b[from, to) (the options of a
 * TCP header), NOPs passed over; stops at EOL, at a length that does not fit, or when <visit>
 * returns true.
 */
export function forEachTcpOption(b: Buffer, from: number, to: number, visit: (kind: number, at: number, length: number) => boolean | void): void {
  for (let p = from; p < to; ) {
    const kind = b[p];
    if (kind === TcpOptionKind.EOL) return;
    if (kind === TcpOptionKind.NOP) {
      p++;
      continue;
    }
    const n = p + 1 < to ? b[p + 1] : 0;
    if (n < 2 || p + n > to || visit(kind, p, n) === true) return;
    p += n;
  }
}
