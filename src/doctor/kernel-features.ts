// Whether the kernel has a netfilter feature, read without loading anything: loaded (/sys/module,
// the xt lists in /proc/net), else the build configuration, else the module tree's lists. A
// module the kernel has but has not loaded is fine: the first rule that uses it loads it.
import type { DoctorSystem } from './system.js';

export interface KernelFeature {
  /** the module's name (also /sys/module/NAME) */
  module: string;
  /** its CONFIG_ option */
  config: string;
  /** a /proc/net list that names it once loaded (ip_tables_targets: TPROXY) */
  listed?: { file: string; name: string };
}

export type Presence = 'loaded' | 'built in' | 'module' | 'absent' | 'unknown';

export const FEATURES = {
  xtTproxy: { module: 'xt_TPROXY', config: 'CONFIG_NETFILTER_XT_TARGET_TPROXY', listed: { file: '/proc/net/ip_tables_targets', name: 'TPROXY' } },
  xtSocket: { module: 'xt_socket', config: 'CONFIG_NETFILTER_XT_MATCH_SOCKET', listed: { file: '/proc/net/ip_tables_matches', name: 'socket' } },
  xtNfqueue: { module: 'xt_NFQUEUE', config: 'CONFIG_NETFILTER_XT_TARGET_NFQUEUE', listed: { file: '/proc/net/ip_tables_targets', name: 'NFQUEUE' } },
  nftTproxy: { module: 'nft_tproxy', config: 'CONFIG_NFT_TPROXY' },
  nftSocket: { module: 'nft_socket', config: 'CONFIG_NFT_SOCKET' },
  nftQueue: { module: 'nft_queue', config: 'CONFIG_NFT_QUEUE' },
  nfnetlinkQueue: { module: 'nfnetlink_queue', config: 'CONFIG_NETFILTER_NETLINK_QUEUE', listed: { file: '/proc/net/netfilter/nfnetlink_queue', name: '' } },
} as const satisfies Record<string, KernelFeature>;

function listed(sys: DoctorSystem, f: KernelFeature): boolean {
  if (!f.listed) return false;
  const text = sys.read(f.listed.file);
  return text !== null && (f.listed.name === '' || text.split('\n').includes(f.listed.name));
}

export function presence(sys: DoctorSystem, f: KernelFeature): Presence {
  if (sys.exists(`/sys/module/${f.module}`) || listed(sys, f)) return 'loaded';
  const config = sys.kernelConfig();
  if (config !== null) {
    const value = new RegExp(`^${f.config}=(\\w+)$`, 'm').exec(config)?.[1];
    return value === 'y' ? 'built in' : value === 'm' ? 'module' : 'absent';
  }
  const tree = `/lib/modules/${sys.kernelRelease()}`;
  const builtin = sys.read(`${tree}/modules.builtin`);
  if (builtin === null) return 'unknown';
  if (builtin.includes(`/${f.module}.ko`)) return 'built in';
  return (sys.read(`${tree}/modules.dep`) ?? '').includes(`/${f.module}.ko`) ? 'module' : 'absent';
}

/** How a presence reads in a finding. */
export function describePresence(f: KernelFeature, p: Presence): string {
  switch (p) {
    case 'loaded': return `${f.module} loaded`;
    case 'built in': return `${f.module} built in`;
    case 'module': return `${f.module} a module (loads with the first rule)`;
    case 'absent': return `${f.module} not in this kernel (${f.config})`;
    case 'unknown': return `${f.module} unknown (no kernel configuration or module tree to read)`;
  }
}
