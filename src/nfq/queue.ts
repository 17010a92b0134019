// One NFQUEUE queue, or a balanced range of them on one socket: the handler sees each receive as
// a PacketBatch and decides each packet's verdict; a packet it leaves undecided, or every packet
// after a throw, gets the fallback verdict, so every queued packet gets exactly one verdict
// whatever the handler does.
import { addon, type NativePacketQueue, type QueueConfig, type QueueStats } from '../native/addon.js';
import { Code, PacketBatch, type PacketRef, type VerdictOptions } from './batch.js';
import { readKernelQueueStats, sumKernelQueueStats, type KernelRangeStats } from './kernel-stats.js';

/** Queues first..last, as iptables' NFQUEUE --queue-balance FIRST:LAST spreads flows over them. */
export interface QueueRange {
  first: number;
  last: number;
}

export interface QueueOptions {
  /** a queue number, or a balanced range */
  queue: number | QueueRange;
  /** packets the kernel holds for us, queued and not yet verdicted (default 4096) */
  maxLen?: number;
  /** bytes of each packet copied to us (default 65535: whole packets) */
  copyRange?: number;
  /** take GSO packets whole (NFQA_CFG_F_GSO); their checksums may be not ready */
  gso?: boolean;
  /** accept rather than drop what the kernel cannot queue for us */
  failOpen?: boolean;
  /** netlink receive buffer in bytes (default 8 MiB) */
  rcvbuf?: number;
  /** packets per receive (default 64) */
  batch?: number;
  /** verdict of undecided packets (default accept) */
  fallback?: 'accept' | 'drop';
  /** told about each handler exception (the batch's undecided packets already got the fallback) */
  onHandlerError?: (err: unknown) => void;
}

export type BatchHandler = (batch: PacketBatch) => void;

export interface PacketQueueStats extends QueueStats {
  handlerErrors: number;
  kernel: KernelRangeStats | null;
}

/** "queue 3" or "queues 0-3", for messages. */
export function describeQueues(r: QueueRange): string {
  return r.first === r.last ? `queue ${r.first}` : `queues ${r.first}-${r.last}`;
}

export class PacketQueue {
  readonly range: QueueRange;
  #native: NativePacketQueue | null;
  #batch: PacketBatch;
  #handlerErrors = 0;
  #flushPending = false;

  constructor(opts: QueueOptions, handler: BatchHandler) {
    this.range = typeof opts.queue === 'number' ? { first: opts.queue, last: opts.queue } : { ...opts.queue };
    const onError = opts.onHandlerError ?? (() => undefined);
    const onBatch = (count: number, area: ArrayBuffer): void => {
      this.#batch.reset(count, area);
      try {
        handler(this.#batch);
      } catch (err) {
        this.#handlerErrors++;
        onError(err);
      }
    };
    this.#native = bind(this.range, {
      maxLen: opts.maxLen ?? 4096,
      copyRange: opts.copyRange ?? 0xffff,
      gso: opts.gso ?? false,
      failOpen: opts.failOpen ?? false,
      rcvbuf: opts.rcvbuf ?? 8 << 20,
      batch: opts.batch ?? 64,
      fallbackDrop: opts.fallback === 'drop',
    }, onBatch);
    // acceptWith's verdicts go out with the batch's others when the handler returns.
    this.#batch = new PacketBatch(this.#native.meta, this.#native.codes,
      (index, o) => this.#live().acceptInBatch(index, o.mark ?? -1, o.packet));
  }

  /** The verdict of a held packet, optionally with a new mark or replacement; sent with the others
   *  made in the same turn of the event loop. Throws at once for a ref that is not held (never
   *  held, released already, or held in the batch still being handled). */
  verdict(ref: PacketRef, accept: boolean, opts?: VerdictOptions): void {
    const q = this.#live();
    q.verdict(ref, accept ? Code.ACCEPT : Code.DROP, opts?.mark ?? -1, opts?.packet);
    if (!this.#flushPending) {
      this.#flushPending = true;
      queueMicrotask(this.#flush);
    }
  }

  #flush = (): void => {
    this.#flushPending = false;
    this.#native?.flush();
  };

  stats(): PacketQueueStats {
    const kernel = sumKernelQueueStats(readKernelQueueStats(this.range.first, this.range.last));
    return { ...this.#live().stats(), handlerErrors: this.#handlerErrors, kernel };
  }

  /** Accepts everything still held or waiting, then unbinds (the kernel would drop them otherwise).
   *  Bounded in time. null, or an error naming the first step the kernel failed or never
   *  acknowledged (code ETIMEDOUT): then packets still queued may have been dropped. */
  close(): Error | null {
    const failure = this.#native?.close() ?? null;
    this.#native = null;
    return failure === null ? null : new Error(`closing ${describeQueues(this.range)}: ${failure.message}; packets still queued may have been dropped`);
  }

  get closed(): boolean {
    return this.#native === null;
  }

  #live(): NativePacketQueue {
    if (!this.#native) throw new Error(`${describeQueues(this.range)} is closed`);
    return this.#native;
  }
}

/** The kernel answers EPERM both without CAP_NET_ADMIN and for a queue another socket holds. */
function bind(range: QueueRange, config: QueueConfig, onBatch: (count: number, area: ArrayBuffer) => void): NativePacketQueue {
  try {
    return new (addon().PacketQueue)(range.first, range.last, config, onBatch);
  } catch (err) {
    const { code, queue } = err as NodeJS.ErrnoException & { queue?: number };
    const [owner] = code === 'EPERM' && queue !== undefined ? readKernelQueueStats(queue) : [];
    if (!owner) throw err;
    throw Object.assign(new Error(`queue ${queue} is already bound by another socket (netlink port ${owner.portId})`), { code: 'EBUSY', queue });
  }
}
