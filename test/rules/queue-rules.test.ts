// The packet pipeline's queue rules (src/rules/packet-rules.ts) in a router: install, status,
// idempotence, dry run, remove (also after a crash mid-install), on the backend the kernel has;
// and, with iptables' rule counters, what they queue: forwarded TCP, ICMP errors about it, the
// host's own TCP, but never packets carrying the injection mark.
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Lab, tcpPeerCommand } from '../lab/lab.js';
import { INJECTION_MARK } from '../../src/config/marks.js';
import { buildTcpPacket, TcpFlag, type IpSpec } from '../../src/packet/index.js';
import { Exec } from '../../src/rules/exec.js';
import type { PacketRuleOptions, QueueBackend } from '../../src/rules/packet-rule-options.js';
import { detectQueueBackend, installPacketRules, packetRulesStatus, removePacketRules } from '../../src/rules/packet-rules.js';
import type { Plan } from '../inject/send-packets.js';

const SEND_PACKETS = fileURLToPath(new URL('../inject/send-packets.ts', import.meta.url));
const QUEUE_RUNNER = fileURLToPath(new URL('../nfq/queue-runner.ts', import.meta.url));

const lab = await Lab.create({ tag: 'qrules', id: 25 });
t.teardown(() => lab.destroy());
const exec = new Exec(false, lab.ns.router);
const OPTIONS: PacketRuleOptions = {
  queue: { first: 3, last: 5 },
  forwardInterfaces: [lab.clientIf, lab.serverIf],
  local: true,
  icmpRelated: true,
  injectionMark: INJECTION_MARK,
};

// Someone else's rules, which must survive everything we do.
for (const tool of ['iptables', 'ip6tables']) await lab.run('router', tool, ['-t', 'mangle', '-A', 'FORWARD', '-p', 'udp', '--dport', '9', '-j', 'ACCEPT']);
await lab.run('router', 'nft', ['-f', '-'], { input: 'table inet keepme {\n  chain c { type filter hook input priority 0; policy accept; }\n}\n' });

// iptables-nft keeps built-in chains once made: compare rules and tables, not nft's view of those.
const snapshot = async (): Promise<string> => {
  const tables = (await lab.run('router', 'nft', ['list', 'tables'])).replace(/table ip6? (mangle|filter)\n/g, '');
  const rules = async (tool: string): Promise<string> =>
    (await lab.run('router', tool, ['-t', 'mangle', '-S'])).split('\n').filter((l) => !l.startsWith('-P ')).join('\n');
  return [tables, await rules('iptables'), await rules('ip6tables')].join('\n---\n');
};
const pristine = await snapshot();
const detected = await detectQueueBackend(exec);

t.test(`detection: the kernel here takes ${detected} queue rules`, async (t) => {
  t.ok(detected === 'nft' || detected === 'iptables');
  t.equal(await snapshot(), pristine, 'detecting changes nothing');
});

/** An Exec that fails after <n> changes, as a crash in the middle of an install would leave things. */
class FailingExec extends Exec {
  constructor(ns: string, private left: number) {
    super(false, ns);
  }

  override async change(cmd: string, args: string[], input?: string): Promise<void> {
    if (this.left-- <= 0) throw new Error('crash');
    await super.change(cmd, args, input);
  }
}

