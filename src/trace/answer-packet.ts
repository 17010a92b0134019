// The destination's answer to a probe is a real ACK of the flow, and may say something new (a
// later acknowledgment, a window): then it goes on to the client without the D-SACK block that
// answered the probe, so the client never hears of a segment it did not send. Same length (for
// conntrack), the freed bytes NOPs, the checksum made again.
import { parsePacket, type ParsedPacket } from '../packet/packet.js';
import { forEachTcpOption, TCP_HEADER_LEN, TcpOptionKind } from '../packet/tcp.js';

const SACK_BLOCK = 8;

/** A copy of <packet> (IP + TCP) whose first SACK block is gone; null when it has no SACK option. */
export function withoutFirstSackBlock(packet: Buffer, scratch: ParsedPacket): Buffer | null {
  const out = Buffer.from(packet);
  if (parsePacket(out, scratch) !== 0) return null;
  const tcp = scratch.tcp;
  let found = false;
  forEachTcpOption(out, tcp.off + TCP_HEADER_LEN, tcp.off + tcp.headerLength(), (kind, at, n) => {
    if (kind !== TcpOptionKind.SACK) return false;
    if (n <= 2 + SACK_BLOCK) out.fill(TcpOptionKind.NOP, at, at + n);
    else {
      out.copy(out, at + 2, at + 2 + SACK_BLOCK, at + n);
      out[at + 1] = n - SACK_BLOCK;
      out.fill(TcpOptionKind.NOP, at + n - SACK_BLOCK, at + n);
    }
    found = true;
    return true;
  });
  if (!found) return null;
  if (scratch.version === 4) scratch.ip4.fillChecksum();
  tcp.fillChecksum(scratch.ip());
  return out;
}
