// Socket buffers against a long path: the bytes in flight on a path are its bandwidth-delay
// product, and a buffer must hold about twice that, since the kernel books about half of it for
// its own overhead. Legs without a fixed buffer are autotuned up to tcp_wmem[2] / tcp_rmem[2];
// a fixed one (--sndbuf*, --rcvbuf*) is set with SO_*BUFFORCE, past net.core.*mem_max.
import type { DoctorSettings, Leg, NetworkPath, SizedOption } from './doctor-settings.js';
import { ok, warn, type Finding } from './finding.js';
import { sysctlFix, sysctlNumber, sysctlNumbers, type DoctorSystem } from './system.js';

const MIB = 1 << 20;

/** RTT ms × rate Mbit/s -> bytes in flight. */
export const bandwidthDelayProduct = (path: NetworkPath): number => Math.ceil(path.rttMs * path.rateMbit * 125);

/** The buffer a path needs: twice its bandwidth-delay product. */
export const bufferFor = (path: NetworkPath): number => 2 * bandwidthDelayProduct(path);

export function formatBytes(bytes: number): string {
  if (bytes >= MIB) return `${+(bytes / MIB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

const roundUpMiB = (bytes: number): number => Math.ceil(bytes / MIB) * MIB;

const pathText = (p: NetworkPath, need: number): string =>
  `a path of ${p.rttMs} ms at ${p.rateMbit} Mbit/s has ${formatBytes(bandwidthDelayProduct(p))} in flight, a buffer needs about ${formatBytes(need)}`;

interface Direction {
  name: 'send' | 'receive';
  autotune: 'net.ipv4.tcp_wmem' | 'net.ipv4.tcp_rmem';
  max: 'net.core.wmem_max' | 'net.core.rmem_max';
  option: 'sndbuf' | 'rcvbuf';
  force: string;
}

const DIRECTIONS: Direction[] = [
  { name: 'send', autotune: 'net.ipv4.tcp_wmem', max: 'net.core.wmem_max', option: 'sndbuf', force: 'SO_SNDBUFFORCE' },
  { name: 'receive', autotune: 'net.ipv4.tcp_rmem', max: 'net.core.rmem_max', option: 'rcvbuf', force: 'SO_RCVBUFFORCE' },
];

function autotuned(sys: DoctorSystem, d: Direction, legs: Leg[], path: NetworkPath | null): Finding {
  const id = `buffers.${d.name}`;
  const [min, initial, max] = sysctlNumbers(sys, d.autotune) ?? [];
  const on = `${legs.join(' and ')} leg${legs.length > 1 ? 's' : ''}`;
  if (max === undefined) return ok(id, `${d.autotune} cannot be read: the ${on} autotune to the kernel's own limit`);
  const what = `the ${on} autotune${legs.length > 1 ? '' : 's'} the ${d.name} buffer up to ${d.autotune}[2] = ${formatBytes(max)}`;
  if (path === null) return ok(id, `${what}: about ${formatBytes(max / 2)} in flight (name a path with --path RTT,RATE to check it)`);
  const need = bufferFor(path);
  if (max >= need) return ok(id, `${what}; ${pathText(path, need)}`);
  return warn(id, `${what}, but ${pathText(path, need)}: such a path runs at about ${Math.floor((max / need) * path.rateMbit)} Mbit/s`,
    `${sysctlFix({ [d.autotune]: `${min} ${initial} ${roundUpMiB(need)}` })}, or --${d.option}-${legs.length > 1 ? 'server' : legs[0]} ${roundUpMiB(need) / MIB}M for the long leg`);
}

function fixed(sys: DoctorSystem, d: Direction, leg: Leg, size: SizedOption, path: NetworkPath | null): Finding {
  const id = `buffers.${d.option}-${leg}`;
  const limit = sysctlNumber(sys, d.max);
  const beyond = limit !== null && size.bytes > limit
    ? ` (above ${d.max} = ${formatBytes(limit)}: ${d.force} passes it with CAP_NET_ADMIN, which the unit grants)`
    : '';
  const what = `${leg} leg: ${d.name} buffer fixed at ${formatBytes(size.bytes)} by ${size.what}${beyond}`;
  if (path === null) return ok(id, what);
  const need = bufferFor(path);
  if (size.bytes >= need) return ok(id, `${what}; ${pathText(path, need)}`);
  return warn(id, `${what}, but ${pathText(path, need)}: over such a path this leg runs at about ${Math.floor((size.bytes / need) * path.rateMbit)} Mbit/s`,
    `--${d.option}-${leg} ${roundUpMiB(need) / MIB}M (or unset it to autotune)`);
}

export function bufferChecks(sys: DoctorSystem, s: DoctorSettings): Finding[] {
  const proxy = s.proxy;
  if (proxy === null) return [];
  return DIRECTIONS.flatMap((d) => {
    const sizes = proxy[d.option];
    const legs = (['client', 'server'] as const).filter((leg) => sizes[leg] === null);
    return [
      ...(legs.length ? [autotuned(sys, d, legs, s.path)] : []),
      ...(['client', 'server'] as const).flatMap((leg) => { const size = sizes[leg]; return size ? [fixed(sys, d, leg, size, s.path)] : []; }),
    ];
  });
}
