// The NFQUEUE target in both syntaxes, always with bypass (packets pass when no program listens),
// and the match of our own injected packets, which no queue rule may take again.
import type { QueueRange } from '../nfq/queue.js';
import { hex } from './rule-options.js';

/** A queue number, or a range the kernel balances flows over (hashing their addresses). */
export type QueueTarget = number | QueueRange;

const isQueueNumber = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;

export function checkQueueTarget(q: QueueTarget): void {
  const ok = typeof q === 'number' ? isQueueNumber(q) : isQueueNumber(q.first) && isQueueNumber(q.last) && q.first <= q.last;
  if (!ok) throw new Error(`queue: ${JSON.stringify(q)} is not a queue number or range in 0-65535`);
}

export function checkInjectionMark(mark: number): void {
  // A zero mask would match every packet and so exclude everything from the queue.
  if (!Number.isInteger(mark) || mark < 1 || mark > 0xffffffff) throw new Error(`injection mark: ${mark} is not in 1-0xffffffff`);
}

const asRange = (q: QueueTarget): QueueRange => (typeof q === 'number' ? { first: q, last: q } : q);

/** `-j NFQUEUE --queue-num N --queue-bypass`, or `--queue-balance F:L` for a range (iptables
 *  refuses a range of one queue). */
export function iptablesQueueTarget(q: QueueTarget): string[] {
  const { first, last } = asRange(q);
  const which = first === last ? ['--queue-num', String(first)] : ['--queue-balance', `${first}:${last}`];
  return ['-j', 'NFQUEUE', ...which, '--queue-bypass'];
}

/** `queue flags bypass to N`, or `to F-L` for a range: nft hashes over a range as --queue-balance
 *  does (nft's `fanout` flag would pick the queue by CPU instead, like --queue-cpu-fanout). */
export function nftQueueStatement(q: QueueTarget): string {
  const { first, last } = asRange(q);
  return `queue flags bypass to ${first === last ? first : `${first}-${last}`}`;
}

/** iptables arguments matching packets that carry every bit of <mark> (negated: that lack one). */
export function iptablesMarkMatch(mark: number, negate = false): string[] {
  return ['-m', 'mark', ...(negate ? ['!'] : []), '--mark', `${hex(mark)}/${hex(mark)}`];
}

export const nftMarkMatch = (mark: number): string => `meta mark & ${hex(mark)} == ${hex(mark)}`;
