// The kernel's own counters for a queue (/proc/net/netfilter/nfnetlink_queue, per network
// namespace): what it dropped because the queue was full or could not reach us.
import { readFileSync } from 'node:fs';

export interface KernelQueueStats {
  /** netlink port id of the socket bound to the queue */
  portId: number;
  /** packets queued now, waiting for a verdict */
  waiting: number;
  copyRange: number;
  /** dropped because the queue held maxLen packets */
  queueDropped: number;
  /** dropped because the netlink socket buffer was full */
  userDropped: number;
  /** id of the last packet queued */
  lastId: number;
}

export const KERNEL_QUEUE_STATS_PATH = '/proc/net/netfilter/nfnetlink_queue';

export function parseKernelQueueStats(text: string, queue: number): KernelQueueStats | null {
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length < 8 || f[0] !== queue) continue;
    return { portId: f[1], waiting: f[2], copyRange: f[4], queueDropped: f[5], userDropped: f[6], lastId: f[7] };
  }
  return null;
}

/** null when the queue is not bound in this namespace or the file cannot be read. */
export function readKernelQueueStats(queue: number): KernelQueueStats | null {
  try {
    return parseKernelQueueStats(readFileSync(KERNEL_QUEUE_STATS_PATH, 'utf8'), queue);
  } catch {
    return null;
  }
}
