// The routing sysctls a transparent proxy on a router depends on: forwarding, reverse-path
// filtering on the diverted interfaces, and early demux.
import type { DoctorSettings } from './doctor-settings.js';
import { fail, ok, warn, type Finding } from './finding.js';
import { sysctl, sysctlAt, sysctlFix, sysctlNumber, type DoctorSystem } from './system.js';

export function forwardingChecks(sys: DoctorSystem): Finding[] {
  const findings: Finding[] = [];
  const v4 = sysctlNumber(sys, 'net.ipv4.ip_forward');
  findings.push(v4 === 1
    ? ok('forwarding.ipv4', 'IPv4 forwarding is on (net.ipv4.ip_forward = 1)')
    : fail('forwarding.ipv4', `IPv4 forwarding is off (net.ipv4.ip_forward = ${v4 ?? 'absent'}): connections that are not diverted, and every packet not for the proxy, are not routed`,
      sysctlFix({ 'net.ipv4.ip_forward': 1 })));
  const v6 = sysctlNumber(sys, 'net.ipv6.conf.all.forwarding');
  if (v6 === null) findings.push(ok('forwarding.ipv6', 'IPv6 is off in this kernel or namespace (no net.ipv6.conf.all.forwarding): only IPv4 is routed'));
  else findings.push(v6 === 1
    ? ok('forwarding.ipv6', 'IPv6 forwarding is on (net.ipv6.conf.all.forwarding = 1)')
    : fail('forwarding.ipv6', `IPv6 forwarding is off (net.ipv6.conf.all.forwarding = ${v6}): IPv6 connections that are not diverted are not routed`,
      sysctlFix({ 'net.ipv6.conf.all.forwarding': 1 })));
  return findings;
}

const RP_MODES = ['off', 'strict', 'loose'];

/** The diverted interfaces, or every interface but lo when none is named. */
function divertedInterfaces(sys: DoctorSystem, s: DoctorSettings): string[] {
  if (s.interfaces.length) return s.interfaces;
  return sys.list('/proc/sys/net/ipv4/conf').filter((i) => !['all', 'default', 'lo'].includes(i));
}

/**
 * The kernel applies the larger of conf.all and conf.IF. Strict mode drops a packet whose source
 * is not routed back out of the interface it came in on: fine on a router with one way to each
 * side, fatal where routes are asymmetric (several uplinks, policy routing). With src_valid_mark
 * the reverse lookup also takes the packet's mark, which the TPROXY rules set and whose table
 * routes every address to lo: then every diverted packet is a martian, in loose mode too.
 */
export function rpFilterChecks(sys: DoctorSystem, s: DoctorSettings): Finding[] {
  const all = sysctlNumber(sys, 'net.ipv4.conf.all.rp_filter') ?? 0;
  const allMark = sysctlNumber(sys, 'net.ipv4.conf.all.src_valid_mark') ?? 0;
  return divertedInterfaces(sys, s).map((ifname) => {
    const id = `rp-filter.${ifname}`;
    const own = sysctlAt(sys, ['net', 'ipv4', 'conf', ifname, 'rp_filter']);
    if (own === null) return fail(id, `${ifname}: no such interface in this namespace`, `check --interface, or create ${ifname}`);
    const mode = Math.max(all, Number(own));
    const validMark = Math.max(allMark, Number(sysctlAt(sys, ['net', 'ipv4', 'conf', ifname, 'src_valid_mark']) ?? 0));
    const what = `${ifname}: rp_filter ${RP_MODES[mode] ?? mode} (all ${all}, ${ifname} ${own})`;
    const loose = sysctlFix({ 'net.ipv4.conf.all.rp_filter': 2, [`net.ipv4.conf.${ifname}.rp_filter`]: 2 });
    if (mode !== 0 && validMark === 1) {
      return fail(id, `${what} with src_valid_mark 1: the reverse-path lookup takes the TPROXY mark, whose table routes every address to lo, so every diverted packet is dropped as a martian`,
        sysctlFix({ 'net.ipv4.conf.all.src_valid_mark': 0, [`net.ipv4.conf.${ifname}.src_valid_mark`]: 0 }));
    }
    if (mode === 1) {
      return warn(id, `${what}: strict mode drops diverted packets and their replies wherever the route back to their source leaves by another interface (several uplinks, policy routing)`, loose);
    }
    return ok(id, `${what}: diverted packets pass`);
  });
}

/**
 * The proxy's closed sockets stay in TIME_WAIT for 60 s with the server's address on the client
 * leg and the client's on the server leg. Early demux matches a forwarded packet of a new
 * connection on the same 4-tuple (not diverted: while draining, after a stop, an excluded port)
 * to that socket, and ip_forward() drops it: the connection cannot open for up to 60 s.
 * The kernel's ip-sysctl documentation advises turning it off for routing workloads.
 */
export function earlyDemuxCheck(sys: DoctorSystem, s: DoctorSettings): Finding[] {
  if (s.proxy === null) return [];
  const ip = sysctl(sys, 'net.ipv4.ip_early_demux'), tcp = sysctl(sys, 'net.ipv4.tcp_early_demux');
  const what = `net.ipv4.ip_early_demux = ${ip ?? 'absent'}, net.ipv4.tcp_early_demux = ${tcp ?? 'absent'}`;
  if (ip !== '1' || tcp !== '1') return [ok('early-demux', `TCP early demux is off (${what})`)];
  return [warn('early-demux', `TCP early demux is on (${what}): a forwarded connection that is not diverted and reuses the 4-tuple of a connection the proxy closed meets its TIME_WAIT socket and is dropped for up to 60 s (while draining, after a stop, on excluded ports)`,
    sysctlFix({ 'net.ipv4.ip_early_demux': 0, 'net.ipv4.tcp_early_demux': 0 }))];
}
