// The queue rules trace installs (src/rules/packet-rules.ts with <addresses>): forwarded TCP on
// any interface but only to or from the trace destinations, the router's own TCP with them, and
// every ICMP error RELATED to a queued flow whoever sends it. Generated for both backends (dry
// runs), and on iptables proven with rule counters in a lab of two routers: the first holds the
// rules, the second answers low-TTL probes with time-exceeded from an address not in the list.
import t from 'tap';
import { Lab, tcpPeerCommand } from '../lab/lab.js';
import { traceroute, tracerouteMissing } from '../helpers/traceroute.js';
import { INJECTION_MARK } from '../../src/config/marks.js';
import { Exec } from '../../src/rules/exec.js';
import type { PacketRuleOptions } from '../../src/rules/packet-rule-options.js';
import { detectQueueBackend, installPacketRules, packetRulesStatus, removePacketRules } from '../../src/rules/packet-rules.js';

const lab = await Lab.create({ tag: 'trules', id: 24, routers: 2 });
t.teardown(() => lab.destroy());
const exec = new Exec(false, lab.ns.router);
const backend = await detectQueueBackend(exec);
const serverEnd = lab.links[lab.links.length - 1].right;
/** A second server address, which the rules leave alone. */
const other = { v4: lab.server.v4.replace(/\.2$/, '.3'), v6: lab.server.v6.replace(/::2$/, '::3') };
for (const cidr of [`${other.v4}/24`, `${other.v6}/64`]) await lab.run('server', 'ip', ['addr', 'add', cidr, 'dev', serverEnd.ifname, ...(cidr.includes(':') ? ['nodad'] : [])]);

const TRACE: PacketRuleOptions = {
  queue: 7,
  forwardInterfaces: [],
  addresses: [lab.server.v4, lab.server.v6],
  local: true,
  icmpRelated: true,
  injectionMark: INJECTION_MARK,
};

const snapshot = async (): Promise<string> => {
  const tables = (await lab.run('router', 'nft', ['list', 'tables'])).replace(/table ip6? (mangle|filter)\n/g, '');
  const rules = async (tool: string): Promise<string> =>
    (await lab.run('router', tool, ['-t', 'mangle', '-S'])).split('\n').filter((l) => !l.startsWith('-P ')).join('\n');
  return [tables, await rules('iptables'), await rules('ip6tables')].join('\n---\n');
};
const pristine = await snapshot();

/** What a dry run of <o> on <b> would run: the iptables commands, or the nft table loaded. */
async function dryRun(o: PacketRuleOptions, b: 'nft' | 'iptables'): Promise<string> {
  const dry = new Exec(true, lab.ns.router);
  await installPacketRules(dry, { ...o, backend: b });
  if (b === 'iptables') return dry.printed.join('\n');
  const load = dry.printed.find((c) => c.includes(' nft -f -')) ?? '';
  return load.slice(load.indexOf('\n') + 1, load.lastIndexOf('EOF'));
}

t.test('options are checked', async (t) => {
  await t.rejects(installPacketRules(exec, { ...TRACE, addresses: [] }), /empty address list/);
  await t.rejects(installPacketRules(exec, { ...TRACE, addresses: ['198.18.0.300'] }), /"198\.18\.0\.300" is not an IPv4 or IPv6 address/);
  await t.rejects(installPacketRules(exec, { ...TRACE, addresses: undefined, local: false }), /nothing to queue/);
  t.equal(await snapshot(), pristine, 'nothing installed');
});

