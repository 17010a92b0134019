// iptables backend of the packet pipeline's queue rules (where the kernel has no nft queue
// expression): our own chains in the mangle table of iptables and ip6tables, appended to from
// FORWARD, INPUT and OUTPUT. Mangle, not filter: a packet the queue accepts skips the rest of the
// chain that queued it, and in filter that would be the administrator's own filter rules.
import type { Exec } from './exec.js';
import { familyAddresses, SMALL_PACKET, type Family, type PacketRuleOptions, type PacketStatusOptions, type RuleSet } from './packet-rule-options.js';
import { iptablesMarkMatch, iptablesQueueTarget } from './queue-target.js';

const TABLE = 'mangle';
const TOOLS = [['iptables', 'icmp', 'v4'], ['ip6tables', 'ipv6-icmp', 'v6']] as const;
type Hook = 'FORWARD' | 'INPUT' | 'OUTPUT';
const HOOKS: readonly Hook[] = ['FORWARD', 'INPUT', 'OUTPUT'];
const SUFFIX: Record<Hook, string> = { FORWARD: 'fwd', INPUT: 'in', OUTPUT: 'out' };
/** Our chain of a rule set for each built-in chain it hangs from. */
const chainOf = (set: RuleSet = 'queue', hook: Hook): string => `tcp-intercept-${set}-${SUFFIX[hook]}`;

const hooksOf = (local: boolean | undefined): readonly Hook[] => (local ? HOOKS : ['FORWARD']);

/** The matches of the TCP to queue, one rule each: all of it, or to and from each address
 *  (with <sampleLarge>: the small packets, and one in so many larger ones). */
function tcpMatches(o: PacketRuleOptions, family: Family): string[][] {
  const addresses = familyAddresses(o, family);
  if (addresses === undefined) return [['-p', 'tcp']];
  const sizes = o.sampleLarge
    ? [['-m', 'length', '--length', `0:${SMALL_PACKET}`], ['-m', 'length', '--length', `${SMALL_PACKET + 1}:65535`, '-m', 'statistic', '--mode', 'nth', '--every', String(o.sampleLarge), '--packet', '0']]
    : [[]];
  return addresses.flatMap((a) => ['-s', '-d'].flatMap((dir) => sizes.map((size) => [dir, a, '-p', 'tcp', ...size])));
}

/** Interface matches of the forwarded packets to queue: through each interface, or any. */
function forwardedOn(o: PacketRuleOptions): string[][] {
  if (o.forwardInterfaces.length === 0) return o.addresses ? [[]] : [];
  return ['-i', '-o'].flatMap((dir) => o.forwardInterfaces.map((ifname) => [dir, ifname]));
}

/** The rules of our chains for one family, each as iptables arguments after `-A CHAIN`. */
function chainRules(o: PacketRuleOptions, icmp: string, family: Family): Record<Hook, string[][]> {
  const queue = iptablesQueueTarget(o.queue);
  const tcp = tcpMatches(o, family);
  const relatedIcmp = ['-p', icmp, '-m', 'conntrack', '--ctstate', 'RELATED', '--ctproto', 'tcp'];
  const skipInjected = [...iptablesMarkMatch(o.injectionMark), '-j', 'RETURN'];
  const forward = [skipInjected];
  for (const on of forwardedOn(o)) {
    forward.push(...tcp.map((m) => [...on, ...m, ...queue]));
    if (o.icmpRelated) forward.push([...on, ...relatedIcmp, ...queue]);
  }
  const input = [skipInjected, ...tcp.map((m) => ['!', '-i', 'lo', ...m, ...queue])];
  if (o.icmpRelated) input.push(['!', '-i', 'lo', ...relatedIcmp, ...queue]);
  return { FORWARD: forward, INPUT: input, OUTPUT: [skipInjected, ...tcp.map((m) => ['!', '-o', 'lo', ...m, ...queue])] };
}

async function removeChain(exec: Exec, tool: string, chain: string, hook: Hook): Promise<void> {
  while (await exec.undo(tool, ['-t', TABLE, '-D', hook, '-j', chain])) { /* every jump we added */ }
  await exec.undo(tool, ['-t', TABLE, '-F', chain]);
  await exec.undo(tool, ['-t', TABLE, '-X', chain]);
}

/** Takes out every chain and jump of a rule set, whichever were made. */
export async function removeIptablesQueue(exec: Exec, set: RuleSet = 'queue'): Promise<void> {
  for (const [tool] of TOOLS) for (const hook of HOOKS) await removeChain(exec, tool, chainOf(set, hook), hook);
}

export async function installIptablesQueue(exec: Exec, o: PacketRuleOptions): Promise<void> {
  await removeIptablesQueue(exec, o.set);
  for (const [tool, icmp, family] of TOOLS) {
    const rules = chainRules(o, icmp, family);
    for (const hook of hooksOf(o.local)) {
      const chain = chainOf(o.set, hook);
      await exec.change(tool, ['-t', TABLE, '-N', chain]);
      for (const rule of rules[hook]) await exec.change(tool, ['-t', TABLE, '-A', chain, ...rule]);
      await exec.change(tool, ['-t', TABLE, '-A', hook, '-j', chain]);
    }
  }
}

export async function iptablesQueueStatus(exec: Exec, o: PacketStatusOptions): Promise<string[]> {
  const lines: string[] = [];
  for (const [tool] of TOOLS) {
    for (const hook of hooksOf(o.local)) {
      const chain = chainOf(o.set, hook);
      const r = await exec.query(tool, ['-t', TABLE, '-S', chain]);
      const rules = r.code === 0 ? r.stdout.split('\n').filter((l) => l.startsWith('-A ')) : [];
      const jump = (await exec.query(tool, ['-t', TABLE, '-C', hook, '-j', chain])).code === 0;
      lines.push(`${tool} ${TABLE} chain ${chain}: ${r.code === 0 ? `present (${rules.length} rules)` : 'absent'}`);
      lines.push(...rules.map((l) => `  ${l}`));
      lines.push(`${tool} ${TABLE} ${hook} -j ${chain}: ${jump ? 'present' : 'absent'}`);
    }
  }
  return lines;
}
