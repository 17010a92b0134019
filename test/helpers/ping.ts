// The figures of one ping run, from its output; NaN where ping printed none (nothing answered).
export interface PingResult {
  sent: number; received: number;
  min: number; avg: number; max: number; mdev: number;
  /** every reply's RTT in ms, sorted */
  rtts: number[];
}

export function parsePing(out: string): PingResult {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  const r = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(out);
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map((x) => Number(x[1])).sort((a, b) => a - b);
  const n = (s: string | undefined): number => (s === undefined ? NaN : Number(s));
  return { sent: n(m?.[1]), received: n(m?.[2]), min: n(r?.[1]), avg: n(r?.[2]), max: n(r?.[3]), mdev: n(r?.[4]), rtts };
}