t.test('nft: the generated table', async (t) => {
  const ruleset = await dryRun(TRACE, 'nft');
  const q = 'queue flags bypass to 7';
  for (const dir of ['saddr', 'daddr']) {
    t.match(ruleset, `\t\tip ${dir} ${lab.server.v4} meta l4proto tcp ${q}\n`, `forwarded IPv4 TCP, any interface, ${dir}`);
    t.match(ruleset, `\t\tip6 ${dir} ${lab.server.v6} meta l4proto tcp ${q}\n`, `forwarded IPv6 TCP, any interface, ${dir}`);
    t.match(ruleset, `oifname != "lo" ip ${dir} ${lab.server.v4} meta l4proto tcp ${q}`, `local IPv4 TCP, ${dir}`);
  }
  t.match(ruleset, `\t\tmeta l4proto { icmp, ipv6-icmp } ct state related ct protocol tcp ${q}\n`, 'ICMP errors on any interface, any address');
  t.match(ruleset, `iifname != "lo" meta l4proto { icmp, ipv6-icmp } ct state related ct protocol tcp ${q}`, 'and the local ones');
  t.notMatch(ruleset, /iifname "|oifname "/, 'no interface named');
  t.notMatch(ruleset, /\tmeta l4proto tcp/, 'no TCP rule without an address');
  const v4only = await dryRun({ ...TRACE, addresses: [lab.server.v4, other.v4] }, 'nft');
  t.match(v4only, `ip daddr { ${lab.server.v4}, ${other.v4} } meta l4proto tcp`, 'several addresses: one set');
  t.notMatch(v4only, /ip6 [sd]addr/, 'IPv4 addresses only: no IPv6 TCP rule');

  const sound = backend === 'nft' ? ruleset : ruleset.replaceAll(q, 'accept');
  const check = await lab.exec('router', 'nft', ['-c', '-f', '-'], { input: sound });
  t.equal(check.code, 0, `the kernel takes the table (checked, not loaded${backend === 'nft' ? '' : '; the queue statement, missing here, replaced by accept'}) ${check.stderr}`);
});

t.test('iptables: the generated rules', async (t) => {
  const printed = await dryRun({ ...TRACE, addresses: [lab.server.v4] }, 'iptables');
  const q = '-j NFQUEUE --queue-num 7 --queue-bypass';
  for (const dir of ['-s', '-d']) {
    t.match(printed, ` iptables -t mangle -A tcp-intercept-queue-fwd ${dir} ${lab.server.v4} -p tcp ${q}\n`, `forwarded TCP ${dir}, any interface`);
    t.match(printed, ` iptables -t mangle -A tcp-intercept-queue-out ! -o lo ${dir} ${lab.server.v4} -p tcp ${q}\n`, `local TCP ${dir}`);
  }
  t.match(printed, ` iptables -t mangle -A tcp-intercept-queue-fwd -p icmp -m conntrack --ctstate RELATED --ctproto tcp ${q}\n`, 'ICMP errors, any interface and address');
  t.match(printed, ` ip6tables -t mangle -A tcp-intercept-queue-fwd -p ipv6-icmp -m conntrack --ctstate RELATED --ctproto tcp ${q}\n`, 'ICMPv6 errors too');
  t.notMatch(printed, /ip6tables .* -p tcp /, 'no IPv6 address: no IPv6 TCP rule');
  t.notMatch(printed, / -[io] veth/, 'no interface named');
});

t.test(`${backend}: install, status, remove`, async (t) => {
  await installPacketRules(exec, { ...TRACE, backend });
  const status = await packetRulesStatus(exec, { backend, local: true });
  t.ok(status.installed, 'status: installed');
  const text = status.lines.join('\n');
  t.match(text, backend === 'nft' ? `ip6 daddr ${lab.server.v6}` : `-A tcp-intercept-queue-fwd -d ${lab.server.v4}/32 -p tcp`, 'status lists the address rules');
  await removePacketRules(exec);
  t.equal(await snapshot(), pristine, 'remove leaves the firewall as it was');
  t.notOk((await packetRulesStatus(exec, { backend, local: true })).installed, 'status: not installed');
});

/** Packets counted by the rules of <chain> whose text matches <re>. */
async function counted(tool: string, chain: string, re: RegExp): Promise<number> {
  const out = await lab.run('router', tool, ['-t', 'mangle', '-S', chain, '-v']);
  let sum = 0;
  for (const l of out.split('\n')) if (l.startsWith('-A ') && re.test(l.replace(/ -c \d+ \d+/, ''))) sum += Number(/ -c (\d+) /.exec(l)?.[1]);
  return sum;
}

