// The NFQUEUE binding on a real forwarding path: client -> router (FORWARD -j NFQUEUE) -> server.
import t from 'tap';
import { streamSha256 } from '../lab/stream.js';
import { Lab, tcpPeerCommand, type LabProcess } from '../lab/lab.js';
import { parsePing } from '../helpers/ping.js';
import { checkBookkeeping, queueRules as labQueueRules, withQueue as labWithQueue, type RunnerStats } from './queue-lab.js';

const lab = await Lab.create({ tag: 'nfq', id: 17 });
t.teardown(() => lab.destroy());
const withQueue = (mode: string, options: object, fn: () => Promise<void>): Promise<RunnerStats> => labWithQueue(lab, mode, options, fn);
const queueRules = (action: '-A' | '-D', protocols: string[], extra?: string[], target?: string[]): Promise<void> =>
  labQueueRules(lab, action, protocols, extra, target);

t.test('accept path: TCP both ways over IPv4 and IPv6, byte-exact, batched verdicts', async (t) => {
  await queueRules('-A', ['tcp']);
  t.teardown(() => queueRules('-D', ['tcp']));
  const [cmd, args] = tcpPeerCommand(['serve', '--port', '7100']);
  const server: LabProcess = lab.spawn('server', cmd, args);
  t.teardown(() => server.kill());
  await lab.waitForListen('server', 7100);
  const stats = await withQueue('parse', {}, async () => {
    for (const [family, seed] of [['v4', 31], ['v6', 32]] as const) {
      const [c, a] = tcpPeerCommand(['xfer', '--host', lab.server[family], '--port', '7100', '--bytes', '8m', '--back', '8m', '--seed', String(seed)]);
      const s = JSON.parse(await lab.run('client', c, a, { timeoutMs: 60_000 })) as { ok: number; results: { receivedSha256: string }[] };
      t.equal(s.ok, 1, `IPv${family[1]} transfer ok`);
      t.equal(s.results[0].receivedSha256, streamSha256(seed + 1_000_000, 8 << 20), `IPv${family[1]} reply byte-exact`);
    }
  });
  checkBookkeeping(t, stats);
  t.ok(stats.packets > 2 * (16 << 20) / 65536, `the data went through the queue (${stats.packets} packets)`);
  t.equal(stats.parseErrors, 0, 'every queued packet parses');
  t.ok(stats.batchVerdicts > 0, `contiguous accepts went as batch verdicts (${stats.batchVerdicts})`);
  t.equal(stats.gso, 0, 'no GSO packet without F_GSO');
  t.ok(stats.maxLength <= 1500, `packets no larger than the MTU (${stats.maxLength})`);
});

t.test('F_GSO: packets up to 64 KB arrive whole with checksums flagged not ready; bytes exact', async (t) => {
  await queueRules('-A', ['tcp']);
  t.teardown(() => queueRules('-D', ['tcp']));
  const [cmd, args] = tcpPeerCommand(['serve', '--port', '7101']);
  const server = lab.spawn('server', cmd, args);
  t.teardown(() => server.kill());
  await lab.waitForListen('server', 7101);
  const stats = await withQueue('parse', { gso: true }, async () => {
    const [c, a] = tcpPeerCommand(['xfer', '--host', lab.server.v4, '--port', '7101', '--bytes', '32m', '--back', '32m', '--seed', '33']);
    const s = JSON.parse(await lab.run('client', c, a, { timeoutMs: 60_000 })) as { ok: number; results: { receivedSha256: string }[] };
    t.equal(s.ok, 1, 'transfer ok');
    t.equal(s.results[0].receivedSha256, streamSha256(33 + 1_000_000, 32 << 20), 'reply byte-exact');
  });
  checkBookkeeping(t, stats);
  t.ok(stats.gsoSeen > 0 && stats.maxLength > 1500, `GSO packets arrived whole (${stats.gsoSeen}, largest ${stats.maxLength} B)`);
  t.ok(stats.checksumNotReady > 0, `checksum-not-ready packets flagged (${stats.checksumNotReady})`);
  t.equal(stats.parseErrors, 0, 'GSO packets parse (their length fields are the whole packet)');
});

