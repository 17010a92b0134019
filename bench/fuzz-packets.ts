// `node dist/bench/fuzz-packets.js [count] [seed]`: feeds random and mutated packets (default
// 1,000,000) through parsePacket() and, for every packet check() accepts, through every accessor
// and every deeper check (TCP options, ICMP quote and extension). Prints the outcomes by reason
// and packets/s; exits 1 if anything threw or read outside the packet.
//
// Out-of-bounds reads are caught by difference: each packet is parsed twice, inside two large
// buffers whose bytes around it are poisoned with 0x00 in one and 0xff in the other. Any accessor
// result that depends on a byte outside the packet differs between the two runs.
import { pathToFileURL } from 'node:url';
import { FuzzCases } from './fuzz-cases.js';
import {
  IcmpView, Ipv4View, Ipv6View, mplsBottom, mplsLabel, mplsTc, mplsTtl, parsePacket, ParsedPacket, reasonName, segEnd,
  TcpOptions, TcpView, Transport,
} from '../src/packet/index.js';

/** Folds accessor results into one number, and checks returned subarrays lie inside the packet. */
export class Digest {
  h = 0;
  lo = 0;
  hi = 0;
  /** Set when a subarray reached outside [lo, hi). */
  outside = '';
  /** Deep-check outcomes, counted only when `counts` is set. */
  counts: Map<string, number> | null = null;