const backends: QueueBackend[] = detected === 'nft' ? ['nft', 'iptables'] : ['iptables'];
for (const backend of backends) {
  t.test(`${backend}: install, status, idempotence, remove`, async (t) => {
    t.equal(await installPacketRules(exec, { ...OPTIONS, backend }), backend, 'installed with the backend asked for');
    const status = await packetRulesStatus(exec, { backend, local: true });
    t.ok(status.installed, 'status: installed');
    t.notMatch(status.lines.join('\n'), /absent/);
    const once = await snapshot();
    await installPacketRules(exec, { ...OPTIONS, backend });
    t.equal(await snapshot(), once, 'a second install changes nothing');
    await removePacketRules(exec);
    t.equal(await snapshot(), pristine, 'remove leaves the firewall as it was');
    await removePacketRules(exec);
    t.equal(await snapshot(), pristine, 'remove with nothing installed is fine');
    const after = await packetRulesStatus(exec, { backend, local: true });
    t.notOk(after.installed, 'status: not installed');
    t.match(after.lines.join('\n'), /absent/);
  });

  t.test(`${backend}: a dry run prints the commands and changes nothing`, async (t) => {
    const dry = new Exec(true, lab.ns.router);
    await installPacketRules(dry, { ...OPTIONS, backend });
    const printed = dry.printed.join('\n');
    t.match(printed, `ip netns exec ${lab.ns.router} `, 'each command runs in the namespace');
    t.match(printed, backend === 'nft' ? /queue flags bypass to 3-5/ : /-j NFQUEUE --queue-balance 3:5 --queue-bypass/);
    t.equal(await snapshot(), pristine, 'nothing changed');
  });

  t.test(`${backend}: remove cleans up after a crash mid-install`, async (t) => {
    for (const changes of [1, 5, 12]) {
      await t.rejects(installPacketRules(new FailingExec(lab.ns.router, changes), { ...OPTIONS, backend }), /crash/);
      await removePacketRules(exec);
      t.equal(await snapshot(), pristine, `after ${changes} changes: nothing left`);
    }
  });
}

if (detected === 'iptables') {
  t.test('nft backend on a kernel without the nft queue expression', async (t) => {
    await t.rejects(installPacketRules(exec, { ...OPTIONS, backend: 'nft' }), /No such file or directory/, 'the kernel refuses it');
    t.equal(await snapshot(), pristine, 'and nothing is left');
    const dry = new Exec(true, lab.ns.router);
    await installPacketRules(dry, { ...OPTIONS, backend: 'nft' });
    const text = dry.printed.find((c) => c.includes(' nft -f -')) ?? '';
    const ruleset = text.slice(text.indexOf('\n') + 1, text.lastIndexOf('EOF'));
    const check = await lab.exec('router', 'nft', ['-c', '-f', '-'], { input: ruleset.replace(/queue flags bypass to 3-5/g, 'accept') });
    t.equal(check.code, 0, `the rest of the generated table is sound: only the queue statement is missing here ${check.stderr}`);
  });
}

/** Packet counts of the rules of one of our chains, keyed by the rule's text. */
async function counters(tool: string, chain: string): Promise<Map<string, number>> {
  const out = await lab.run('router', tool, ['-t', 'mangle', '-S', chain, '-v']);
  const rules = out.split('\n').filter((l) => l.startsWith('-A '));
  return new Map(rules.map((l) => [l.replace(/ -c \d+ \d+/, ''), Number(/ -c (\d+) /.exec(l)?.[1])]));
}

/** Packets counted by the rules of <chain> whose text matches <re>. */
async function counted(tool: string, chain: string, re: RegExp): Promise<number> {
  let sum = 0;
  for (const [rule, packets] of await counters(tool, chain)) if (re.test(rule)) sum += packets;
  return sum;
}

const RELATED_ICMP = /--ctstate RELATED .*NFQUEUE/;
const QUEUED_TCP = /-p tcp -j NFQUEUE/;
const SKIPPED = new RegExp(`--mark 0x${INJECTION_MARK.toString(16)}/0x${INJECTION_MARK.toString(16)} -j RETURN`);

