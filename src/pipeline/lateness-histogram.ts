// How late deadlines fire, in fixed millisecond buckets: counts kept as plain numbers, shaped the
// way a Prometheus histogram is exposed (cumulative `le` buckets, sum, count), plus the maximum.

/** Upper bounds of the buckets in ms; one more bucket, +Inf, follows. */
export const LATENESS_BUCKETS_MS: readonly number[] = [0.5, 1, 2, 5, 10, 20, 50, 100];

export interface LatenessSnapshot {
  count: number;
  sumMs: number;
  maxMs: number;
  /** LATENESS_BUCKETS_MS. */
  bucketsMs: readonly number[];
  /** cumulative[i]: how many were late by at most bucketsMs[i]; the last entry (+Inf) equals count. */
  cumulative: number[];
}

export class LatenessHistogram {
  #counts = new Float64Array(LATENESS_BUCKETS_MS.length + 1);
  #sum = 0;
  #max = 0;
  #count = 0;

  /** Early (negative) values count as 0. */
  record(lateMs: number): void {
    const ms = lateMs > 0 ? lateMs : 0;
    let i = 0;
    while (i < LATENESS_BUCKETS_MS.length && ms > LATENESS_BUCKETS_MS[i]) i++;
    this.#counts[i]++;
    this.#sum += ms;
    this.#count++;
    if (ms > this.#max) this.#max = ms;
  }

  snapshot(): LatenessSnapshot {
    const cumulative: number[] = [];
    let total = 0;
    for (const c of this.#counts) cumulative.push((total += c));
    return { count: this.#count, sumMs: this.#sum, maxMs: this.#max, bucketsMs: LATENESS_BUCKETS_MS, cumulative };
  }
}
