// A probe is built from the headers of the flow's latest packet toward the destination: the same
// addresses, ports, acknowledgment, window and timestamps (so every stateful box on the path
// takes it as the flow's), with
// - one byte of data at sequence number `seq`, a byte the destination has already acknowledged:
//   the destination's TCP finds it old, keeps nothing and answers at once with a D-SACK
//   [seq, seq + 1), so a probe that reaches it is recognised and nothing enters its stream;
// - the TTL or hop limit the probe may travel, and for IPv4 an IP ID of its own;
// - its SACK blocks turned into NOPs, and only the ACK flag: it tells the destination nothing.
// Unique (ident, seq) pairs are the probe's identity in the quotes of ICMP errors; the IPv6 flow
// label stays as it is (ECMP hashing).
import { put16, put32 } from '../packet/bytes.js';
import { parsePacket, Transport, type ParsedPacket } from '../packet/packet.js';
import { TCP_HEADER_LEN, TcpField, TcpFlag, TcpOptionKind } from '../packet/tcp.js';

const IPV4_TOTAL_LENGTH = 2;
const IPV4_IDENT = 4;
const IPV4_TTL = 8;
const IPV6_PAYLOAD_LENGTH = 4;
const IPV6_HOP_LIMIT = 7;
const IPV6_HEADER_LEN = 40;

/** The IP and TCP headers of a packet, copied: what probes are made from. */
export function probeTemplate(p: ParsedPacket): Buffer {
  const end = p.tcp.payloadOffset() - p.ip().off;
  return Buffer.from(p.ip().buf.subarray(p.ip().off, p.ip().off + end));
}

export interface ProbeSpec {
  ttl: number;
  /** IPv4 ID (ignored for IPv6) */
  ident: number;
  seq: number;
}

/** The probe packet; <scratch> is parsed over it (a template that no longer parses throws). */
export function buildProbe(template: Buffer, spec: ProbeSpec, scratch: ParsedPacket): Buffer {
  const h = template.length;
  const out = Buffer.allocUnsafe(h + 1);
  template.copy(out, 0);
  out[h] = 0;
  const version = out[0] >> 4;
  if (version === 4) {
    put16(out, IPV4_TOTAL_LENGTH, h + 1);
    put16(out, IPV4_IDENT, spec.ident & 0xffff);
    out[IPV4_TTL] = spec.ttl;
  } else {
    put16(out, IPV6_PAYLOAD_LENGTH, h + 1 - IPV6_HEADER_LEN);
    out[IPV6_HOP_LIMIT] = spec.ttl;
  }
  if (parsePacket(out, scratch) !== 0 || scratch.transport !== Transport.TCP) throw new Error('a probe template no longer parses as TCP');
  const t = scratch.tcp.off;
  put32(out, t + TcpField.SEQ, spec.seq);
  out[t + TcpField.FLAGS] = TcpFlag.ACK;
  blankSackBlocks(out, t + TCP_HEADER_LEN, t + scratch.tcp.headerLength());
  if (version === 4) scratch.ip4.fillChecksum();
  scratch.tcp.fillChecksum(scratch.ip());
  return out;
}

/** Turns every SACK option in [from, to) into NOPs. */
function blankSackBlocks(b: Buffer, from: number, to: number): void {
  for (let p = from; p < to; ) {
    const kind = b[p];
    if (kind === TcpOptionKind.EOL) return;
    if (kind === TcpOptionKind.NOP) {
      p++;
      continue;
    }
    const n = p + 1 < to ? b[p + 1] : 0;
    if (n < 2 || p + n > to) return;
    if (kind === TcpOptionKind.SACK) b.fill(TcpOptionKind.NOP, p, p + n);
    p += n;
  }
}
