// Snoop's settings from merged option values (the service and `tcp-intercept snoop`). Every
// message names where the bad value came from.
import { optionError } from '../errors.js';
import type { SnoopSettings } from '../snoop/snoop-settings.js';
import { byteSize } from './numbers.js';
import type { Values } from './values.js';

const TUNING = ['snoop-cache-size', 'snoop-flow-cache', 'snoop-min-rto', 'snoop-max-retransmits'];
const MIN_CACHE = 64 << 10;   // one segment of the largest size the queue hands over
const MAX_CACHE = 2 ** 34;

/** A name Linux takes for a device (at most 15 bytes, not . or ..), in characters that every rule
 *  syntax writes literally: no ':' (Linux refuses it), no '+' (iptables' wildcard), no quotes. */
const IFNAME = /^[A-Za-z0-9_.@-]{1,15}$/;

function interfaces(v: Values): string[] {
  const what = v.what('snoop-interface');
  const names = v.list('snoop-interface').flatMap((item) => item.split(',')).map((n) => n.trim()).filter(Boolean);
  for (const [i, name] of names.entries()) {
    if (!IFNAME.test(name) || name === '.' || name === '..') {
      throw optionError(what, `'${name}' is not a Linux interface name (1-15 of A-Z a-z 0-9 _ . @ -)`);
    }
    if (names.indexOf(name) !== i) throw optionError(what, `${name} is given twice`);
  }
  return names;
}

/** The settings, or null when no lossy side is named (no snoop). */
export function buildSnoopSettings(v: Values): SnoopSettings | null {
  const lossy = interfaces(v);
  if (lossy.length === 0) {
    const stray = TUNING.find((k) => v.given(k));
    if (stray) throw optionError(v.what(stray), 'needs --snoop-interface');
    return null;
  }
  const cacheBytes = byteSize(v.str('snoop-cache-size'), v.what('snoop-cache-size'), MIN_CACHE, MAX_CACHE);
  const flowCacheBytes = byteSize(v.str('snoop-flow-cache'), v.what('snoop-flow-cache'), MIN_CACHE, MAX_CACHE);
  if (flowCacheBytes > cacheBytes) {
    const key = v.given('snoop-flow-cache') ? 'snoop-flow-cache' : 'snoop-cache-size';
    throw optionError(v.what(key), `the per-flow cache (${v.str('snoop-flow-cache')}) is larger than the whole cache (${v.str('snoop-cache-size')})`);
  }
  return {
    interfaces: lossy,
    cacheBytes,
    flowCacheBytes,
    minRtoMs: v.whole('snoop-min-rto', 1, 10_000),
    maxRetransmits: v.whole('snoop-max-retransmits', 0, 20),
  };
}
