// nftables backend of the packet pipeline's queue rules: one `table inet tcp-intercept-queue`,
// replaced atomically on install and deleted on remove, as the TPROXY table is.
import type { Exec } from './exec.js';
import { familyAddresses, SMALL_PACKET, type PacketRuleOptions, type PacketStatusOptions, type RuleSet } from './packet-rule-options.js';
import { nftMarkMatch, nftQueueStatement } from './queue-target.js';

/** The table of a rule set. */
const tableOf = (set: RuleSet = 'queue'): string => `tcp-intercept-${set}`;

const set = (items: string[]): string => (items.length === 1 ? items[0] : `{ ${items.join(', ')} }`);
const names = (ifs: string[]): string => set(ifs.map((i) => `"${i}"`));
const RELATED_ICMP = 'meta l4proto { icmp, ipv6-icmp } ct state related ct protocol tcp';

function chain(name: string, hook: string, rules: string[]): string[] {
  return [`\tchain ${name} {`, `\t\ttype filter hook ${hook} priority mangle; policy accept;`, ...rules.map((r) => `\t\t${r}`), '\t}'];
}

/** The matches of the TCP to queue, one rule each: all of it, or to and from each family's addresses. */
function tcpMatches(o: PacketRuleOptions): string[] {
  if (!o.addresses) return ['meta l4proto tcp'];
  const matches: string[] = [];
  for (const [family, ip] of [['v4', 'ip'], ['v6', 'ip6']] as const) {
    const addresses = familyAddresses(o, family) ?? [];
    if (addresses.length === 0) continue;
    for (const dir of ['saddr', 'daddr']) {
      const tcp = `${ip} ${dir} ${set(addresses)} meta l4proto tcp`;
      if (o.sampleLarge) matches.push(`${tcp} meta length <= ${SMALL_PACKET}`, `${tcp} meta length > ${SMALL_PACKET} numgen inc mod ${o.sampleLarge} 0`);
      else matches.push(tcp);
    }
  }
  return matches;
}

/** Interface matches of the forwarded packets to queue: through the interfaces, or any. */
function forwardedOn(o: PacketRuleOptions): string[] {
  if (o.forwardInterfaces.length === 0) return o.addresses ? [''] : [];
  return ['iifname', 'oifname'].map((dir) => `${dir} ${names(o.forwardInterfaces)} `);
}

function nftQueueRuleset(o: PacketRuleOptions): string {
  const queue = nftQueueStatement(o.queue);
  const tcp = tcpMatches(o);
  const skipInjected = `${nftMarkMatch(o.injectionMark)} accept`;
  const forward = [skipInjected];
  for (const on of forwardedOn(o)) {
    forward.push(...tcp.map((m) => `${on}${m} ${queue}`));
    if (o.icmpRelated) forward.push(`${on}${RELATED_ICMP} ${queue}`);
  }
  const chains = chain('forward', 'forward', forward);
  if (o.local) {
    const input = [skipInjected, ...tcp.map((m) => `iifname != "lo" ${m} ${queue}`)];
    if (o.icmpRelated) input.push(`iifname != "lo" ${RELATED_ICMP} ${queue}`);
    chains.push(...chain('input', 'input', input), ...chain('output', 'output', [skipInjected, ...tcp.map((m) => `oifname != "lo" ${m} ${queue}`)]));
  }
  // Declaring, deleting and redefining the table in one transaction replaces it atomically.
  const table = tableOf(o.set);
  return [`table inet ${table}`, `delete table inet ${table}`, `table inet ${table} {`, ...chains, '}', ''].join('\n');
}

export async function installNftQueue(exec: Exec, o: PacketRuleOptions): Promise<void> {
  await exec.change('nft', ['-f', '-'], nftQueueRuleset(o));
}

export async function removeNftQueue(exec: Exec, set: RuleSet = 'queue'): Promise<void> {
  const table = tableOf(set);
  if ((await exec.query('nft', ['list', 'table', 'inet', table])).code === 0) {
    await exec.change('nft', ['delete', 'table', 'inet', table]);
  }
}

export async function nftQueueStatus(exec: Exec, o: PacketStatusOptions): Promise<string[]> {
  const table = tableOf(o.set);
  const r = await exec.query('nft', ['list', 'table', 'inet', table]);
  if (r.code !== 0) return [`nft table inet ${table}: absent`];
  const lines = [`nft table inet ${table}: present`];
  for (const name of o.local ? ['forward', 'input', 'output'] : ['forward']) {
    lines.push(`nft chain ${name}: ${new RegExp(`^\\s*chain ${name} \\{`, 'm').test(r.stdout) ? 'present' : 'absent'}`);
  }
  return [...lines, ...r.stdout.trimEnd().split('\n').map((l) => `  ${l}`)];
}

/** The same statement in a scratch table, checked by the kernel (`nft -c`) and never loaded. */
export async function nftHasQueue(exec: Exec): Promise<boolean> {
  const probe = [
    `table inet ${tableOf()}-probe {`,
    ...chain('probe', 'forward', [`meta l4proto tcp ${nftQueueStatement(0)}`]),
    '}',
    '',
  ].join('\n');
  return (await exec.query('nft', ['-c', '-f', '-'], probe)).code === 0;
}
