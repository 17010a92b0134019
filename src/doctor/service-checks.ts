// The running service (found by its pid file, else by its command line in this network
// namespace) and what it needs: its capabilities, and the rules that hand it connections.
import type { DoctorSettings } from './doctor-settings.js';
import { fail, info, ok, type Finding } from './finding.js';
import type { DoctorSystem } from './system.js';

const SUBCOMMANDS = ['rules', 'emulate', 'snoop', 'doctor'];
/** Transparent sockets, SO_MARK, forced buffers, non-allowed congestion controls, NFQUEUE; snoop's raw sockets. */
const CAPABILITIES = [['CAP_NET_ADMIN', 12n], ['CAP_NET_RAW', 13n]] as const;

/** The service's process: its command line runs the CLI's main.js with no subcommand. */
function isService(sys: DoctorSystem, pid: number): boolean {
  const argv = (sys.read(`/proc/${pid}/cmdline`) ?? '').split('\0');
  const main = argv.findIndex((a) => /\/dist\/src\/cli\/main\.js$/.test(a));
  return main > 0 && !SUBCOMMANDS.includes(argv[main + 1] ?? '');
}

const parentOf = (sys: DoctorSystem, pid: number): number => Number(/^PPid:\s*(\d+)/m.exec(sys.read(`/proc/${pid}/status`) ?? '')?.[1] ?? 0);

/** The service's pid in this namespace (the supervisor, when it runs workers), or null. */
export function findService(sys: DoctorSystem, s: DoctorSettings): number | null {
  const fromFile = Number((s.pidFile && sys.read(s.pidFile)?.trim()) || NaN);
  if (Number.isInteger(fromFile) && sys.exists(`/proc/${fromFile}`)) return fromFile;
  const here = sys.link('/proc/self/ns/net');
  const found = sys.list('/proc')
    .filter((name) => /^\d+$/.test(name)).map(Number)
    .filter((pid) => pid !== sys.pid() && isService(sys, pid) && sys.link(`/proc/${pid}/ns/net`) === here);
  return found.find((pid) => !found.includes(parentOf(sys, pid))) ?? null;
}

export function capabilityCheck(sys: DoctorSystem, pid: number | null): Finding {
  if (pid === null) return info('service', 'the service is not running in this network namespace: its capabilities are not checked');
  const caps = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(sys.read(`/proc/${pid}/status`) ?? '')?.[1] ?? '0'}`);
  const missing = CAPABILITIES.filter(([, bit]) => ((caps >> bit) & 1n) === 0n).map(([name]) => name);
  if (missing.length === 0) return ok('service', `the service runs (pid ${pid}) with CAP_NET_ADMIN and CAP_NET_RAW`);
  return fail('service', `the service runs (pid ${pid}) without ${missing.join(' and ')}: transparent sockets, forced buffers and snoop's raw sockets are refused`,
    'run it as the unit does (AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW), or as root');
}

export async function rulesChecks(sys: DoctorSystem, s: DoctorSettings, pid: number | null): Promise<Finding[]> {
  const parts: Array<[string, string, () => Promise<{ installed: boolean; lines: string[] }>]> = [];
  const iface = s.interfaces.length ? s.interfaces.map((i) => `--interface ${i}`).join(' ') : '--interface IF';
  if (s.proxy !== null) parts.push(['rules', `the TPROXY rules (${s.rules.backend}, fwmark ${s.rules.fwmark}, table ${s.rules.table})`, () => sys.rulesStatus(s.rules)]);
  if (s.snoop !== null) parts.push(['rules.snoop', "snoop's queue rules", () => sys.queueRulesStatus()]);
  const findings: Finding[] = [];
  for (const [id, what, status] of parts) {
    const { installed, lines } = await status();
    if (installed) {
      findings.push(ok(id, `${what} are installed`));
      continue;
    }
    const absent = lines.filter((l) => /: absent$/.test(l)).map((l) => l.replace(/: absent$/, '')).join(', ');
    const message = `${what} are not installed (absent: ${absent})`;
    const fix = `tcp-intercept rules install ${s.proxy !== null ? iface : ''}`.trimEnd();
    findings.push(pid === null
      ? info(id, `${message}; the unit installs them when it starts`, fix)
      : fail(id, `${message}: the running service is handed no connections`, fix));
  }
  return findings;
}
