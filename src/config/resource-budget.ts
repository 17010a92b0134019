// Limits derived from what the host allows, so that a default configuration degrades by
// refusing new connections, never by resetting healthy ones or by starving its own pipes.
import type { SystemLimits } from './system-limits.js';

/** A relayed connection holds 2 sockets and, while bytes are in flight both ways, 2 pipes of 2 fds. */
export const FDS_PER_CONNECTION = 6;
/** Node.js itself, the listeners, the metrics endpoint, the log, the engine's epoll and spare fd. */
export const FDS_RESERVED = 64;
/** Pipe capacity a process keeps idle for reuse when no quota constrains it. */
export const PIPE_KEEP_BYTES = 16 << 20;
/** Share of the user's pipe quota that all idle pools together may hold; the rest is for bytes in flight. */
const IDLE_SHARE_OF_QUOTA = 4;

export interface PipeBudget {
  /** buffer-size as it can take effect: at most the largest pipe this process may make */
  bufferSize: number;
  /** idle pipe capacity this process keeps */
  keepBytes: number;
  /** what the budget changed, for a warning at startup */
  notes: string[];
}

/** The size the kernel gives a pipe asked for <bytes>: a power of two pages. */
export function pipeSize(bytes: number): number {
  let size = 4096;
  while (size < bytes) size *= 2;
  return size;
}

export function pipeBudget(bufferSize: number, workers: number, limits: SystemLimits): PipeBudget {
  const notes: string[] = [];
  let size = bufferSize;
  if (limits.pipeMaxBytes !== null && pipeSize(bufferSize) > limits.pipeMaxBytes) {
    size = limits.pipeMaxBytes;
    notes.push(`buffer-size ${bufferSize} is more than fs.pipe-max-size (${size}), the largest pipe a process without CAP_SYS_RESOURCE may make: using ${size}`);
  }
  const quota = limits.pipeQuotaBytes;
  const keepBytes = quota === null ? PIPE_KEEP_BYTES : Math.min(PIPE_KEEP_BYTES, Math.floor(quota / (IDLE_SHARE_OF_QUOTA * workers)));
  return { bufferSize: size, keepBytes, notes };
}

/** The default max-connections: what the open-file limit serves with every pipe in use; 0: no limit. */
export function derivedMaxConnections(limits: SystemLimits, budget: PipeBudget): number {
  if (limits.openFiles === null) return 0;
  const idlePipeFds = 2 * Math.ceil(budget.keepBytes / budget.bufferSize);
  return Math.max(1, Math.floor((limits.openFiles - FDS_RESERVED - idlePipeFds) / FDS_PER_CONNECTION));
}
