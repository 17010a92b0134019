// The NFQUEUE binding of a packet component from merged option values (--queue, --queue-maxlen).
import type { QueueRange } from '../nfq/queue.js';
import { wholeRange } from './numbers.js';
import type { Values } from './values.js';

export interface QueueOptions {
  queue: QueueRange;
  /** packets the kernel may hold for us */
  maxLen: number;
}

export function buildQueueOptions(v: Values): QueueOptions {
  return {
    queue: wholeRange(v.str('queue'), v.what('queue'), 0, 65535),
    maxLen: v.whole('queue-maxlen', 1, 1 << 24),
  };
}
