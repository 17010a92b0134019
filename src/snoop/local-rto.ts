// The local retransmission timeout of one flow: RFC 6298's estimator (alpha 1/8, beta 1/4) over
// round trips from the base station across the lossy hop and back, with a floor that allows for
// event-loop timers firing milliseconds late, and doubling per timeout until a new ACK.

/** Before the first sample: a few floors, so that a first loss is still recovered well inside a sender's 200 ms minimum RTO. */
const INITIAL_FLOORS = 4;
const MAX_BACKOFF = 64;

export class LocalRto {
  srtt = 0;
  rttvar = 0;
  samples = 0;
  #backoff = 1;

  constructor(public minMs: number) {}

  sample(rttMs: number): void {
    if (!(rttMs >= 0)) return;
    if (this.samples++ === 0) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
  }

  /** The timeout now, milliseconds. */
  get ms(): number {
    const base = this.samples === 0 ? INITIAL_FLOORS * this.minMs : Math.max(this.minMs, this.srtt + 4 * this.rttvar);
    return base * this.#backoff;
  }

  backOff(): void {
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF);
  }

  resetBackoff(): void {
    this.#backoff = 1;
  }
}
