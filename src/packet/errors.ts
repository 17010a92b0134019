// Why the codec refused some bytes. Every `check()` returns 0 or one of these codes and never
// throws on untrusted input; the text is looked up only when logging.
//
// The numbers are stable: they end up in logs and metric labels. Never renumber or reuse a code;
// add new ones at the end.

export const Reason = {
  OK: 0,
  /** The bytes end before a header does, or before where a length field says something ends. */
  TRUNCATED: 1,
  /** The IP version nibble is not the one expected (4 or 6). */
  BAD_VERSION: 2,
  /** A header length field is below its minimum (IPv4 IHL, TCP data offset). */
  BAD_HEADER_LENGTH: 3,
  /** The IPv4 total length is smaller than the header it includes. */
  BAD_TOTAL_LENGTH: 4,
  BAD_CHECKSUM: 5,
  /** A TCP option has a zero, short, overlong or wrong length. */
  BAD_OPTION: 6,
  /** Well formed, but not something this codec looks into: a quoted non-first fragment, a quote
   *  asked of an ICMP message that has none, an RFC 4884 extension of another version. */
  UNSUPPORTED: 7,
  /** A misplaced IPv6 extension header, or a malformed RFC 4884 extension object. */
  BAD_EXTENSION: 8,
} as const;

export type Reason = (typeof Reason)[keyof typeof Reason];

const NAMES: string[] = [];
for (const [name, code] of Object.entries(Reason)) NAMES[code] = name;

/** The name of a reason code, for logs and metric labels. */
export function reasonName(code: number): string {
  return NAMES[code] ?? `UNKNOWN_${code}`;
}
