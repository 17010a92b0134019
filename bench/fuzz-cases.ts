// Seeded random and mutated packets for fuzzing the codec (fuzz-packets.ts and its test):
// valid packets of every shape the codec parses, then bit flips, truncations, corrupted length
// fields, garbage TCP options, extra bytes, or plain random bytes behind a 4 or 6 version nibble.
import {
  buildIcmpError, buildTcpPacket, encodeTcpOptions, icmpErrorLength, type IcmpErrorSpec, type Ipv4Spec, type Ipv6Spec, type TcpSpec,
} from '../src/packet/build.js';
import { IpProto } from '../src/packet/ip.js';
import { IPV6_HEADER_LEN } from '../src/packet/ipv6.js';
import { parsePacket, ParsedPacket, Transport } from '../src/packet/packet.js';
import { TcpFlag } from '../src/packet/tcp.js';

/** xorshift32: small, fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 0x9e3779b9; }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (this.s = s >>> 0);
  }
  below(n: number): number { return this.next() % n; }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.next();
    return b;
  }
}

interface Seed {
  bytes: Buffer;
  /** Offsets of bytes that belong to length fields, at any depth. */
  lengths: number[];
  /** TCP options region [start, end), or null. */
  options: [number, number] | null;
}

function seedPackets(): Buffer[] {
  const syn: TcpSpec = {
    srcPort: 40000, dstPort: 443, seq: 0xfffff000, flags: TcpFlag.SYN,
    options: encodeTcpOptions({ mss: 1460, sackPermitted: true, timestamps: [1, 0], windowScale: 7 }),
  };
  const data: TcpSpec = {
    srcPort: 443, dstPort: 40000, seq: 0x7fffffff, ack: 1, flags: TcpFlag.ACK | TcpFlag.PSH,
    options: encodeTcpOptions({ timestamps: [5, 6], sack: [[10, 20], [30, 40], [50, 60]] }), payload: Buffer.alloc(100, 0x61),
  };
  const ack: TcpSpec = { srcPort: 22, dstPort: 50000, seq: 1, ack: 2, flags: TcpFlag.ACK | TcpFlag.ECE | TcpFlag.CWR };
  const v4: Ipv4Spec = { version: 4, src: '192.0.2.1', dst: '198.51.100.2' };
  const v6: Ipv6Spec = { version: 6, src: '2001:db8::1', dst: '2001:db8:1::2' };
  const ipOptions = Buffer.from([7, 7, 4, 0, 0, 0, 0, 1]);   // record route with one empty slot, then NOP
  const exts = [
    { type: IpProto.HOP_BY_HOP, body: Buffer.from([1, 4, 0, 0, 0, 0]) },
    { type: IpProto.DEST_OPTIONS, body: Buffer.alloc(14) },
    { type: IpProto.ROUTING, body: Buffer.from([4, 0, 0, 0, 0, 0]) },
    { type: IpProto.FRAGMENT, body: Buffer.from([0, 1, 0, 0, 0, 7]) },
  ];
  const tcp4 = buildTcpPacket(v4, data);
  const tcp6 = buildTcpPacket(v6, data);
  const mpls = [{ label: 24001, tc: 0, ttl: 1 }, { label: 16, tc: 5, ttl: 255 }];
  const router4: Ipv4Spec = { version: 4, src: '203.0.113.9', dst: '192.0.2.1' };
  const router6: Ipv6Spec = { version: 6, src: '2001:db8:ffff::9', dst: '2001:db8::1' };
  // The layout of senders that predate RFC 4884: extension after 128 bytes, length attribute 0.
  const compat: IcmpErrorSpec = { type: 11, code: 0, quote: tcp4.subarray(0, 128), mpls, lengthAttribute: 0 };
  const compatIp: Ipv4Spec = { ...router4, headerLength: 20, totalLength: icmpErrorLength(router4, compat) };
  return [
    buildTcpPacket(v4, syn),
    tcp4,
    buildTcpPacket({ ...v4, options: ipOptions, moreFragments: true }, ack),
    buildTcpPacket({ ...v4, fragmentOffset: 1480 }, ack),
    buildTcpPacket(v6, syn),
    buildTcpPacket({ ...v6, extensions: exts }, ack),
    buildTcpPacket({ ...v6, extensions: [{ type: IpProto.DEST_OPTIONS, body: Buffer.alloc(6) }] }, ack),
    buildIcmpError(router4, { type: 11, code: 0, quote: tcp4.subarray(0, 28) }),
    buildIcmpError(router4, { type: 11, code: 0, quote: tcp4.subarray(0, 140), mpls }),
    buildIcmpError(compatIp, compat, { fixLengths: false }),
    buildIcmpError(router4, { type: 3, code: 4, rest: 1400, quote: buildTcpPacket({ ...v4, options: ipOptions }, ack) }),
    buildIcmpError(router4, { type: 0, code: 0, rest: 0x12340001, quote: Buffer.from('ping') }),
    buildIcmpError(router6, { type: 3, code: 0, quote: tcp6.subarray(0, 150), mpls }),
    buildIcmpError(router6, { type: 1, code: 4, quote: buildTcpPacket({ ...v6, extensions: exts.slice(0, 2) }, ack) }),
    buildIcmpError(router6, { type: 2, code: 0, rest: 1280, quote: tcp6.subarray(0, 48) }),
  ];
}

