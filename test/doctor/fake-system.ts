// A DoctorSystem over a map of files, for the checks' unit tests: sysctls by dotted name, any
// other path as it is, a kernel configuration, and the rules' state.
import type { DoctorSettings } from '../../src/doctor/doctor-settings.js';
import type { DoctorSystem, RulesState } from '../../src/doctor/system.js';

export interface FakeOptions {
  /** net.ipv4.ip_forward: '1', ... */
  sysctls?: Record<string, string>;
  /** other files by path */
  files?: Record<string, string>;
  /** symbolic links by path */
  links?: Record<string, string>;
  kernelConfig?: string | null;
  nftAccepts?: boolean;
  rules?: RulesState;
  queueRules?: RulesState;
}

/** A router as the lab's: forwarding on, rp_filter off, early demux off, stock buffers. */
export const GOOD_SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.ipv6.conf.all.forwarding': '1',
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.eth1.rp_filter': '0',
  'net.ipv4.ip_early_demux': '0',
  'net.ipv4.tcp_early_demux': '1',
  'net.ipv4.tcp_available_congestion_control': 'reno cubic bbr',
  'net.ipv4.tcp_allowed_congestion_control': 'reno cubic',
  'net.ipv4.tcp_congestion_control': 'cubic',
  'net.ipv4.tcp_wmem': '4096\t16384\t4194304',
  'net.ipv4.tcp_rmem': '4096\t131072\t6291456',
  'net.core.wmem_max': '212992',
  'net.core.rmem_max': '212992',
  'fs.pipe-max-size': '1048576',
  'fs.pipe-user-pages-soft': '16384',
  'fs.pipe-user-pages-hard': '0',
  'net.netfilter.nf_conntrack_max': '262144',
  'net.netfilter.nf_conntrack_count': '10',
};

export function fakeSystem(o: FakeOptions = {}): DoctorSystem {
  const files = new Map<string, string>(Object.entries(o.files ?? {}));
  for (const [name, value] of Object.entries(o.sysctls ?? GOOD_SYSCTLS)) files.set(`/proc/sys/${name.replaceAll('.', '/')}`, `${value}\n`);
  const links = new Map(Object.entries({ '/proc/self/ns/net': 'net:[1]', ...o.links }));
  const under = (dir: string): string[] =>
    [...new Set([...files.keys()].filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1).split('/')[0]))];
  return {
    read: (path) => files.get(path) ?? null,
    exists: (path) => files.has(path) || under(path).length > 0,
    list: under,
    link: (path) => links.get(path) ?? null,
    kernelConfig: () => o.kernelConfig ?? null,
    kernelRelease: () => '6.1.0-test',
    pid: () => 999,
    nftAccepts: () => Promise.resolve(o.nftAccepts ?? false),
    rulesStatus: () => Promise.resolve(o.rules ?? { installed: true, lines: ['nft table inet tcp-intercept: present (4 rules)'] }),
    queueRulesStatus: () => Promise.resolve(o.queueRules ?? { installed: true, lines: ['nft table inet tcp-intercept-queue: present'] }),
  };
}

/** The service's defaults as the doctor reads them, with <over> on top. */
export function settings(over: Partial<DoctorSettings> = {}, proxy: Partial<NonNullable<DoctorSettings['proxy']>> = {}): DoctorSettings {
  return {
    proxy: {
      cc: { client: '', server: '' },
      sndbuf: { client: null, server: null },
      rcvbuf: { client: null, server: null },
      bufferSize: 1 << 20,
      maxConnections: 'auto',
      ...proxy,
    },
    snoop: null,
    workers: 1,
    pidFile: null,
    interfaces: ['eth1'],
    path: null,
    rules: { backend: 'nft', port: 0, interfaces: [], ports: [], excludePorts: [], excludeSources: [], excludeDestinations: [], fwmark: 1, table: 100 },
    configError: null,
    ...over,
  };
}