t.test('iptables: what the rules queue', async (t) => {
  await installPacketRules(exec, { ...OPTIONS, backend: 'iptables' });
  t.teardown(() => removePacketRules(exec));
  await lab.run('server', 'nft', ['-f', '-'], {
    input: 'table inet unreach {\n  chain input { type filter hook input priority 0; policy accept;\n    tcp dport 7998 reject with icmpx type host-unreachable\n  }\n}\n',
  });
  const [serveCmd, serveArgs] = tcpPeerCommand(['serve', '--port', '7001']);
  lab.spawn('server', serveCmd, serveArgs);
  await lab.waitForListen('server', 7001);
  const xfer = async (family: 'v4' | 'v6', port: number) => {
    const [cmd, args] = tcpPeerCommand(['xfer', '--host', lab.server[family], '--port', String(port), '--bytes', '64k', '--back', '64k', '--timeout-ms', '5000']);
    return JSON.parse((await lab.exec('client', cmd, args, { timeoutMs: 20_000 })).stdout) as { ok: number; errors: Record<string, number> };
  };

  for (const [family, tool] of [['v4', 'iptables'], ['v6', 'ip6tables']] as const) {
    const tcpBefore = await counted(tool, 'tcp-intercept-queue-fwd', QUEUED_TCP);
    t.equal((await xfer(family, 7001)).ok, 1, `IPv${family[1]}: a transfer passes the queue rules (bypass: no program listens)`);
    t.ok((await counted(tool, 'tcp-intercept-queue-fwd', QUEUED_TCP)) > tcpBefore, `IPv${family[1]}: its forwarded TCP was queued`);

    const icmpBefore = await counted(tool, 'tcp-intercept-queue-fwd', RELATED_ICMP);
    await lab.exec('client', 'ping', ['-c', '3', '-i', '0.05', '-W', '1', lab.server[family]]);
    t.equal(await counted(tool, 'tcp-intercept-queue-fwd', RELATED_ICMP), icmpBefore, `IPv${family[1]}: ping (not RELATED) is not queued`);
    t.equal((await xfer(family, 7998)).ok, 0, 'a connection to a port the server rejects with ICMP fails');
    t.ok((await counted(tool, 'tcp-intercept-queue-fwd', RELATED_ICMP)) > icmpBefore, `IPv${family[1]}: the ICMP error about it was queued`);
  }

  const segment = (ip: IpSpec): string =>
    buildTcpPacket(ip, { srcPort: 40000, dstPort: 7999, seq: 1, ack: 1, flags: TcpFlag.ACK, payload: Buffer.from('x') }).toString('hex');
  const steps = [
    { op: 'send' as const, via: 'injector' as const, hex: segment({ version: 4, src: lab.routerServerSide.v4, dst: lab.server.v4, ident: 1 }) },
    { op: 'send' as const, via: 'injector' as const, hex: segment({ version: 6, src: lab.routerServerSide.v6, dst: lab.server.v6 }) },
  ];
  const inject = async (mark: number): Promise<void> => {
    const plan: Plan = { mark, priority: 0, steps };
    await lab.run('router', process.execPath, [...process.execArgv, SEND_PACKETS, JSON.stringify(plan)]);
  };
  for (const tool of ['iptables', 'ip6tables']) {
    const [queued, skipped] = [await counted(tool, 'tcp-intercept-queue-out', QUEUED_TCP), await counted(tool, 'tcp-intercept-queue-out', SKIPPED)];
    await inject(INJECTION_MARK);
    t.equal(await counted(tool, 'tcp-intercept-queue-out', QUEUED_TCP), queued, `${tool}: an injection carrying the mark is not queued`);
    t.equal(await counted(tool, 'tcp-intercept-queue-out', SKIPPED), skipped + 1, `${tool}: the mark exclusion took it`);
    await inject(0x8);
    t.equal(await counted(tool, 'tcp-intercept-queue-out', QUEUED_TCP), queued + 1, `${tool}: one without the mark is (the host's own TCP)`);
  }
});

t.test('iptables: a queue bound to the range receives the packets', async (t) => {
  await installPacketRules(exec, { ...OPTIONS, local: false, backend: 'iptables' });
  t.teardown(() => removePacketRules(exec));
  const runner = lab.spawn('router', process.execPath, [...process.execArgv, QUEUE_RUNNER, 'accept', JSON.stringify({ queue: OPTIONS.queue })]);
  await runner.waitForOutput(/^ready$/m, 20_000);
  const [cmd, args] = tcpPeerCommand(['xfer', '--host', lab.server.v4, '--port', '7001', '--bytes', '1m', '--back', '1m']);
  const s = JSON.parse(await lab.run('client', cmd, args, { timeoutMs: 30_000 })) as { ok: number };
  runner.kill('SIGTERM');
  await runner.exited;
  t.equal(s.ok, 1, 'a transfer through the queue is byte-exact');
  const stats = JSON.parse(/^stats (.*)$/m.exec(runner.stdout())?.[1] ?? '{}') as { packets?: number; accepted?: number };
  t.ok((stats.packets ?? 0) > 1000 / 64, `the queue took its packets (${stats.packets})`);
  t.equal(stats.accepted, stats.packets, 'and accepted each');
});
