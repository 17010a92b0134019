// The proxy control plane: owns the native engine, its listeners, the per-connection log and
// the drain on shutdown. Every decision is made here; the engine only moves bytes.
import type { ProxyOptions } from '../config/proxy-options.js';
import { formatEndpoint, type Endpoint } from '../config/address.js';
import { StartupError } from '../errors.js';
import type { Addon, EngineStats, NativeEngine } from '../native/addon.js';
import { EventBatch } from '../native/event-record.js';
import type { Logger } from '../log/logger.js';
import { closeEntry, openEntry } from './connection-log.js';

export class Proxy {
  readonly #engine: NativeEngine;
  readonly #log: Logger;
  readonly #options: ProxyOptions;
  #idleWaiters: Array<() => void> = [];
  #closed = false;
  /** Every batch of engine events, after logging (metrics observe them here). */
  onBatch: (batch: EventBatch) => void = () => undefined;

  constructor(options: ProxyOptions, log: Logger, native: Addon) {
    this.#options = options;
    this.#log = log;
    this.#engine = new native.Engine((records) => this.#onEvents(records), options.engine);
  }

  /** Opens every listener; on failure closes what was opened and throws a StartupError. */
  listen(): Endpoint[] {
    const bound: Endpoint[] = [];
    for (const l of this.#options.listen) {
      try {
        const port = this.#engine.listen(l.host, l.port, { backlog: this.#options.backlog, reusePort: true, v6only: false });
        bound.push({ host: l.host, port });
      } catch (err) {
        this.close();
        throw listenError(l, err as NodeJS.ErrnoException);
      }
    }
    return bound;
  }

  /** Engine counters; null once the proxy is closed. */
  stats(): EngineStats | null {
    return this.#closed ? null : this.#engine.stats();
  }

  /** New settings for connections accepted from now on (SIGHUP). */
  configure(engine: ProxyOptions['engine']): void {
    if (!this.#closed) this.#engine.configure(engine);
  }

  /** Figures so far of connections open for at least <minAgeMs> (SAMPLE records). */
  sample(minAgeMs: number, slice: number, slices: number): EventBatch {
    return new EventBatch(this.#closed ? Buffer.alloc(0) : this.#engine.sample(minAgeMs, slice, slices));
  }

  /**
   * Stops accepting, lets open connections finish for up to <drainMs>, then resets the rest.
   * Resolves once every connection is gone.
   */
  async drain(drainMs: number): Promise<void> {
    if (this.#closed) return;
    this.#engine.stopListening();
    const active = this.#engine.stats().active;
    if (active > 0) {
      this.#log.info(`draining ${active} connection(s) for up to ${drainMs / 1000} s`);
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true))),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), drainMs))),
      ]);
      clearTimeout(timer);
      if (this.#closed) return;   // closed meanwhile (a second SIGTERM)
      if (!drained) {
        this.#log.warn(`drain timeout: resetting ${this.#engine.stats().active} connection(s)`);
        this.#onEvents(this.#engine.abortAll());
      }
    }
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onEvents(this.#engine.close());
    // A drain still waiting ends now, and its timer with it (it would hold the loop open).
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  #onEvents(records: Buffer): void {
    const batch = new EventBatch(records);
    // Objects and strings are made only for the lines that will be written.
    const debug = this.#log.isDebugEnabled(), info = this.#log.isInfoEnabled(), warn = this.#log.isWarnEnabled();
    for (let i = 0; i < batch.count; i++) {
      if (batch.isOpen(i)) {
        if (!debug) continue;
        const { message, fields } = openEntry(batch.open(i));
        this.#log.debug(message, fields);
      } else if (batch.reason(i) === 'error' ? warn : info) {
        const e = batch.close(i);
        const { message, fields } = closeEntry(e);
        this.#log.log(e.reason === 'error' ? 'warn' : 'info', message, fields);
      }
    }
    this.onBatch(batch);
    if (this.#idleWaiters.length > 0 && !this.#closed && this.#engine.stats().active === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }
}

function listenError(l: Endpoint, err: NodeJS.ErrnoException): StartupError {
  const where = formatEndpoint(l.host, l.port);
  if (err.code === 'EPERM' || err.code === 'EACCES') {
    return new StartupError(
      `cannot listen on ${where}: ${err.code} (a transparent listener needs CAP_NET_ADMIN or CAP_NET_RAW)`,
      'TI_ERR_LISTEN_PERMISSION',
    );
  }
  return new StartupError(`cannot listen on ${where}: ${err.message}`, 'TI_ERR_LISTEN');
}
