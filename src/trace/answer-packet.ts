// The destination's answer to a probe is a real ACK of the flow, and may say something new (a
// later acknowledgment, a window): then it goes on to the client without the D-SACK block that
// answered the probe, so the client never hears of a segment it did not send. Same length (for
// conntrack), the freed bytes NOPs, the checksum made again.
import { parsePacket, type ParsedPacket } from '../packet/packet.js';
import { TCP_HEADER_LEN, TcpOptionKind } from '../packet/tcp.js';

const SACK_BLOCK = 8;

/** A copy of <packet> (IP + TCP) whose first SACK block is gone; null when it has no SACK option. */
export function withoutFirstSackBlock(packet: Buffer, scratch: ParsedPacket): Buffer | null {
  const out = Buffer.from(packet);
  if (parsePacket(out, scratch) !== 0) return null;
  const tcp = scratch.tcp;
  const end = tcp.off + tcp.headerLength();
  for (let p = tcp.off + TCP_HEADER_LEN; p < end; ) {
    const kind = out[p];
    if (kind === TcpOptionKind.EOL) return null;
    if (kind === TcpOptionKind.NOP) {
      p++;
      continue;
    }
    const n = p + 1 < end ? out[p + 1] : 0;
    if (n < 2 || p + n > end) return null;
    if (kind === TcpOptionKind.SACK) {
      if (n <= 2 + SACK_BLOCK) out.fill(TcpOptionKind.NOP, p, p + n);
      else {
        out.copy(out, p + 2, p + 2 + SACK_BLOCK, p + n);
        out[p + 1] = n - SACK_BLOCK;
        out.fill(TcpOptionKind.NOP, p + n - SACK_BLOCK, p + n);
      }
      if (scratch.version === 4) scratch.ip4.fillChecksum();
      tcp.fillChecksum(scratch.ip());
      return out;
    }
    p += n;
  }
  return null;
}