  num(v: number): void { this.h = Math.imul(this.h ^ (v | 0) ^ (v > 0xffffffff || !Number.isInteger(v) ? 0x55555555 : 0), 0x01000193); }
  bool(v: boolean): void { this.num(v ? 1 : 2); }
  text(s: string): void { for (let i = 0; i < s.length; i++) this.num(s.charCodeAt(i)); }
  bytes(what: string, b: Buffer): void {
    const start = b.byteOffset;
    if (start < this.lo || start + b.length > this.hi) this.outside ||= what;
    this.num(start - this.lo);
    this.num(b.length);
  }
  outcome(what: string, code: number): void {
    this.num(code);
    if (this.counts) {
      const key = `${what} ${reasonName(code)}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
  }
}

export type Exercise = (p: ParsedPacket, d: Digest) => void;

const opts = new TcpOptions();

function ip4(v: Ipv4View, d: Digest): void {
  d.num(v.version()); d.num(v.headerLength()); d.num(v.dscp()); d.num(v.ecn()); d.num(v.totalLength());
  d.num(v.ident()); d.bool(v.dontFragment()); d.bool(v.moreFragments()); d.num(v.fragmentOffset());
  d.num(v.ttl()); d.num(v.protocol()); d.num(v.checksum()); d.bool(v.verifyChecksum());
  d.bytes('ipv4 src', v.src()); d.bytes('ipv4 dst', v.dst()); d.text(v.srcText()); d.text(v.dstText());
  d.bytes('ipv4 options', v.options()); d.bytes('ipv4 payload', v.payload());
  d.num(v.upperProtocol()); d.num(v.upperOffset()); d.num(v.pseudoHeaderSum(6, 1000));
}

function ip6(v: Ipv6View, d: Digest): void {
  d.num(v.version()); d.num(v.trafficClass()); d.num(v.dscp()); d.num(v.ecn()); d.num(v.flowLabel());
  d.num(v.payloadLength()); d.num(v.nextHeader()); d.num(v.hopLimit());
  d.bytes('ipv6 src', v.src()); d.bytes('ipv6 dst', v.dst()); d.text(v.srcText()); d.text(v.dstText());
  d.num(v.upperProtocol()); d.num(v.upperOffset()); d.num(v.fragmentOffset()); d.bool(v.moreFragments());
  d.num(v.fragmentIdent()); d.bytes('ipv6 payload', v.payload()); d.num(v.pseudoHeaderSum(6, 1000));
}

function tcp(v: TcpView, p: ParsedPacket, d: Digest): void {
  d.num(v.srcPort()); d.num(v.dstPort()); d.num(v.seqNumber()); d.num(v.ackNumber()); d.num(v.headerLength());
  d.num(v.flags()); d.num(v.window()); d.num(v.checksum()); d.num(v.urgentPointer());
  d.bytes('tcp options', v.options()); d.bytes('tcp payload', v.payload()); d.num(v.payloadOffset());
  d.num(v.payloadLength()); d.num(segEnd(v)); d.bool(v.verifyChecksum(p.ip()));
  const r = v.parseOptions(opts);
  d.outcome('tcp options', r);
  if (r !== 0) return;
  d.num(opts.mss); d.num(opts.windowScale); d.bool(opts.sackPermitted); d.num(opts.sackCount);
  for (let i = 0; i < 2 * opts.sackCount; i++) d.num(opts.sackBlocks[i]);
  d.bool(opts.timestamps); d.num(opts.tsVal); d.num(opts.tsEcr);
}

function icmp(v: IcmpView, p: ParsedPacket, d: Digest): void {
  d.num(v.type()); d.num(v.code()); d.num(v.checksum()); d.num(v.restOfHeader()); d.bool(v.isError());
  d.bool(v.hasLengthAttribute()); d.num(v.originalLength()); d.num(v.mtu()); d.bytes('icmp quoted', v.quoted());
  d.bool(v.verifyChecksum(p.ip())); d.bool(v.hasExtension()); d.bytes('icmp extension', v.extension());
  const q = v.checkQuote();
  d.outcome(`icmpv${v.ipVersion} quote`, q);
  if (q === 0) {
    const quote = v.quote;
    d.num(quote.version); d.num(quote.protocol()); d.num(quote.transportOffset); d.num(quote.transportLength);
    d.num(quote.srcPort()); d.num(quote.dstPort()); d.num(quote.tcpSeqNumber()); d.bytes('quoted transport', quote.transport());
    if (quote.version === 4) ip4(quote.ip4, d);
    else ip6(quote.ip6, d);
  }
  const e = v.checkExtension();
  d.outcome(`icmpv${v.ipVersion} extension`, e);
  if (e !== 0) return;
  for (let i = 0; i < v.mplsCount(); i++) {
    const m = v.mplsEntry(i);
    d.num(mplsLabel(m)); d.num(mplsTc(m)); d.bool(mplsBottom(m)); d.num(mplsTtl(m));
  }
}

/** Every accessor of every view parsePacket() accepted. */
export function exerciseAll(p: ParsedPacket, d: Digest): void {
  d.num(p.version); d.num(p.protocol); d.num(p.transportOffset); d.num(p.transportLength); d.bool(p.fragment);
  if (p.version === 4) ip4(p.ip4, d);
  else ip6(p.ip6, d);
  if (p.transport === Transport.TCP) tcp(p.tcp, p, d);
  else if (p.transport === Transport.ICMP) icmp(p.icmp(), p, d);
}

export interface FuzzReport {
  cases: number;
  /** "parse <REASON>" and deeper "<check> <REASON>" counts. */
  outcomes: Map<string, number>;
  /** What went wrong, with the packet in hex; empty when all is well. */
  failures: string[];
  seconds: number;
}

const LEAD = 64;
const ROOM = 256 * 1024;

export function fuzzPackets(count: number, seed = 1, exercise: Exercise = exerciseAll): FuzzReport {
  const cases = new FuzzCases(seed);
  const a = Buffer.alloc(ROOM, 0x00), b = Buffer.alloc(ROOM, 0xff);
  const pa = new ParsedPacket(), pb = new ParsedPacket();
  const da = new Digest(), db = new Digest();
  const outcomes = new Map<string, number>();
  const failures: string[] = [];
  const started = process.hrtime.bigint();
  for (let n = 0; n < count && failures.length < 20; n++) {
    const pkt = cases.next();
    // A quarter with checksum verification; offsets vary so no alignment is assumed.
    pa.verifyChecksums = pb.verifyChecksums = (n & 3) === 0;
    const off = LEAD + (n & 7);
    pkt.copy(a, off);
    pkt.copy(b, off);
    try {
      const ra = run(a, off, pkt.length, pa, da, exercise, outcomes);
      const rb = run(b, off, pkt.length, pb, db, exercise, null);
      if (ra !== rb || da.h !== db.h) failures.push(`result depends on bytes outside the packet: ${pkt.toString('hex')}`);
      else if (da.outside) failures.push(`${da.outside} reaches outside the packet: ${pkt.toString('hex')}`);
    } catch (err) {
      failures.push(`${(err as Error).stack}\n  packet: ${pkt.toString('hex')}`);
    }
    a.fill(0x00, off, off + pkt.length);
    b.fill(0xff, off, off + pkt.length);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { cases: count, outcomes, failures, seconds };
}

function run(buf: Buffer, off: number, len: number, p: ParsedPacket, d: Digest, exercise: Exercise,
  counts: Map<string, number> | null): number {
  d.h = 0;
  d.lo = buf.byteOffset + off;
  d.hi = d.lo + len;
  d.outside = '';
  const r = parsePacket(buf, p, off, len);
  if (counts) {
    const key = `parse ${reasonName(r)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  d.counts = counts;
  if (r === 0) exercise(p, d);
  return r;
}

function main(): void {
  const count = Number(process.argv[2] ?? 1_000_000);
  const seed = Number(process.argv[3] ?? 1);
  const report = fuzzPackets(count, seed);
  const rows = [...report.outcomes].sort(([x], [y]) => x.localeCompare(y));
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [key, n] of rows) console.log(`${key.padEnd(width)}  ${String(n).padStart(9)}`);
  for (const f of report.failures) console.error(`FAIL ${f}`);
  console.log(`${report.cases} packets (seed ${seed}) in ${report.seconds.toFixed(2)} s: `
    + `${Math.round(report.cases / report.seconds).toLocaleString('en-US')} packets/s, ${report.failures.length} failures`);
  process.exitCode = report.failures.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