/** Finds the length fields and the TCP options of a valid packet by parsing it. */
function describe(bytes: Buffer, p: ParsedPacket): Seed {
  const lengths: number[] = [];
  let options: [number, number] | null = null;
  const ipFields = (off: number, version: number): void => {
    if (version === 4) {
      lengths.push(off, off + 2, off + 3);
      return;
    }
    lengths.push(off + 4, off + 5);
    // Extension header length bytes.
    let next = bytes[off + 6], q = off + IPV6_HEADER_LEN;
    while (next === IpProto.HOP_BY_HOP || next === IpProto.ROUTING || next === IpProto.DEST_OPTIONS || next === IpProto.FRAGMENT) {
      lengths.push(q + 1);
      const size = next === IpProto.FRAGMENT ? 8 : (bytes[q + 1] + 1) * 8;
      next = bytes[q];
      q += size;
    }
  };
  if (parsePacket(bytes, p) !== 0) throw new Error('fuzz seed does not parse');
  ipFields(0, p.version);
  if (p.transport === Transport.TCP) {
    lengths.push(p.transportOffset + 12);
    options = [p.transportOffset + 20, p.tcp.payloadOffset()];
  } else if (p.transport === Transport.ICMP) {
    const icmp = p.icmp();
    lengths.push(icmp.off + 4, icmp.off + 5);
    if (icmp.checkQuote() === 0) {
      ipFields(icmp.off + 8, p.version);
      lengths.push(icmp.quote.transportOffset + 12);
    }
    if (icmp.hasExtension()) {
      const objectLength = icmp.off + icmp.len - icmp.extension().length + 4;
      lengths.push(objectLength, objectLength + 1);
    }
  }
  return { bytes, lengths, options };
}

export class FuzzCases {
  private readonly rng: Rng;
  private readonly seeds: Seed[];

  constructor(seed: number) {
    this.rng = new Rng(seed);
    const p = new ParsedPacket();
    this.seeds = seedPackets().map((b) => describe(b, p));
  }

  /** The valid packets mutations start from. */
  seedBytes(): Buffer[] { return this.seeds.map((s) => s.bytes); }

  /** A new packet: one in 16 is random bytes, the others a seed with one to three mutations. */
  next(): Buffer {
    const r = this.rng;
    if (r.below(16) === 0) {
      const b = r.bytes(r.below(120));
      if (b.length > 0) b[0] = (r.below(2) ? 0x40 : 0x60) | (b[0] & 0x0f);
      return b;
    }
    const seed = this.seeds[r.below(this.seeds.length)];
    let b = Buffer.from(seed.bytes);
    for (let n = 1 + r.below(3); n > 0; n--) {
      switch (r.below(6)) {
        case 0:   // bit flips
          for (let k = 1 + r.below(8); k > 0; k--) b[r.below(b.length)] ^= 1 << r.below(8);
          break;
        case 1:   // cut anywhere
          b = b.subarray(0, r.below(b.length + 1));
          break;
        case 2: { // a length field: random, or off by a little
          const at = seed.lengths[r.below(seed.lengths.length)];
          if (at < b.length) b[at] = r.below(2) ? r.next() : b[at] + r.below(5) - 2;
          break;
        }
        case 3:   // garbage TCP options, sometimes with a new data offset
          if (seed.options && seed.options[1] <= b.length) {
            const [start, end] = seed.options;
            b.set(r.bytes(end - start), start);
            if (r.below(2)) b[start - 8] = (b[start - 8] & 0x0f) | (r.below(16) << 4);
          }
          break;
        case 4:   // link padding or junk after the packet
          b = Buffer.concat([b, r.bytes(1 + r.below(32))]);
          break;
        case 5:   // one random byte anywhere
          if (b.length > 0) b[r.below(b.length)] = r.next();
          break;
      }
    }
    return b;
  }
}
