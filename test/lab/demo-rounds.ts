// Interleaved rounds for the demo's comparisons, and the figures it prints from them.
import type { Goodput } from './cubic-iperf.js';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const mbit = (x: number): string => `${x >= 10 ? x.toFixed(1) : x.toFixed(2)} Mbit/s`;

/**
 * Runs every way once per round, the order rotating from round to round, and prints each round.
 * Resolves to the samples of each way, in the order given.
 */
export async function interleaved(rounds: number, ways: string[], run: (way: string) => Promise<Goodput>): Promise<Goodput[][]> {
  const samples = ways.map((): Goodput[] => []);
  for (let r = 0; r < rounds; r++) {
    const shift = r % ways.length;
    const order = [...ways.keys()].map((i) => (i + shift) % ways.length);
    for (const i of order) samples[i].push(await run(ways[i]));
    console.log(`   round ${r + 1}: ${ways.map((w, i) => `${w} ${mbit(samples[i][r].mbit)}`).join(', ')}`);
  }
  return samples;
}

/** The sending congestion control every run reported; throws if runs disagree or none ran. */
export function senderCongestion(samples: Goodput[][]): string {
  const seen = new Set(samples.flat().map((g) => g.senderCc));
  if (seen.size !== 1) throw new Error(`the senders ran ${seen.size ? [...seen].join(' and ') : 'nothing'}: expected one congestion control`);
  return [...seen][0];
}

/** `gain: N.Nx`, the median of <better> over the median of <base>. */
export function gainLine(better: Goodput[], base: Goodput[]): string {
  return `gain: ${(median(better.map((g) => g.mbit)) / median(base.map((g) => g.mbit))).toFixed(1)}x`;
}
