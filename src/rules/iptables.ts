// iptables backend (when nft is absent): a `tcp-intercept` chain in the mangle table of
// iptables and ip6tables, jumped to from PREROUTING. Install rebuilds the chain; remove takes
// out the jump and the chain and nothing else.
import type { Exec } from './exec.js';
import { divertsOf, hex, isV6, type RuleOptions } from './rule-options.js';

const CHAIN = 'tcp-intercept';
const TOOLS = [['iptables', 'icmp', false], ['ip6tables', 'ipv6-icmp', true]] as const;

/** The rules of our chain for one family, each as iptables arguments after `-A CHAIN`. */
function chainRules(o: RuleOptions, v6: boolean, icmp: string): string[][] {
  const mark = ['-j', 'MARK', '--set-xmark', `${hex(o.fwmark)}/${hex(o.fwmark)}`];
  const rules: string[][] = [
    ['-p', icmp, '-m', 'socket', '--transparent', ...mark],
    ['-p', icmp, '-m', 'socket', '--transparent', '-j', 'RETURN'],
    ['-p', 'tcp', '-m', 'socket', '--transparent', ...mark],
    ['-p', 'tcp', '-m', 'socket', '--transparent', '-j', 'RETURN'],
    ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'RETURN'],
  ];
  for (const net of o.excludeSources.filter((n) => isV6(n) === v6)) rules.push(['-s', net, '-j', 'RETURN']);
  for (const net of o.excludeDestinations.filter((n) => isV6(n) === v6)) rules.push(['-d', net, '-j', 'RETURN']);
  for (const p of o.excludePorts) rules.push(['-p', 'tcp', '--dport', p.replace('-', ':'), '-j', 'RETURN']);
  for (const d of divertsOf(o)) {
    const ports = d.ports.length ? ['-m', 'multiport', '--dports', d.ports.map((p) => p.replace('-', ':')).join(',')] : [];
    const tproxy = ['-j', 'TPROXY', '--on-port', String(d.port), '--tproxy-mark', `${hex(o.fwmark)}/${hex(o.fwmark)}`];
    for (const iif of o.interfaces.length ? o.interfaces : [null]) {
      // The first SYN only, as in the nft backend.
      rules.push([...(iif ? ['-i', iif] : []), '-p', 'tcp', '--syn', ...ports, ...tproxy]);
    }
  }
  return rules;
}

async function removeChain(exec: Exec, tool: string): Promise<void> {
  while (await exec.undo(tool, ['-t', 'mangle', '-D', 'PREROUTING', '-j', CHAIN])) { /* every jump we added */ }
  await exec.undo(tool, ['-t', 'mangle', '-F', CHAIN]);
  await exec.undo(tool, ['-t', 'mangle', '-X', CHAIN]);
}

export async function installIptables(exec: Exec, o: RuleOptions): Promise<void> {
  for (const [tool, icmp, v6] of TOOLS) {
    await removeChain(exec, tool);
    await exec.change(tool, ['-t', 'mangle', '-N', CHAIN]);
    for (const rule of chainRules(o, v6, icmp)) await exec.change(tool, ['-t', 'mangle', '-A', CHAIN, ...rule]);
    await exec.change(tool, ['-t', 'mangle', '-A', 'PREROUTING', '-j', CHAIN]);
  }
}

/** Deletes the TPROXY rules of our chains one by one; the rest stays for connections in flight. */
export async function drainIptables(exec: Exec): Promise<void> {
  for (const [tool] of TOOLS) {
    const r = await exec.query(tool, ['-t', 'mangle', '-S', CHAIN]);
    if (r.code !== 0) continue;   // not installed: nothing is diverted
    for (const rule of r.stdout.split('\n').filter((l) => l.startsWith(`-A ${CHAIN} `) && / -j TPROXY( |$)/.test(l))) {
      await exec.change(tool, ['-t', 'mangle', '-D', ...rule.split(' ').slice(1)]);
    }
  }
}

export async function removeIptables(exec: Exec): Promise<void> {
  for (const [tool] of TOOLS) await removeChain(exec, tool);
}

export async function iptablesStatus(exec: Exec): Promise<string[]> {
  const lines: string[] = [];
  for (const [tool] of TOOLS) {
    const r = await exec.query(tool, ['-t', 'mangle', '-S', CHAIN]);
    const rules = r.code === 0 ? r.stdout.split('\n').filter((l) => l.startsWith('-A ')) : [];
    lines.push(`${tool} mangle chain ${CHAIN}: ${r.code === 0 ? `present (${rules.length} rules)` : 'absent'}`);
    lines.push(...rules.map((l) => `  ${l}`));
  }
  return lines;
}
