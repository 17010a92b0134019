// Congestion control names: checked against the kernel at startup, so a typo stops the
// proxy with the list of what exists instead of failing every connection.
import { readFileSync } from 'node:fs';
import { optionError } from '../errors.js';

const AVAILABLE = '/proc/sys/net/ipv4/tcp_available_congestion_control';

export function availableCongestionControls(): string[] {
  try {
    return readFileSync(AVAILABLE, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** Throws a UsageError unless a TCP socket accepts <name> (probe: the addon's setsockopt). */
export function checkCongestionControl(name: string, what: string, probe: (name: string) => string | null): void {
  if (!/^[a-z0-9_-]{1,15}$/i.test(name)) {
    throw optionError(what, `'${name}' is not a congestion control name`);
  }
  const err = probe(name);
  if (err === null) return;
  const available = availableCongestionControls().join(', ') || 'none listed';
  if (err === 'ENOENT') {
    throw optionError(what, `unknown congestion control '${name}' (available: ${available})`);
  }
  throw optionError(what, `congestion control '${name}' cannot be used (${err}; available: ${available})`);
}
