// The service's options, as the service reads them, turned into what the checks need. Congestion
// control names are not checked here, as the service checks them at startup: the doctor reports
// a missing one instead of stopping at it.
import { buildHostOptions } from '../config/host-options.js';
import { byteSize, decimal } from '../config/numbers.js';
import { buildProxyOptions, type SystemProbes } from '../config/proxy-options.js';
import { buildSnoopSettings } from '../config/snoop-options.js';
import { readSystemLimits } from '../config/system-limits.js';
import type { Values } from '../config/values.js';
import { UsageError } from '../errors.js';
import type { DoctorSettings, Leg, NetworkPath, SizedOption } from './doctor-settings.js';

/** Every name passes: congestion-checks.ts reports those the kernel lacks; MPTCP is not examined. */
const ACCEPT_ALL: SystemProbes = { probeCongestion: () => null, probeMptcp: () => null };

/** What the operator tells the doctor besides the service's options. */
export type OperatorSettings = Pick<DoctorSettings, 'interfaces' | 'path' | 'rules' | 'configError'>;

/** "RTT,RATE": milliseconds and Mbit/s, e.g. 300,100. */
export function parsePath(text: string, what: string): NetworkPath {
  const parts = text.split(',');
  if (parts.length !== 2) throw new UsageError(`${what}: '${text}' is not RTT,RATE (milliseconds, Mbit/s), e.g. 300,100`);
  return { rttMs: decimal(parts[0], `${what} (RTT)`, 0.01, 60_000), rateMbit: decimal(parts[1], `${what} (RATE)`, 0.001, 10_000_000) };
}

/** The buffer fixed for <leg> by --<kind>-<leg>, else --<kind>; null: autotuned. */
function legBuffer(v: Values, kind: 'sndbuf' | 'rcvbuf', leg: Leg): SizedOption | null {
  const key = v.has(`${kind}-${leg}`) ? `${kind}-${leg}` : v.has(kind) ? kind : null;
  if (key === null) return null;
  return { bytes: byteSize(v.str(key), v.what(key), 1, 1 << 30), what: v.what(key) };
}

export function readSettings(v: Values, operator: OperatorSettings): DoctorSettings {
  const host = buildHostOptions(v);
  const proxy = buildProxyOptions(v, host.log.level, ACCEPT_ALL, { workers: host.workers, limits: readSystemLimits() });
  const snoop = buildSnoopSettings(v);
  return {
    ...operator,
    proxy: proxy && {
      cc: { client: proxy.engine.clientLeg.cc, server: proxy.engine.serverLeg.cc },
      sndbuf: { client: legBuffer(v, 'sndbuf', 'client'), server: legBuffer(v, 'sndbuf', 'server') },
      rcvbuf: { client: legBuffer(v, 'rcvbuf', 'client'), server: legBuffer(v, 'rcvbuf', 'server') },
      bufferSize: byteSize(v.str('buffer-size'), v.what('buffer-size'), 4096, 256 << 20),
      maxConnections: v.str('max-connections') === 'auto' ? 'auto' : v.whole('max-connections', 0, 0xffffffff),
    },
    snoop: snoop && { interfaces: [...snoop.interfaces] },
    workers: host.workers,
    pidFile: host.pidFile,
  };
}
