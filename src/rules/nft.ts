// nftables backend: one dedicated `table inet tcp-intercept`, replaced atomically on install
// and deleted on remove. Nothing else in the ruleset is read or changed.
import type { Exec } from './exec.js';
import { divertsOf, hex, isV6, type RuleOptions } from './rule-options.js';

export const NFT_TABLE = 'tcp-intercept';
const OWNED = 'proxy-owned';

const set = (items: string[]): string => (items.length === 1 ? items[0] : `{ ${items.join(', ')} }`);

function nftRuleset(o: RuleOptions): string {
  const mark = `meta mark set meta mark | ${hex(o.fwmark)}`;
  const lines = [
    // Packets of the proxy's own connections, and ICMP errors about them (the socket match
    // looks inside those), go to the proxy; new connections to this host are left alone.
    `meta l4proto { tcp, icmp, ipv6-icmp } socket transparent 1 jump ${OWNED}`,
    'fib daddr type local accept',
  ];
  const v4src = o.excludeSources.filter((n) => !isV6(n)), v6src = o.excludeSources.filter(isV6);
  const v4dst = o.excludeDestinations.filter((n) => !isV6(n)), v6dst = o.excludeDestinations.filter(isV6);
  if (v4src.length) lines.push(`ip saddr ${set(v4src)} accept`);
  if (v6src.length) lines.push(`ip6 saddr ${set(v6src)} accept`);
  if (v4dst.length) lines.push(`ip daddr ${set(v4dst)} accept`);
  if (v6dst.length) lines.push(`ip6 daddr ${set(v6dst)} accept`);
  if (o.excludePorts.length) lines.push(`tcp dport ${set(o.excludePorts)} accept`);
  const iif = o.interfaces.length ? `iifname ${set(o.interfaces.map((i) => `"${i}"`))} ` : '';
  // Only a connection's first SYN is diverted: the rest of an intercepted connection matches
  // the socket rule above, and packets of flows that are not intercepted (an excluded port's
  // replies, say) must never be.
  const syn = ' tcp flags & (fin | syn | rst | ack) == syn';
  for (const d of divertsOf(o)) {
    const ports = d.ports.length ? ` tcp dport ${set(d.ports)}` : '';
    for (const [nfproto, family] of [['ipv4', 'ip'], ['ipv6', 'ip6']]) {
      lines.push(`${iif}meta nfproto ${nfproto} meta l4proto tcp${ports}${syn} tproxy ${family} to :${d.port} ${mark} accept`);
    }
  }
  return [
    // Declaring, deleting and redefining the table in one transaction replaces it atomically,
    // whether or not it existed: install is idempotent.
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    // A wildcard listener (the proxy's own, [::]:PORT) is no connection of the proxy: without
    // the return, any packet to that port (a SYN to a server's port 5000, a reply to a client
    // using source port 5000) would be handed to it. `socket wildcard` cannot be a second
    // condition of the rule above: it never matches a request socket (the handshake's last
    // ACK), which must go to the proxy.
    `\tchain ${OWNED} {`,
    '\t\tsocket wildcard 1 return',
    `\t\t${mark} accept`,
    '\t}',
    '\tchain prerouting {',
    '\t\ttype filter hook prerouting priority mangle; policy accept;',
    ...lines.map((l) => `\t\t${l}`),
    '\t}',
    '}',
    '',
  ].join('\n');
}

export async function installNft(exec: Exec, o: RuleOptions): Promise<void> {
  await exec.change('nft', ['-f', '-'], nftRuleset(o));
}

/** Deletes the diversions (the tproxy rules) in one transaction; the rest stays for connections in flight. */
export async function drainNft(exec: Exec): Promise<void> {
  const r = await exec.query('nft', ['-a', 'list', 'chain', 'inet', NFT_TABLE, 'prerouting']);
  if (r.code !== 0) return;   // not installed: nothing is diverted
  const handles = [...r.stdout.matchAll(/ tproxy .* # handle (\d+)$/gm)].map((m) => m[1]);
  if (handles.length) await exec.change('nft', ['-f', '-'], handles.map((h) => `delete rule inet ${NFT_TABLE} prerouting handle ${h}\n`).join(''));
}

export async function removeNft(exec: Exec): Promise<void> {
  if ((await exec.query('nft', ['list', 'table', 'inet', NFT_TABLE])).code === 0) {
    await exec.change('nft', ['delete', 'table', 'inet', NFT_TABLE]);
  }
}

export async function nftStatus(exec: Exec): Promise<string[]> {
  const r = await exec.query('nft', ['list', 'table', 'inet', NFT_TABLE]);
  if (r.code !== 0) return [`nft table inet ${NFT_TABLE}: absent`];
  const rules = r.stdout.split('\n').filter((l) => /accept$/.test(l.trim())).length;
  return [`nft table inet ${NFT_TABLE}: present (${rules} rules)`, ...r.stdout.trimEnd().split('\n').map((l) => `  ${l}`)];
}
