// The kernel's own counters for queues (/proc/net/netfilter/nfnetlink_queue, per network
// namespace): what it dropped because a queue was full or could not reach us.
import { readFileSync } from 'node:fs';

export interface KernelQueueStats {
  queue: number;
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

/** A range's counters added up, with each queue's own. */
export interface KernelRangeStats {
  waiting: number;
  queueDropped: number;
  userDropped: number;
  queues: KernelQueueStats[];
}

export const KERNEL_QUEUE_STATS_PATH = '/proc/net/netfilter/nfnetlink_queue';

export function parseKernelQueueStats(text: string): KernelQueueStats[] {
  const out: KernelQueueStats[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length < 8 || f.some((n) => !Number.isFinite(n))) continue;
    out.push({ queue: f[0], portId: f[1], waiting: f[2], copyRange: f[4], queueDropped: f[5], userDropped: f[6], lastId: f[7] });
  }
  return out;
}

/** The bound queues of first..last in this namespace; [] when none is or the file cannot be read. */
export function readKernelQueueStats(first: number, last = first): KernelQueueStats[] {
  try {
    return parseKernelQueueStats(readFileSync(KERNEL_QUEUE_STATS_PATH, 'utf8')).filter((s) => s.queue >= first && s.queue <= last);
  } catch {
    return [];
  }
}

/** null when none of the queues is bound. */
export function sumKernelQueueStats(queues: KernelQueueStats[]): KernelRangeStats | null {
  if (queues.length === 0) return null;
  const sum = (k: 'waiting' | 'queueDropped' | 'userDropped'): number => queues.reduce((n, q) => n + q[k], 0);
  return { waiting: sum('waiting'), queueDropped: sum('queueDropped'), userDropped: sum('userDropped'), queues };
}
