// What the packet pipeline's queue rules send to NFQUEUE: forwarded TCP through some interfaces,
// optionally the host's own TCP, and the ICMP errors about those flows; never our own injections.
import type { QueueTarget } from './queue-target.js';

export type QueueBackend = 'nft' | 'iptables';

export interface PacketRuleOptions {
  queue: QueueTarget;
  /** queue forwarded TCP whose input or output interface is one of these */
  forwardInterfaces: string[];
  /** also queue the host's own TCP: leaving it (OUTPUT) and addressed to it (INPUT) */
  local?: boolean;
  /** queue only the TCP to or from these addresses (forwarded through any interface when no
   *  forward interface is given, and local when local is set) */
  addresses?: string[];
  /** also queue ICMP/ICMPv6 errors related to queued flows (conntrack RELATED) */
  icmpRelated: boolean;
  /** packets carrying every bit of this mark (our raw-socket injections) are never queued */
  injectionMark: number;
  /** default: nft when the kernel has its queue expression (detectQueueBackend), else iptables */
  backend?: QueueBackend;
}

/** What status needs to know: which backend to look at and whether local chains belong. */
export type PacketStatusOptions = Pick<PacketRuleOptions, 'backend' | 'local'>;
