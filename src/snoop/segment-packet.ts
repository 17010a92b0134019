// The wire packet of one cached segment. A segment forwarded as it went on the wire is sent again
// byte for byte. A GSO packet (a queue with F_GSO hands over up to 64 KiB that the kernel cuts
// into MSS-sized segments only on output) is cached once and split into pieces of that size: a
// piece's packet is its headers with the piece's sequence number, lengths, flags (FIN and PSH on
// the last piece only) and checksums, and its own bytes of the payload, as the kernel's own
// segmentation would have made it.
import { put16, put32 } from '../packet/bytes.js';
import { parsePacket, type ParsedPacket } from '../packet/packet.js';
import { TcpField, TcpFlag } from '../packet/tcp.js';
import type { CachedSegment } from './segment-cache.js';

const IPV4_TOTAL_LENGTH = 2;
const IPV4_IDENT = 4;
const IPV6_PAYLOAD_LENGTH = 4;
const IPV6_HEADER_LEN = 40;

export function segmentPacket(s: CachedSegment, scratch: ParsedPacket): Buffer {
  const src = s.chunk.buf, base = s.offset;
  if (s.whole) return src.subarray(base, base + s.length);
  const h = s.headerLength, n = s.payloadLength, length = h + n;
  const out = Buffer.allocUnsafeSlow(length);
  src.copy(out, 0, base, base + h);
  src.copy(out, h, base + s.payloadStart, base + s.payloadStart + n);
  const version = out[0] >> 4;
  if (version === 4) {
    put16(out, IPV4_TOTAL_LENGTH, length);
    put16(out, IPV4_IDENT, (out.readUInt16BE(IPV4_IDENT) + s.piece) & 0xffff);
  } else {
    put16(out, IPV6_PAYLOAD_LENGTH, length - IPV6_HEADER_LEN);
  }
  if (parsePacket(out, scratch) !== 0) throw new Error('a cached GSO packet no longer parses');
  const tcp = scratch.tcp, t = tcp.off;
  put32(out, t + TcpField.SEQ, s.seq);
  if (!s.lastPiece) out[t + TcpField.FLAGS] &= ~(TcpFlag.FIN | TcpFlag.PSH);
  if (version === 4) scratch.ip4.fillChecksum();
  tcp.fillChecksum(scratch.ip());
  return out;
}
