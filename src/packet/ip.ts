// What IPv4 and IPv6 share: protocol numbers, the pseudo-header hook transport checksums use,
// and address text for logs.
import { u16 } from './bytes.js';

/** IP protocol / IPv6 next-header numbers the codec knows; any other value passes through as a number. */
export const IpProto = {
  HOP_BY_HOP: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NO_NEXT_HEADER: 59,
  DEST_OPTIONS: 60,
} as const;

/** An IP view that can give the pseudo-header part of a TCP or ICMPv6 checksum. */
export interface PseudoHeaderSource {
  pseudoHeaderSum(protocol: number, length: number): number;
}

export function ipv4Text(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text: lower-case hex, the longest run of two or more zero words (the first on a tie) as "::". */
export function ipv6Text(b: Buffer, o: number): string {
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && u16(b, o + 2 * j) === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      text += '::';
      i += bestLen - 1;
    } else {
      text += (text === '' || text.endsWith(':') ? '' : ':') + u16(b, o + 2 * i).toString(16);
    }
  }
  return text;
}
