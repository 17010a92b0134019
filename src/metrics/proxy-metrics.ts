// The proxy's Prometheus metrics. Counters that the engine keeps (bytes, accepted, active) are
// read at scrape time; the rest is observed from event batches, without per-connection labels.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CloseReason, EngineStats } from '../native/addon.js';
import type { EventBatch, Leg } from '../native/event-record.js';

const RESULT_NOT_NAMED_AFTER_REASON: Partial<Record<CloseReason, string>> = {
  eof: 'completed', 'client-reset': 'reset', 'server-reset': 'reset', 'connect-timeout': 'timeout',
};

/** tcp_intercept_connections_total{result} of a close reason (the addon's names, in snake_case). */
export function resultLabel(reason: CloseReason): string {
  return RESULT_NOT_NAMED_AFTER_REASON[reason] ?? reason.replaceAll('-', '_');
}

const LEGS: readonly Leg[] = ['client', 'server'];

type Observer = ReturnType<Histogram['labels']>;
type Increment = ReturnType<Counter['labels']>;
interface LegHistograms { rtt: Observer; retrans: Observer; delivery: Observer; sndbufLimited: Observer; rwndLimited: Observer }

/** A labelled child resolved once per label value (labels() hashes its arguments every call);
 *  make is a bound function, so a hit allocates nothing. */
function cached<K, V>(map: Map<K, V>, key: K, make: (key: K) => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make(key)));
  return v;
}

export class ProxyMetrics {
  #stats: () => EngineStats | null = () => null;
  readonly #results: Counter;
  readonly #resets: Counter;
  readonly #connect: Histogram;
  readonly #duration: Histogram;
  readonly #rtt: Histogram;
  readonly #retrans: Histogram;
  readonly #delivery: Histogram;
  readonly #limited: Histogram;
  readonly #resultChildren = new Map<CloseReason, Increment>();
  readonly #resetChildren = new Map<Leg, Increment>();
  readonly #legs = { client: new Map<string, LegHistograms>(), server: new Map<string, LegHistograms>() };

