// Each leg's congestion control against what the kernel has (tcp_available_congestion_control)
// and lets any process use (tcp_allowed_congestion_control). Another one needs CAP_NET_ADMIN in
// the socket's namespace, and loading a module for it CAP_NET_ADMIN of the initial namespace.
import type { DoctorSettings, Leg } from './doctor-settings.js';
import { fail, ok, warn, type Finding } from './finding.js';
import { sysctl, type DoctorSystem } from './system.js';

const words = (text: string | null): string[] => (text ?? '').split(/\s+/).filter(Boolean);

function legCheck(sys: DoctorSystem, leg: Leg, name: string): Finding {
  const id = `congestion.${leg}`;
  const available = words(sysctl(sys, 'net.ipv4.tcp_available_congestion_control'));
  const allowed = words(sysctl(sys, 'net.ipv4.tcp_allowed_congestion_control'));
  if (name === '') {
    return ok(id, `${leg} leg: the kernel's default congestion control, ${sysctl(sys, 'net.ipv4.tcp_congestion_control') ?? 'unknown'} (--cc-${leg} unset)`);
  }
  if (available.includes(name)) {
    const rights = allowed.includes(name)
      ? 'allowed for every process'
      : 'not in tcp_allowed_congestion_control: the service needs CAP_NET_ADMIN in its namespace, which the unit grants';
    return ok(id, `${leg} leg: ${name} is available (${rights})`);
  }
  const module = `tcp_${name}`;
  const config = sys.kernelConfig();
  const built = config === null ? undefined : new RegExp(`^CONFIG_TCP_CONG_${name.toUpperCase()}=(\\w)`, 'm').exec(config)?.[1];
  if (built === 'm' || (config === null && sys.exists(`/lib/modules/${sys.kernelRelease()}`))) {
    return warn(id, `${leg} leg: ${name} is not loaded (available: ${available.join(', ')}); the service loads the module ${module} itself only with CAP_NET_ADMIN of the host, not in a container`,
      `modprobe ${module} && echo ${module} > /etc/modules-load.d/tcp-intercept.conf`);
  }
  return fail(id, `${leg} leg: ${name} is not in this kernel (available: ${available.join(', ') || 'none listed'}): the service will not start`,
    `--cc-${leg} one of ${available.join(', ')}`);
}

export function congestionChecks(sys: DoctorSystem, s: DoctorSettings): Finding[] {
  if (s.proxy === null) return [];
  return (['client', 'server'] as const).map((leg) => legCheck(sys, leg, s.proxy?.cc[leg] ?? ''));
}
