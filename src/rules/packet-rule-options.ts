// What the packet pipeline's queue rules send to NFQUEUE: forwarded TCP through some interfaces
// (or, for given addresses, through any), optionally the host's own TCP, and the ICMP errors about
// those flows; never our own injections.
import { isIPv4, isIPv6 } from 'node:net';
import type { QueueTarget } from './queue-target.js';

export type QueueBackend = 'nft' | 'iptables';

/** Two sets of queue rules live side by side: the pipeline's (snoop, what `rules install` sets up
 *  for the service) and trace's, which the running trace rewrites as destinations come and go.
 *  A packet either set queues is queued once (the first rule that matches). */
export type RuleSet = 'queue' | 'trace';
export const RULE_SETS: readonly RuleSet[] = ['queue', 'trace'];

export interface PacketRuleOptions {
  /** default 'queue' */
  set?: RuleSet;
  queue: QueueTarget;
  /** queue forwarded TCP whose input or output interface is one of these; empty with <addresses>:
   *  forwarded TCP on any interface */
  forwardInterfaces: string[];
  /** queue only TCP to or from one of these IPv4/IPv6 addresses (a family with none has no TCP
   *  rule); the ICMP errors are not filtered by address (routers on the path send them) */
  addresses?: string[];
  /** with <addresses>: queue every TCP packet up to SMALL_PACKET bytes (ACKs, trace's answers) but
   *  only one in this many larger ones, enough to follow a flow; the rest go on without the detour */
  sampleLarge?: number;
  /** also queue the host's own TCP: leaving it (OUTPUT) and addressed to it (INPUT) */
  local?: boolean;
  /** also queue ICMP/ICMPv6 errors related to queued flows (conntrack RELATED) */
  icmpRelated: boolean;
  /** packets carrying every bit of this mark (our raw-socket injections) are never queued */
  injectionMark: number;
  /** default: nft when the kernel has its queue expression (detectQueueBackend), else iptables */
  backend?: QueueBackend;
}

/** What status needs to know: which backend to look at and whether local chains belong. */
export type PacketStatusOptions = Pick<PacketRuleOptions, 'backend' | 'local' | 'set'>;

export type Family = 'v4' | 'v6';

/** The largest packet (IP length) that <sampleLarge> always queues: a TCP ACK with every option. */
export const SMALL_PACKET = 256;

/** The addresses of one family, or undefined when TCP is not filtered by address. */
export function familyAddresses(o: PacketRuleOptions, family: Family): string[] | undefined {
  return o.addresses?.filter(family === 'v4' ? (a) => isIPv4(a) : (a) => isIPv6(a));
}

export function checkAddresses(addresses: string[] | undefined): void {
  if (addresses === undefined) return;
  if (addresses.length === 0) throw new Error('packet rules: an empty address list would queue no TCP at all');
  const bad = addresses.find((a) => !isIPv4(a) && !isIPv6(a));
  if (bad !== undefined) throw new Error(`packet rules: ${JSON.stringify(bad)} is not an IPv4 or IPv6 address`);
}

/** What the rules queue, in words (a component's description). */
export function describeQueued(o: PacketRuleOptions): string {
  const tcp = o.addresses ? `TCP to or from ${o.addresses.join(', ')}` : 'TCP';
  const where = o.forwardInterfaces.length > 0 ? `through ${o.forwardInterfaces.join(', ')}` : o.addresses ? 'on any interface' : '';
  const parts = [where ? `forwarded ${tcp} ${where}` : '', o.local ? `local ${tcp}` : '', o.icmpRelated ? 'related ICMP errors' : ''];
  return parts.filter((p) => p !== '').join(', ');
}
