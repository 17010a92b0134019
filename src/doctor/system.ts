// What the checks read, behind one interface: the real host (host-system.ts) or a test's fake.
// Every read is of the network namespace the doctor runs in, as the service would see it.
import type { RuleOptions } from '../rules/rule-options.js';

export interface RulesState {
  installed: boolean;
  lines: string[];
}

export interface DoctorSystem {
  /** a text file's contents; null when it is absent or unreadable */
  read(path: string): string | null;
  /** whether a path exists */
  exists(path: string): boolean;
  /** a directory's entries; empty when it is absent */
  list(path: string): string[];
  /** a symbolic link's target; null when it is not one */
  link(path: string): string | null;
  /** the kernel's build configuration (/proc/config.gz, /boot/config-RELEASE); null when neither is there */
  kernelConfig(): string | null;
  /** `uname -r` */
  kernelRelease(): string;
  /** this process, never taken for the service */
  pid(): number;
  /** `nft -c -f -` on <ruleset>: whether the kernel would take it (nothing is loaded) */
  nftAccepts(ruleset: string): Promise<boolean>;
  /** the TPROXY rules and routing, as `rules status` reads them */
  rulesStatus(o: RuleOptions): Promise<RulesState>;
  /** snoop's queue rules, as `rules status` reads them */
  queueRulesStatus(): Promise<RulesState>;
}

/** A sysctl by its dotted name (net.ipv4.ip_forward), trimmed; null when absent. */
export function sysctl(sys: DoctorSystem, name: string): string | null {
  return sysctlAt(sys, name.split('.'));
}

/** A sysctl by its path's parts, for names with dots in them (an interface such as eth0.100). */
export function sysctlAt(sys: DoctorSystem, parts: string[]): string | null {
  const text = sys.read(`/proc/sys/${parts.join('/')}`);
  return text === null ? null : text.trim();
}

/** A numeric sysctl; null when absent or not a number. */
export function sysctlNumber(sys: DoctorSystem, name: string): number | null {
  const text = sysctl(sys, name);
  return text !== null && /^-?\d+$/.test(text) ? Number(text) : null;
}

/** A sysctl holding several numbers (tcp_wmem: min default max); null when absent. */
export function sysctlNumbers(sys: DoctorSystem, name: string): number[] | null {
  const text = sysctl(sys, name);
  return text === null ? null : text.split(/\s+/).map(Number);
}

/** The line that sets <settings> now and the file line that keeps them after a reboot. */
export function sysctlFix(settings: Record<string, string | number>): string {
  const pairs = Object.entries(settings).map(([k, v]) => (String(v).includes(' ') ? `${k}='${v}'` : `${k}=${v}`));
  return `sysctl -w ${pairs.join(' ')} (and the same in /etc/sysctl.d/90-tcp-intercept.conf)`;
}