t.test('a balanced range on one socket: flows spread over its queues, held packets released by ref', async (t) => {
  const balance = ['--queue-balance', '4:7'];
  await queueRules('-A', ['tcp', 'icmp'], [], balance);
  t.teardown(() => queueRules('-D', ['tcp', 'icmp'], [], balance));
  const [cmd, args] = tcpPeerCommand(['serve', '--port', '7102']);
  const server = lab.spawn('server', cmd, args);
  t.teardown(() => server.kill());
  await lab.waitForListen('server', 7102);
  // The balance hash covers addresses only, so distinct client addresses make distinct flows.
  const sources = Array.from({ length: 8 }, (_, i) => lab.client.v4.replace(/\d+$/, String(100 + i)));
  for (const a of sources) await lab.run('client', 'ip', ['addr', 'add', `${a}/32`, 'dev', lab.links[0].left.ifname]);
  t.teardown(async () => {
    for (const a of sources) await lab.run('client', 'ip', ['addr', 'del', `${a}/32`, 'dev', lab.links[0].left.ifname]);
  });

  const tcp = await withQueue('parse', { queue: { first: 4, last: 7 } }, async () => {
    const runs = (['v4', 'v6'] as const).map(async (family, k) => {
      const seed = 41 + k;
      const [c, a] = tcpPeerCommand(['xfer', '--host', lab.server[family], '--port', '7102', '--bytes', '4m', '--back', '4m', '--seed', String(seed)]);
      const s = JSON.parse(await lab.run('client', c, a, { timeoutMs: 60_000 })) as { ok: number; results: { receivedSha256: string }[] };
      t.equal(s.ok, 1, `IPv${family[1]} transfer ok`);
      t.equal(s.results[0].receivedSha256, streamSha256(seed + 1_000_000, 4 << 20), `IPv${family[1]} reply byte-exact`);
    });
    await Promise.all(runs);
  });
  checkBookkeeping(t, tcp);
  t.ok(Object.keys(tcp.perQueue).every((q) => Number(q) >= 4 && Number(q) <= 7), `packets came from queues 4-7 only (${JSON.stringify(tcp.perQueue)})`);

  let pings: string[] = [];
  const held = await withQueue('hold', { queue: { first: 4, last: 7 }, delayMs: 20 }, async () => {
    pings = await Promise.all(sources.map(async (a) =>
      (await lab.exec('client', 'ping', ['-c', '5', '-i', '0.05', '-I', a, lab.server.v4])).stdout));
  });
  t.same(pings.map((p) => parsePing(p).received), sources.map(() => 5), 'every held request from every source was released and answered');
  const used = Object.keys(held.perQueue);
  t.ok(used.length >= 2, `eight flows spread over more than one queue (${JSON.stringify(held.perQueue)})`);
  checkBookkeeping(t, held);
  t.equal(held.kernel?.queues.length, 4, 'the kernel lists the four queues bound');
});

t.test('drop verdicts drop exactly the packets chosen', async (t) => {
  await queueRules('-A', ['icmp']);
  t.teardown(() => queueRules('-D', ['icmp']));
  let ping = '';
  const stats = await withQueue('drop-odd-echo', {}, async () => {
    ping = (await lab.exec('client', 'ping', ['-c', '20', '-i', '0.01', '-W', '1', lab.server.v4])).stdout;
  });
  const p = parsePing(ping);
  t.equal(p.sent, 20);
  t.equal(p.received, 10, 'the 10 odd-numbered requests were dropped, the even ones answered');
  t.equal(stats.dropped, 10, 'ten drop verdicts');
  checkBookkeeping(t, stats);
});

t.test('held packets are released later by id', async (t) => {
  await queueRules('-A', ['icmp']);
  t.teardown(() => queueRules('-D', ['icmp']));
  let ping = '';
  const stats = await withQueue('hold', { delayMs: 40 }, async () => {
    ping = (await lab.exec('client', 'ping', ['-c', '10', '-i', '0.05', lab.server.v4])).stdout;
  });
  const p = parsePing(ping);
  t.equal(p.received, 10, 'every held request was released');
  // request and reply are both held 40 ms
  t.ok(p.avg >= 80 && p.avg < 160, `RTT shows the two holds (${p.avg} ms)`);
  checkBookkeeping(t, stats);
});

