// The service's limits against its options: the user's pipe quota against the workers' pipes and
// idle pools, the open-file limit against max-connections, the conntrack table against both legs
// of every connection. Limits are the running service's own, else those it would start with.
import { derivedMaxConnections, FDS_PER_CONNECTION, FDS_RESERVED, pipeBudget, pipeSize, type PipeBudget } from '../config/resource-budget.js';
import { readSystemLimits, type SystemLimits } from '../config/system-limits.js';
import { formatBytes } from './buffer-checks.js';
import type { DoctorSettings } from './doctor-settings.js';
import { fail, info, ok, warn, type Finding } from './finding.js';
import { sysctlFix, sysctlNumber, type DoctorSystem } from './system.js';

const PAGE = 4096;
/** Below this many connections an automatic max-connections is a limit a busy router meets. */
const FEW_CONNECTIONS = 4096;
/** The unit's LimitNOFILE. */
const UNIT_OPEN_FILES = 1048576;

/** The running service's limits (<pid>), or the ones it would start with: this shell's open-file limit, no CAP_SYS_RESOURCE. */
export function serviceLimits(sys: DoctorSystem, pid: number | null): SystemLimits {
  const read = (path: string): string => (pid === null && path === '/proc/self/status' ? '' : (sys.read(path) ?? ''));
  return readSystemLimits(pid === null ? '/proc/self' : `/proc/${pid}`, read);
}

function pipeChecks(s: DoctorSettings, limits: SystemLimits, budget: PipeBudget, bufferSize: number, maxConnections: number | 'auto'): Finding[] {
  const findings: Finding[] = [];
  if (budget.bufferSize < bufferSize) {
    findings.push(warn('pipes.size', `buffer-size ${formatBytes(bufferSize)} is more than fs.pipe-max-size (${formatBytes(budget.bufferSize)}): each direction relays at most ${formatBytes(budget.bufferSize)} at once`,
      `${sysctlFix({ 'fs.pipe-max-size': pipeSize(bufferSize) })}, or --buffer-size ${formatBytes(budget.bufferSize).replace(' MiB', 'M').replace(' KiB', 'k')}`));
  }
  const quota = limits.pipeQuotaBytes;
  if (quota === null) {
    findings.push(ok('pipes.quota', 'no pipe quota applies to the service (CAP_SYS_RESOURCE, or fs.pipe-user-pages-soft = 0)'));
    return findings;
  }
  const idle = s.workers * budget.keepBytes;
  const busy = Math.max(0, Math.floor((quota - idle) / (2 * budget.bufferSize)));
  const what = `the service user's pipe quota, ${formatBytes(quota)} (fs.pipe-user-pages-soft): ${s.workers} worker${s.workers > 1 ? 's keep' : ' keeps'} up to ${formatBytes(idle)} of pipes idle, the rest holds both pipes of ${busy} busy connections at buffer-size ${formatBytes(budget.bufferSize)}; past it new pipes get 8 KiB`;
  const wanted = maxConnections === 'auto' ? 0 : maxConnections * s.workers;
  if (busy >= wanted || maxConnections === 0) findings.push(ok('pipes.quota', what));
  else findings.push(warn('pipes.quota', `${what}, fewer than max-connections (${wanted} over all workers): connections beyond relay slowly`,
    sysctlFix({ 'fs.pipe-user-pages-soft': Math.ceil((wanted * 2 * budget.bufferSize + idle) / PAGE) })));
  return findings;
}

function fdCheck(limits: SystemLimits, budget: PipeBudget, maxConnections: number | 'auto', whose: string, running: boolean): Finding {
  const files = limits.openFiles;
  if (files === null) return ok('fd-limit', `no open-file limit (${whose})`);
  const derived = derivedMaxConnections(limits, budget);
  const raise = `LimitNOFILE=${UNIT_OPEN_FILES} in the unit (its default), or ulimit -n ${UNIT_OPEN_FILES} where it is started`;
  if (maxConnections === 'auto') {
    const what = `open-file limit ${files} (${whose}): max-connections auto comes to ${derived} per process`;
    if (derived >= FEW_CONNECTIONS) return ok('fd-limit', what);
    // Not running: the limit is this shell's, and the unit brings its own.
    return (running ? warn : info)('fd-limit', `${what}: a busy router refuses connections past that`, raise);
  }
  if (maxConnections === 0) {
    return warn('fd-limit', `max-connections 0 (no limit) with an open-file limit of ${files} (${whose}): past about ${derived} connections, fds run out and connections relaying are reset`, `max-connections auto, or ${raise}`);
  }
  const need = FDS_RESERVED + 2 * Math.ceil(budget.keepBytes / budget.bufferSize) + FDS_PER_CONNECTION * maxConnections;
  if (maxConnections <= derived) return ok('fd-limit', `open-file limit ${files} (${whose}) serves max-connections ${maxConnections} (at most ${derived})`);
  return warn('fd-limit', `max-connections ${maxConnections} needs about ${need} open files, the limit is ${files} (${whose}): past ${derived} connections, fds run out and connections relaying are reset`,
    `max-connections auto (${derived} here), or LimitNOFILE=${Math.max(need, UNIT_OPEN_FILES)} in the unit`);
}

/** Every proxied connection is two conntrack entries, one per leg; a full table drops new connections' first packets. */
function conntrackCheck(sys: DoctorSystem, s: DoctorSettings, maxConnections: number | 'auto'): Finding {
  const max = sysctlNumber(sys, 'net.netfilter.nf_conntrack_max');
  const count = sysctlNumber(sys, 'net.netfilter.nf_conntrack_count');
  if (max === null || count === null) return ok('conntrack', 'conntrack is not loaded here: no table to fill');
  const what = `conntrack table: ${count} of ${max} entries in use`;
  if (count >= 0.8 * max) {
    return fail('conntrack', `${what}: when it is full the kernel drops the first packet of every new connection`, sysctlFix({ 'net.netfilter.nf_conntrack_max': 2 * max }));
  }
  if (s.proxy !== null && maxConnections !== 'auto' && maxConnections > 0 && 2 * maxConnections * s.workers > max) {
    const need = 2 * maxConnections * s.workers;
    return warn('conntrack', `${what}, but max-connections (${maxConnections * s.workers} over all workers) takes ${need}, two per connection`, sysctlFix({ 'net.netfilter.nf_conntrack_max': need + count }));
  }
  return ok('conntrack', `${what}${s.proxy !== null ? ` (a proxied connection takes two: room for about ${Math.floor((max - count) / 2)} more)` : ''}`);
}

export function limitsChecks(sys: DoctorSystem, s: DoctorSettings, servicePid: number | null): Finding[] {
  const findings: Finding[] = [];
  if (s.proxy !== null) {
    const limits = serviceLimits(sys, servicePid);
    const budget = pipeBudget(s.proxy.bufferSize, s.workers, limits);
    const whose = servicePid === null ? "this shell's; the unit's is its LimitNOFILE" : `the running service's, pid ${servicePid}`;
    findings.push(...pipeChecks(s, limits, budget, s.proxy.bufferSize, s.proxy.maxConnections), fdCheck(limits, budget, s.proxy.maxConnections, whose, servicePid !== null));
  }
  findings.push(conntrackCheck(sys, s, s.proxy?.maxConnections ?? 'auto'));
  return findings;
}
