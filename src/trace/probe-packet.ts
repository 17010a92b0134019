// A probe is built from the headers of the flow's latest packet toward the destination: the same
// addresses, ports, acknowledgment, window and timestamps (so every stateful box on the path
// takes it as the flow's), with
// - one byte of data at sequence number `seq`, at least two bytes below the destination's latest
//   acknowledgment: below what it last announced (rcv_wup), so its TCP finds the segment out of
//   the window, drops it before reading the acknowledgment or the window, and answers with a
//   duplicate ACK carrying a D-SACK [seq, seq + 1) (at most one per 500 ms, the kernel's
//   tcp_invalid_ratelimit): a probe that reaches it is recognised and nothing enters its stream,
//   yet it stays inside the window that conntrack on the path accepts;
// - the TTL or hop limit the probe may travel, and for IPv4 an IP ID of its own;
// - its SACK blocks turned into NOPs, and only the ACK flag: it tells the destination nothing.
// Unique (ident, seq) pairs are the probe's identity in the quotes of ICMP errors; the IPv6 flow
// label stays as it is (ECMP hashing).
import { put16, put32 } from '../packet/bytes.js';
import { parsePacket, Transport, type ParsedPacket } from '../packet/packet.js';
import { forEachTcpOption, TCP_HEADER_LEN, TcpField, TcpFlag, TcpOptionKind } from '../packet/tcp.js';

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

/**
 * The headers of a packet from the destination, turned around: addresses, ports, sequence and
 * acknowledgment, and the timestamps (its echo becomes our value, so PAWS takes it) swapped. For
 * a flow whose packets toward the destination are all large (an upload), which the queue rules
 * leave unseen. A probe is old data out of the window, so the destination never reads its
 * acknowledgment or window (see the top of this file).
 */
export function reversedTemplate(p: ParsedPacket): Buffer {
  const out = probeTemplate(p);
  const [a, b, n] = out[0] >> 4 === 4 ? [12, 16, 4] : [8, 24, 16];
  const src = Buffer.from(out.subarray(a, a + n));
  out.copy(out, a, b, b + n);
  src.copy(out, b);
  const t = p.tcp.off - p.ip().off;
  const sport = out.readUInt16BE(t), seq = out.readUInt32BE(t + TcpField.SEQ);
  out.writeUInt16BE(out.readUInt16BE(t + 2), t);
  out.writeUInt16BE(sport, t + 2);
  out.writeUInt32BE(out.readUInt32BE(t + TcpField.ACK), t + TcpField.SEQ);
  out.writeUInt32BE(seq, t + TcpField.ACK);
  swapTimestamps(out, t + TCP_HEADER_LEN, t + p.tcp.headerLength());
  return out;
}

function swapTimestamps(b: Buffer, from: number, to: number): void {
  forEachTcpOption(b, from, to, (kind, at, n) => {
    if (kind !== TcpOptionKind.TIMESTAMPS || n !== 10) return;
    const value = b.readUInt32BE(at + 2);
    b.writeUInt32BE(b.readUInt32BE(at + 6), at + 2);
    b.writeUInt32BE(value, at + 6);
  });
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
  forEachTcpOption(b, from, to, (kind, at, n) => {
    if (kind === TcpOptionKind.SACK) b.fill(TcpOptionKind.NOP, at, at + n);
  });
}