t.test('a replacement packet and a new mark go out in place of the original', async (t) => {
  await queueRules('-A', ['icmp']);
  await lab.run('router', 'iptables', ['-t', 'mangle', '-A', 'POSTROUTING', '-m', 'mark', '--mark', '0x77', '-p', 'icmp']);
  await lab.run('server', 'iptables', ['-A', 'INPUT', '-p', 'icmp', '-m', 'ttl', '--ttl-eq', '5']);
  t.teardown(async () => {
    await queueRules('-D', ['icmp']);
    await lab.run('router', 'iptables', ['-t', 'mangle', '-D', 'POSTROUTING', '-m', 'mark', '--mark', '0x77', '-p', 'icmp']);
    await lab.run('server', 'iptables', ['-D', 'INPUT', '-p', 'icmp', '-m', 'ttl', '--ttl-eq', '5']);
  });
  let ping = '';
  const stats = await withQueue('rewrite', {}, async () => {
    ping = (await lab.exec('client', 'ping', ['-c', '5', '-i', '0.05', lab.server.v4])).stdout;
  });
  t.equal(parsePing(ping).received, 5, 'the rewritten requests were answered (checksum right)');
  t.equal(stats.replaced, 5, 'five replacements');
  t.equal(await ruleCount('router', ['-t', 'mangle', '-L', 'POSTROUTING']), 5, 'the five left the router with mark 0x77');
  t.equal(await ruleCount('server', ['-L', 'INPUT']), 5, 'the server saw them with TTL 5');
  checkBookkeeping(t, stats);
});

async function ruleCount(host: string, args: string[]): Promise<number> {
  const out = await lab.run(host, 'iptables', [...args, '-v', '-n', '-x']);
  const row = out.split('\n').find((l) => /^\s*\d+\s+\d+\s/.test(l));
  return Number(row?.trim().split(/\s+/)[0] ?? -1);
}

t.test('exceptions and malformed packets on a queue of 8: every packet still gets one verdict', async (t) => {
  await queueRules('-A', ['tcp', 'icmp']);
  t.teardown(() => queueRules('-D', ['tcp', 'icmp']));
  let burst = { sent: 0 };
  let after = '';
  const stats = await withQueue('throw', { maxLen: 8, batch: 16 }, async () => {
    burst = JSON.parse(await lab.run('client', 'python3', ['-c', ODD_PACKETS, lab.client.v4, lab.server.v4])) as { sent: number };
    await new Promise((res) => setTimeout(res, 200));
    after = (await lab.exec('client', 'ping', ['-c', '30', '-i', '0.01', '-W', '1', lab.server.v4])).stdout;
  });
  t.ok(burst.sent >= 2000, `burst of ${burst.sent} odd packets sent`);
  t.ok(stats.parseErrors > 100, `malformed packets reached the handler (${stats.parseErrors})`);
  t.ok(stats.handlerErrors > 100, `the handler threw mid-batch (${stats.handlerErrors} times)`);
  t.equal(stats.handlerErrors, stats.handlerErrorsSeen, 'each throw was reported');
  checkBookkeeping(t, stats);
  t.equal(parsePing(after).received, 30, 'the queue still passes traffic afterwards');
  t.comment(`kernel dropped ${stats.kernel?.queueDropped} of the burst at the full queue of 8`);
});

// Raw TCP packets that are wrong in every way a parser must survive, sent in small paced bursts.
const ODD_PACKETS = String.raw`
import socket, struct, sys, random, time, json
src, dst = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def ip(payload, proto=6, ihl=5, total=None):
    total = total if total is not None else 20 + len(payload)
    return struct.pack('!BBHHHBBH4s4s', (4 << 4) | ihl, 0, total, 0, 0, 64, proto, 0,
                       socket.inet_aton(src), socket.inet_aton(dst)) + payload
rnd = random.Random(7)
kinds = [
    lambda: ip(struct.pack('!HHIIBBHHH', 1000, 9, 1, 0, 0x10, 0x02, 1000, 0, 0)),   # data offset 1
    lambda: ip(b'\x03\xe8\x00\x09\x00'),                                             # 5-byte TCP header
    lambda: ip(struct.pack('!HHIIBBHHH', 1000, 9, 1, 0, 0xf0, 0x02, 1000, 0, 0)),   # offset past the end
    lambda: ip(struct.pack('!HHIIBBHHH', 1000, 9, 1, 0, 0x70, 0x02, 1000, 0, 0) + b'\x02\x09\x05\x01\x01\x08\x00\x00'),  # MSS option of length 9
    lambda: ip(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 60)))),      # noise
    lambda: ip(struct.pack('!HHIIBBHHH', 1000, 9, 1, 0, 0x50, 0x10, 1000, 0, 0) + b'x' * 100),  # a plausible segment
]
sent = 0
for round in range(100):
    for k in range(24):
        s.sendto(kinds[(round + k) % len(kinds)](), (dst, 0))
        sent += 1
    time.sleep(0.002)
print(json.dumps({'sent': sent}))
`;