  constructor(registry: Registry) {
    const registers = [registry];
    const stats = (): EngineStats | null => this.#stats();
    new Counter({
      name: 'tcp_intercept_connections_accepted_total', help: 'Connections accepted from TPROXY.', registers,
      collect() { this.reset(); this.inc(stats()?.accepted ?? 0); },
    });
    this.#results = new Counter({
      name: 'tcp_intercept_connections_total', help: 'Connections ended, by result: completed, or why not.', labelNames: ['result'], registers,
    });
    this.#resets = new Counter({
      name: 'tcp_intercept_resets_total', help: 'Connections ended by a reset or failure of one leg, by that leg.', labelNames: ['leg'], registers,
    });
    new Gauge({
      name: 'tcp_intercept_connections_active', help: 'Connections open now (connecting or relaying).', registers,
      collect() { this.set(stats()?.active ?? 0); },
    });
    const bytes = new Counter({
      name: 'tcp_intercept_bytes_total', help: 'Bytes relayed, by direction (open connections included).', labelNames: ['direction'], registers,
      collect() {
        const s = stats();
        bytes.reset();
        bytes.labels('client_to_server').inc(s?.bytesClientToServer ?? 0);
        bytes.labels('server_to_client').inc(s?.bytesServerToClient ?? 0);
      },
    });
    new Gauge({
      name: 'tcp_intercept_pipes', help: 'Splice pipes, in use (bytes in flight) or idle in the pool.', labelNames: ['state'], registers,
      collect() {
        const s = stats();
        this.labels('in_use').set(s?.pipesInUse ?? 0);
        this.labels('idle').set(s?.pipesIdle ?? 0);
      },
    });
    new Gauge({
      name: 'tcp_intercept_pipe_bytes', help: "Capacity of the splice pipes in use and idle: what the user's pipe quota (fs.pipe-user-pages-soft) counts.", labelNames: ['state'], registers,
      collect() {
        const s = stats();
        this.labels('in_use').set(s?.pipeBytesInUse ?? 0);
        this.labels('idle').set(s?.pipeBytesIdle ?? 0);
      },
    });
    new Counter({
      name: 'tcp_intercept_pipes_undersized_total', help: 'Pipes lent out smaller than buffer-size: the pipe quota refused the size.', registers,
      collect() { this.reset(); this.inc(stats()?.pipesUndersized ?? 0); },
    });
    new Counter({
      name: 'tcp_intercept_fd_exhaustion_total', help: 'Connections reset at accept because no file descriptor was left.', registers,
      collect() { this.reset(); this.inc(stats()?.fdExhausted ?? 0); },
    });
    this.#connect = new Histogram({
      name: 'tcp_intercept_connect_duration_seconds', help: 'Time to establish the server leg.', registers,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.#duration = new Histogram({
      name: 'tcp_intercept_connection_duration_seconds', help: 'Lifetime of relayed connections.', registers,
      buckets: [0.001, 0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 14400, 86400],
    });
    const legLabels = ['leg', 'cc'];
    this.#rtt = new Histogram({
      name: 'tcp_intercept_leg_rtt_seconds', help: 'Smoothed RTT of a leg (TCP_INFO), at close and sampled on long connections.', labelNames: legLabels, registers,
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    this.#retrans = new Histogram({
      name: 'tcp_intercept_leg_retransmitted_segments', help: 'Segments a leg retransmitted (TCP_INFO total_retrans), at close and sampled.', labelNames: legLabels, registers,
      buckets: [0, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 10000],
    });
    this.#delivery = new Histogram({
      name: 'tcp_intercept_leg_delivery_rate_bytes_per_second', help: 'Delivery rate of a leg (TCP_INFO), at close and sampled.', labelNames: legLabels, registers,
      buckets: [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10],
    });
    this.#limited = new Histogram({
      name: 'tcp_intercept_leg_limited_ratio',
      help: "Share of a leg's sending time limited by its own send buffer (by=sndbuf: --sndbuf*) or by the peer's receive window (by=rwnd), TCP_INFO, at close and sampled.",
      labelNames: [...legLabels, 'by'], registers,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1],
    });
  }

  readonly #makeResult = (reason: CloseReason): Increment => this.#results.labels(resultLabel(reason));
  readonly #makeReset = (leg: Leg): Increment => this.#resets.labels(leg);
  readonly #makeLeg = {
    client: (cc: string): LegHistograms => this.#legHistograms('client', cc),
    server: (cc: string): LegHistograms => this.#legHistograms('server', cc),
  };

  #legHistograms(leg: Leg, cc: string): LegHistograms {
    return {
      rtt: this.#rtt.labels(leg, cc), retrans: this.#retrans.labels(leg, cc), delivery: this.#delivery.labels(leg, cc),
      sndbufLimited: this.#limited.labels(leg, cc, 'sndbuf'), rwndLimited: this.#limited.labels(leg, cc, 'rwnd'),
    };
  }

  /** Where scrape-time figures come from (the proxy's engine). */
  readStatsFrom(stats: () => EngineStats | null): void {
    this.#stats = stats;
  }

  /** Counts and TCP_INFO histograms from a batch of open, close and sample records. */
  observe(batch: EventBatch): void {
    for (let i = 0; i < batch.count; i++) {
      if (batch.isOpen(i)) {
        this.#connect.observe(batch.connectUs(i) / 1e6);
        continue;
      }
      if (!batch.isSample(i)) {
        const reason = batch.reason(i);
        cached(this.#resultChildren, reason, this.#makeResult).inc();
        if (reason === 'client-reset') cached(this.#resetChildren, 'client', this.#makeReset).inc();
        else if (reason === 'server-reset') cached(this.#resetChildren, 'server', this.#makeReset).inc();
        if (batch.opened(i)) this.#duration.observe(batch.durationUs(i) / 1e6);
      }
      for (const leg of LEGS) {
        if (!batch.hasInfo(i, leg)) continue;
        const h = cached(this.#legs[leg], batch.cc(i, leg), this.#makeLeg[leg]);
        h.rtt.observe(batch.rttUs(i, leg) / 1e6);
        h.retrans.observe(batch.retransmits(i, leg));
        h.delivery.observe(batch.deliveryRate(i, leg));
        const busy = batch.busyUs(i, leg);
        if (busy > 0) {
          h.sndbufLimited.observe(batch.sndbufLimitedUs(i, leg) / busy);
          h.rwndLimited.observe(batch.rwndLimitedUs(i, leg) / busy);
        }
      }
    }
  }
}
