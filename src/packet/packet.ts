// One entry point for a packet from NFQUEUE or a raw socket: IPv4 or IPv6 from the IP header on.
import { Reason } from './errors.js';
import { IcmpView } from './icmp.js';
import { IpProto } from './ip.js';
import { Ipv4View } from './ipv4.js';
import { Ipv6View } from './ipv6.js';
import { TcpView } from './tcp.js';

/** What follows the IP headers, as far as parsePacket() looked. */
export const Transport = {
  /** Another protocol, or a non-first fragment: see `protocol` and `fragment`. */
  NONE: 0,
  TCP: 1,
  ICMP: 2,
} as const;

export type TransportKind = (typeof Transport)[keyof typeof Transport];

/** parsePacket()'s result: create one per worker and pass it to every call. */
export class ParsedPacket {
  /** Also verify the IPv4 header, TCP and ICMP checksums (BAD_CHECKSUM). Off by default, since
   *  NFQUEUE packets flagged CSUMNOTREADY hold only a partial TCP checksum. */
  verifyChecksums = false;

  /** 4 or 6 once the IP header(s) passed their check (even if the transport header did not), else 0. */
  version = 0;
  /** Upper-layer protocol number (after any IPv6 extension headers) and where it starts in buf. */
  protocol = 0;
  transportOffset = 0;
  transportLength = 0;
  /** A fragment other than the first: what follows the IP headers is not a transport header. */
  fragment = false;
  transport: TransportKind = Transport.NONE;

  readonly ip4 = new Ipv4View();
  readonly ip6 = new Ipv6View();
  readonly tcp = new TcpView();
  readonly icmp4 = new IcmpView(4);
  readonly icmp6 = new IcmpView(6);

  ip(): Ipv4View | Ipv6View { return this.version === 4 ? this.ip4 : this.ip6; }
  icmp(): IcmpView { return this.version === 4 ? this.icmp4 : this.icmp6; }
}

/**
 * Checks the IP header(s) of the packet at buf[off, off + len) and, when TCP or ICMP follows, that
 * header too. Returns 0 or a Reason; `out` says what was found. TCP options, ICMP quotes and
 * ICMP extensions are left to their own check methods, for the callers that need them.
 */
export function parsePacket(buf: Buffer, out: ParsedPacket, off = 0, len = buf.length - off): number {
  out.version = 0;
  out.transport = Transport.NONE;
  out.fragment = false;
  if (len < 1 || off + len > buf.length) return Reason.TRUNCATED;
  const version = buf[off] >> 4;
  let ip: Ipv4View | Ipv6View;
  if (version === 4) ip = out.ip4;
  else if (version === 6) ip = out.ip6;
  else return Reason.BAD_VERSION;
  const r = ip.wrap(buf, off, len).check();
  if (r !== 0) return r;
  if (out.verifyChecksums && version === 4 && !out.ip4.verifyChecksum()) return Reason.BAD_CHECKSUM;

  out.version = version;
  out.protocol = ip.upperProtocol();
  out.transportOffset = ip.upperOffset();
  out.transportLength = ip.end - out.transportOffset;
  if (ip.fragmentOffset() !== 0) {
    out.fragment = true;
    return 0;
  }
  // The transport checksum covers the whole datagram, which a first fragment is not.
  const verify = out.verifyChecksums && !ip.moreFragments();
  if (out.protocol === IpProto.TCP) {
    const tcp = out.tcp.wrap(buf, out.transportOffset, out.transportLength);
    const t = tcp.check();
    if (t !== 0) return t;
    if (verify && !tcp.verifyChecksum(ip)) return Reason.BAD_CHECKSUM;
    out.transport = Transport.TCP;
  } else if (out.protocol === (version === 4 ? IpProto.ICMP : IpProto.ICMPV6)) {
    const icmp = out.icmp().wrap(buf, out.transportOffset, out.transportLength);
    const t = icmp.check();
    if (t !== 0) return t;
    if (verify && !icmp.verifyChecksum(ip)) return Reason.BAD_CHECKSUM;
    out.transport = Transport.ICMP;
  }
  return 0;
}