t.test('closing with packets held and waiting accepts them all', async (t) => {
  // Bypass lets the replies through once the queue is gone.
  await queueRules('-A', ['icmp'], ['--queue-bypass']);
  t.teardown(() => queueRules('-D', ['icmp'], ['--queue-bypass']));
  let ping: Promise<{ stdout: string }> = Promise.resolve({ stdout: '' });
  const stats = await withQueue('hold', { delayMs: 60_000 }, async () => {
    ping = lab.exec('client', 'ping', ['-c', '3', '-i', '0.1', '-W', '5', lab.server.v4]);
    await new Promise((res) => setTimeout(res, 500));
  });
  t.equal(stats.held, 3, 'three requests were held when the queue closed');
  const p = parsePing((await ping).stdout);
  t.equal(p.received, 3, 'the held requests were accepted on close, not dropped');
});

t.test('a view kept past its batch reads nothing', async (t) => {
  await queueRules('-A', ['icmp']);
  t.teardown(() => queueRules('-D', ['icmp']));
  const stats = await withQueue('keep-view', {}, async () => {
    await lab.exec('client', 'ping', ['-c', '2', '-i', '0.1', lab.server.v4]);
  });
  t.equal(stats.keptLengthAfter, 0, 'the receive area was detached when the handler returned');
});

t.test('bad configuration and a busy queue fail with clear errors', async (t) => {
  const script = (body: string): Promise<{ stdout: string; stderr: string; code: number | null }> =>
    lab.exec('router', process.execPath, [...process.execArgv, '--input-type=module', '-e', body]);
  const queueUrl = new URL('../../src/nfq/queue.ts', import.meta.url).href;
  const open = (opts: string): string =>
    `import { PacketQueue } from '${queueUrl}';
     try { new PacketQueue(${opts}, () => {}); console.log('opened'); } catch (e) { console.log('error', e.code ?? e.name, e.message); }`;
  const range = await script(open('{ queue: 70000 }'));
  t.match(range.stdout, /error RangeError queue numbers must be whole, in 0\.\.65535/);
  const backwards = await script(open('{ queue: { first: 5, last: 4 } }'));
  t.match(backwards.stdout, /error RangeError .*first <= last/);
  const copy = await script(open('{ queue: 1, copyRange: 0 }'));
  t.match(copy.stdout, /error RangeError .*copyRange/);
  const busy = await script(`import { PacketQueue } from '${queueUrl}';
    const a = new PacketQueue({ queue: 2 }, () => {});
    try { new PacketQueue({ queue: 2 }, () => {}); console.log('opened twice'); } catch (e) { console.log('error', e.code, e.message); }
    a.close();`);
  t.match(busy.stdout, /error EBUSY queue 2 is already bound by another socket/, `second binder refused: ${busy.stdout.trim()}`);
  const partly = await script(`import { PacketQueue } from '${queueUrl}';
    const a = new PacketQueue({ queue: 12 }, () => {});
    try { new PacketQueue({ queue: { first: 11, last: 13 } }, () => {}); console.log('opened twice'); } catch (e) { console.log('error', e.code, e.message); }
    const b = new PacketQueue({ queue: 11 }, () => {});
    console.log('queue 11 free again');
    try { b.verdict(12 * 2 ** 32 + 1, true); } catch (e) { console.log('error', e.name, e.message); }
    a.close(); b.close();`);
  t.match(partly.stdout, /error EBUSY queue 12 is already bound/, `a range over a busy queue is refused, naming it: ${partly.stdout.trim()}`);
  t.match(partly.stdout, /queue 11 free again/, 'the queues of the range bound before the busy one were let go');
  t.match(partly.stdout, /error RangeError queue\.verdict: not a packet of this queue/, 'a verdict for another queue\'s packet is refused');
  const unprivileged = await lab.exec('router', 'setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all',
    process.execPath, ...process.execArgv, '--input-type=module', '-e', open('{ queue: 3 }')]);
  t.match(unprivileged.stdout, /error EPERM/, `without CAP_NET_ADMIN: ${unprivileged.stdout.trim() || unprivileged.stderr.trim()}`);
});