const TCP = /-p tcp -j NFQUEUE/;
const ICMP = /--ctstate RELATED .*NFQUEUE/;
const PORT = 7001;

t.test('iptables: what trace rules queue', async (t) => {
  await installPacketRules(exec, { ...TRACE, backend: 'iptables' });
  t.teardown(() => removePacketRules(exec));
  const [serveCmd, serveArgs] = tcpPeerCommand(['serve', '--port', String(PORT)]);
  lab.spawn('server', serveCmd, serveArgs);
  await lab.waitForListen('server', PORT);
  const xfer = async (from: string, host: string): Promise<number> => {
    const [cmd, args] = tcpPeerCommand(['xfer', '--host', host, '--port', String(PORT), '--bytes', '64k', '--back', '64k', '--timeout-ms', '5000']);
    return (JSON.parse((await lab.exec(from, cmd, args, { timeoutMs: 20_000 })).stdout) as { ok: number }).ok;
  };
  const missing = tracerouteMissing();

  for (const [family, tool] of [['v4', 'iptables'], ['v6', 'ip6tables']] as const) {
    const v = `IPv${family[1]}`;
    const to = (addr: string): RegExp => new RegExp(`-d ${addr.replace(/\./g, '\\.')}/(32|128) .*${TCP.source}`);
    const from = (addr: string): RegExp => new RegExp(`-s ${addr.replace(/\./g, '\\.')}/(32|128) .*${TCP.source}`);
    const [toServer, fromServer] = [await counted(tool, 'tcp-intercept-queue-fwd', to(lab.server[family])), await counted(tool, 'tcp-intercept-queue-fwd', from(lab.server[family]))];
    t.equal(await xfer('client', lab.server[family]), 1, `${v}: a transfer to the destination passes (bypass: no program listens)`);
    t.ok((await counted(tool, 'tcp-intercept-queue-fwd', to(lab.server[family]))) > toServer, `${v}: its TCP toward the destination was queued`);
    t.ok((await counted(tool, 'tcp-intercept-queue-fwd', from(lab.server[family]))) > fromServer, `${v}: and the TCP back from it`);

    const allTcp = await counted(tool, 'tcp-intercept-queue-fwd', TCP);
    t.equal(await xfer('client', other[family]), 1, `${v}: a transfer to another address of the server`);
    t.equal(await counted(tool, 'tcp-intercept-queue-fwd', TCP), allTcp, `${v}: was not queued`);

    const [out, inn] = [await counted(tool, 'tcp-intercept-queue-out', to(lab.server[family])), await counted(tool, 'tcp-intercept-queue-in', from(lab.server[family]))];
    t.equal(await xfer('router', lab.server[family]), 1, `${v}: the router's own transfer to the destination`);
    t.ok((await counted(tool, 'tcp-intercept-queue-out', to(lab.server[family]))) > out, `${v}: its TCP leaving the router was queued (OUTPUT)`);
    t.ok((await counted(tool, 'tcp-intercept-queue-in', from(lab.server[family]))) > inn, `${v}: and the TCP arriving (INPUT)`);

    t.test(`${v}: time-exceeded from the next router, which is not a destination`, { skip: missing }, async (t) => {
      const second = lab.links[1].right[family];
      for (const [host, chain, what] of [['client', 'tcp-intercept-queue-fwd', 'forwarded to the client (FORWARD)'], ['router', 'tcp-intercept-queue-in', "to the router's own probe (INPUT)"]] as const) {
        const before = await counted(tool, chain, ICMP);
        const hops = await traceroute(lab, host, lab.server[family], { port: PORT, firstTtl: host === 'client' ? 2 : 1, maxTtl: host === 'client' ? 2 : 1 });
        t.same(hops.map((h) => h.address), [second], `the second router answered the probe of TTL ${hops[0]?.ttl}`);
        t.ok((await counted(tool, chain, ICMP)) > before, `its ICMP error ${what} was queued`);
      }
    });
  }
});
