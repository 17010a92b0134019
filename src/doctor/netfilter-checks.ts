// What the rules need from netfilter: TPROXY and the socket match in the backend the rules use,
// and for snoop a queue (nft's queue expression, else iptables' NFQUEUE) with nfnetlink_queue.
import type { DoctorSettings } from './doctor-settings.js';
import { fail, info, ok, warn, type Finding } from './finding.js';
import { describePresence, FEATURES, presence, type KernelFeature, type Presence } from './kernel-features.js';
import type { DoctorSystem } from './system.js';

/** Statements the kernel is asked about when nothing on disk says whether it has them. */
const NFT_PROBES = new Map<KernelFeature, string>([
  [FEATURES.nftTproxy, 'meta l4proto tcp tproxy ip to :1'],
  [FEATURES.nftSocket, 'socket transparent 1 accept'],
  [FEATURES.nftQueue, 'meta l4proto tcp queue num 0 bypass'],
]);

const probeRuleset = (statement: string): string =>
  `table inet tcp-intercept-doctor {\n\tchain probe {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n\t\t${statement}\n\t}\n}\n`;

/** The presence of <f>; for an nft feature nothing on disk tells of, `nft -c` asks the kernel (checked, never loaded). */
async function find(sys: DoctorSystem, f: KernelFeature): Promise<{ p: Presence; text: string }> {
  const p = presence(sys, f);
  const probe = NFT_PROBES.get(f);
  if (p !== 'unknown' || probe === undefined) return { p, text: describePresence(f, p) };
  return (await sys.nftAccepts(probeRuleset(probe)))
    ? { p: 'loaded', text: `${f.module} present (the kernel takes a rule using it)` }
    : { p: 'absent', text: `${f.module} absent (the kernel refuses a rule using it)` };
}

const usable = (p: Presence): boolean => p !== 'absent' && p !== 'unknown';

const kernelFix = (f: KernelFeature): string => `a kernel with ${f.config}=m or =y (Debian's has both backends as modules)`;

export async function netfilterChecks(sys: DoctorSystem, s: DoctorSettings): Promise<Finding[]> {
  const findings: Finding[] = [];
  if (s.proxy !== null) {
    const backend = s.rules.backend;
    const needs = backend === 'nft' ? [['tproxy', FEATURES.nftTproxy], ['socket', FEATURES.nftSocket]] as const : [['tproxy', FEATURES.xtTproxy], ['socket', FEATURES.xtSocket]] as const;
    for (const [name, feature] of needs) {
      const { p, text } = await find(sys, feature);
      const id = `netfilter.${name}`;
      const what = `${backend} ${name === 'tproxy' ? 'TPROXY' : 'socket match'}: ${text}`;
      if (usable(p)) findings.push(ok(id, what));
      else if (p === 'unknown') findings.push(warn(id, `${what}; the rules need it`, `check that \`tcp-intercept rules install\` succeeds, or look for ${feature.config} in the kernel's configuration`));
      else findings.push(fail(id, `${what}: the rules cannot divert connections`, backend === 'nft' ? `${kernelFix(feature)}, or rules --backend iptables if it has xt_TPROXY and xt_socket` : kernelFix(feature)));
    }
  }
  const nftQueue = await find(sys, FEATURES.nftQueue);
  if (s.snoop === null) {
    findings.push(info('netfilter.queue', `nft queue: ${nftQueue.text} (needed only by snoop, which is not configured)`));
    return findings;
  }
  const xtQueue = await find(sys, FEATURES.xtNfqueue);
  const nfnl = await find(sys, FEATURES.nfnetlinkQueue);
  if (!usable(nfnl.p)) {
    findings.push(fail('netfilter.queue', `snoop: ${nfnl.text}: its queue cannot be bound`, kernelFix(FEATURES.nfnetlinkQueue)));
  } else if (usable(nftQueue.p)) {
    findings.push(ok('netfilter.queue', `snoop's queue rules: nft queue (${nftQueue.text}); ${nfnl.text}`));
  } else if (usable(xtQueue.p)) {
    findings.push(ok('netfilter.queue', `snoop's queue rules: iptables NFQUEUE (${xtQueue.text}), as nft has no queue here (${nftQueue.text}); ${nfnl.text}`));
  } else {
    findings.push(fail('netfilter.queue', `snoop's queue rules: neither nft queue (${nftQueue.text}) nor iptables NFQUEUE (${xtQueue.text})`, kernelFix(FEATURES.nftQueue)));
  }
  return findings;
}
