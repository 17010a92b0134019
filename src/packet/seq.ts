// TCP sequence numbers are 32-bit serial numbers (RFC 1982, RFC 9293 §3.4): compare them by the
// signed 32-bit difference, as the kernel's before()/after()/between() do, never with a plain `<`.
// A comparison is meaningful only between numbers less than 2^31 apart; exactly 2^31 apart, each
// is "less" than the other (the kernel has the same ambiguity).

/** (a - b) as a signed 32-bit integer: how far a is ahead of b (negative when behind). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** a + n modulo 2^32, as an unsigned number. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** lo <= s <= hi in serial space, both ends inclusive: the kernel's between(seq1, seq2, seq3). */
export function seqBetween(s: number, lo: number, hi: number): boolean {
  return (hi - lo) >>> 0 >= (s - lo) >>> 0;
}
