// `npm run soak`: load held, faults survived, bytes lost; figures into docs/RELIABILITY.md.
// The fd limit this runs with bounds the connections held (2 sockets each in the proxy). Every phase builds its own lab (namespaces, removed on every path) and
// sends traffic only inside it. Knobs: SOAK_HOLD (9000 idle connections), SOAK_CHURN_SECONDS (120),
// SOAK_OUT (docs/RELIABILITY.md).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Lab, TCP_INTERCEPT_BIN, tcpPeerCommand, type LabProcess } from '../test/lab/lab.js';
import { encodeHeader, FLAG_WAIT_EOF, streamSha256 } from '../test/lab/stream.js';
import { connRate, fdCount, rssBytes, sleep, TCPBENCH } from './measure.js';

const HOLD = Number(process.env.SOAK_HOLD ?? 9000);
const CHURN_SECONDS = Number(process.env.SOAK_CHURN_SECONDS ?? 120);
const OUT = process.env.SOAK_OUT ?? fileURLToPath(new URL('../../docs/RELIABILITY.md', import.meta.url));
const LISTEN = 5000;

interface Finding { phase: string; load: string; result: string; lost: string; ok: boolean }
const findings: Finding[] = [];
function found(f: Finding): void {
  findings.push(f);
  console.log(`${f.ok ? 'ok' : 'NOT OK'}  ${f.phase}: ${f.load} -> ${f.result}; bytes lost: ${f.lost}`);
}

interface Xfer { connections: number; ok: number; failed: number; errors: Record<string, number>; results?: Array<{ receivedSha256: string }> }

async function xfer(lab: Lab, port: number, args: string[], timeoutMs = 300_000): Promise<Xfer> {
  const [cmd, a] = tcpPeerCommand(['xfer', '--host', lab.server.v4, '--port', String(port), ...args]);
  const r = await lab.exec('client', cmd, a, { timeoutMs });
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Xfer;
}

async function serve(lab: Lab, port: number): Promise<LabProcess> {
  const [cmd, a] = tcpPeerCommand(['serve', '--port', String(port)]);
  const p = lab.spawn('server', cmd, a);
  await p.waitForOutput(new RegExp(`^listening ${port}$`, 'm'));
  return p;
}

/** tcp-intercept in router <r> (with this machine's fd limit, 20,000 here), quiet. */
async function startProxy(lab: Lab, args: string[], router = 0): Promise<LabProcess> {
  const ns = lab.ns.routers[router];
  const p = lab.spawn(ns, TCP_INTERCEPT_BIN, ['--log-format', 'json', '--log-level', 'warn', '--metrics', 'off', ...args], {
    env: { ...process.env, TCP_INTERCEPT_CONFIG: '/dev/null' },
  });
  await lab.waitForListen(ns, LISTEN);
  return p;
}

async function withLab(opts: { tag: string; id: number; routers?: number }, fn: (lab: Lab) => Promise<void>): Promise<void> {
  const lab = await Lab.create(opts);
  try {
    await fn(lab);
  } finally {
    await lab.destroy();
  }
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
const pidOf = (p: LabProcess): number => p.child.pid ?? 0;

async function holdAndChurn(): Promise<void> {
  await withLab({ tag: 'soakhold', id: 45 }, async (lab) => {
    const tuning = 'sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535';
    for (const host of ['client', 'router', 'server']) await lab.run(host, 'sh', ['-c', tuning]);
    await lab.intercept({ port: LISTEN });
    for (const port of [7001, 7002]) lab.spawn('server', TCPBENCH, ['server', String(port)]);
    await lab.waitForListen('server', 7002);
    // The default max-connections (auto) budgets 6 fds a connection, for bulk transfers with two
    // pipes; idle connections need 2, so the held ones get an explicit limit the fds allow.
    const proxy = await startProxy(lab, ['--max-connections', String(HOLD + 600)]);
    const pid = pidOf(proxy);
    const hold = lab.spawn('client', TCPBENCH, ['hold', lab.server.v4, '7001', String(HOLD)]);
    const connected = JSON.parse((await hold.waitForOutput(/^\{.*\}$/m, 120_000))[0]) as { held: number; failures: number };
    await sleep(2000);
    // What the proxy holds (its two legs each), not what the client's kernel connected.
    const legs = (await lab.run('router', 'ss', ['-Htn', 'state', 'established'])).split('\n').filter((l) => l.trim()).length;
    const held = { held: Math.floor(legs / 2), failures: connected.failures };
    const samples: Array<{ rss: number; fds: number }> = [];
    const sampler = setInterval(() => samples.push({ rss: rssBytes(pid), fds: fdCount(pid) }), 5000);
    samples.push({ rss: rssBytes(pid), fds: fdCount(pid) });
    let churn;
    try {
      churn = await connRate(lab, 7002, 50, CHURN_SECONDS);
    } finally {
      clearInterval(sampler);
    }
    await sleep(2000);
    samples.push({ rss: rssBytes(pid), fds: fdCount(pid) });
    const first = samples[0], last = samples[samples.length - 1];
    const maxRss = Math.max(...samples.map((s) => s.rss)), maxFds = Math.max(...samples.map((s) => s.fds));
    found({
      phase: 'hold and churn',
      load: `${held.held} idle connections held by the proxy (of ${HOLD}; --max-connections ${HOLD + 600}), then ${CHURN_SECONDS} s of churn beside them: ${churn.connections} connections at ${Math.round(churn.rate)}/s`,
      result: `${churn.failures} failed; proxy RSS ${mib(first.rss)} -> ${mib(last.rss)} (max ${mib(maxRss)}), fds ${first.fds} -> ${last.fds} (max ${maxFds})`,
      lost: '-',
      ok: churn.failures === 0 && held.failures === 0 && held.held >= HOLD && last.fds <= first.fds + 50 && last.rss <= first.rss * 1.5,
    });
    hold.kill('SIGKILL');
  });
}

async function lossyLegs(): Promise<void> {
  // client - r1 (5% each way) - r2 (tcp-intercept) - r3 (5% each way) - server
  await withLab({ tag: 'soakloss', id: 46, routers: 3 }, async (lab) => {
    await lab.intercept({ port: LISTEN, router: 1 });
    const links = [];
    for (const router of [0, 2]) {
      for (const toward of ['server', 'client'] as const) links.push(await lab.emulate({ router, toward, args: ['--loss', '5', '--delay', '5'] }));
    }
    await serve(lab, 7001);
    await startProxy(lab, [], 1);
    const size = 4 << 20;
    const r = await xfer(lab, 7001, ['--connections', '20', '--bytes', String(size), '--back', String(size), '--seed', '11']);
    const reports = await Promise.all(links.map((l) => l.stop()));
    const lossLines = reports.map((t) => /\d+ lost \([\d.]+%\)/.exec(t)?.[0] ?? '?').join(', ');
    // tcp-peer gives connection i the seed 11 + i.
    const exact = (r.results ?? []).filter((x, i) => x.receivedSha256 === streamSha256(11 + i + 1_000_000, size)).length;
    found({
      phase: 'loss on both legs',
      load: `20 parallel transfers of 4 MiB each way through 5% loss each way on the client leg and on the server leg (emulators: ${lossLines})`,
      result: `${r.ok}/20 completed, ${exact}/20 replies byte-exact`,
      lost: String((20 - exact) * size),
      ok: r.ok === 20 && exact === 20,
    });
  });
}

async function faults(): Promise<void> {
  await withLab({ tag: 'soakflt', id: 47 }, async (lab) => {
    await lab.intercept({ port: LISTEN });
    await serve(lab, 7001);
    const proxy = await startProxy(lab, ['-k', '--keepalive-idle', '2', '--keepalive-interval', '1', '--keepalive-count', '3', '--connect-timeout', '2000']);
    const active = async (): Promise<number> => (await lab.run('router', 'ss', ['-Htn', 'state', 'established'])).split('\n').filter((l) => l.trim()).length;

    // A blackholed server: its SYNs vanish.
    await lab.run('server', 'nft', ['-f', '-'], { input: 'table inet soak {\n chain in {\n  type filter hook input priority 0;\n  tcp dport 7009 drop\n }\n}\n' });
    const t0 = Date.now();
    const black = await xfer(lab, 7009, ['--bytes', '1k', '--back', '1k', '--timeout-ms', '10000']);
    found({ phase: 'blackholed server', load: 'one connection to a port whose SYNs are dropped, --connect-timeout 2000', result: `client got ${Object.keys(black.errors).join(',') || 'no error'} after ${Date.now() - t0} ms`, lost: '-', ok: black.failed === 1 && Date.now() - t0 < 4000 });

    // Server resets mid-stream, each direction.
    const resets = [];
    // The server resets once it has 1 MiB: mid-upload, and (answering at once) mid-download.
    for (const dir of [['--bytes', '8m', '--back', '0', '--reset-after', '1m'], ['--bytes', '2m', '--back', '64m', '--reset-after', '1m']]) {
      resets.push(await xfer(lab, 7001, dir, 30_000));
    }
    await sleep(500);
    found({ phase: 'server resets mid-stream', load: 'a reset after 1 MiB, upload and download', result: `clients saw ${resets.map((r) => Object.keys(r.errors).join(',') || 'none').join(' / ')}; established in the router afterwards: ${await active()}`, lost: '-', ok: resets.every((r) => r.failed === 1) && (await active()) === 0 });

    // A reader that stalls: the server pushes 256 MiB to a client that reads nothing.
    const pid = pidOf(proxy);
    const rss0 = rssBytes(pid);
    const stalled = idleClient(lab, 256 << 20, true);
    await sleep(8000);
    const rss1 = rssBytes(pid);
    // Both legs are half-closed by now (the client sent its EOF): every connected state counts.
    const legs = await lab.run('router', 'ss', ['-Htn', 'state', 'connected']);
    const queued = legs.split('\n').filter((l) => l.trim()).map((l) => l.trim().split(/\s+/).slice(1, 3).map(Number)).reduce((s, [rq, sq]) => s + (rq || 0) + (sq || 0), 0);
    stalled.kill('SIGKILL');
    found({ phase: 'stalled reader', load: 'the server sends 256 MiB to a client that reads nothing, for 8 s', result: `proxy RSS ${mib(rss0)} -> ${mib(rss1)}; bytes queued in the router's sockets ${mib(queued)}`, lost: '-', ok: queued > 0 && rss1 - rss0 < 64 << 20 });
    // Last, as the client's link stays down: a client that vanishes is reclaimed by keepalive.
    const vanishing = idleClient(lab, 0, false);
    for (let i = 0; i < 50 && (await active()) < 2; i++) await sleep(100);
    await lab.run('client', 'ip', ['link', 'set', 'veth0', 'down']);
    const t1 = Date.now();
    while ((await active()) > 0 && Date.now() - t1 < 20_000) await sleep(200);
    const gone = Date.now() - t1;
    found({ phase: 'client vanishes', load: 'client link down with a connection open, keepalive 2 s idle, 1 s x 3 probes', result: `both legs closed after ${(gone / 1000).toFixed(1)} s`, lost: '-', ok: gone < 10_000 });
    vanishing.kill('SIGKILL');
  });
}

/** A client of the tcp-peer server on 7001 that reads nothing: it asks for <bytesBack> bytes after
 *  its EOF, and sends that EOF only when <end>; it stays until killed. */
function idleClient(lab: Lab, bytesBack: number, end: boolean): LabProcess {
  const header = encodeHeader({ flags: FLAG_WAIT_EOF, bytesBack, seedBack: 0, resetAfter: 0 }).toString('hex');
  return lab.spawn('client', process.execPath, ['--input-type=module', '-e', `
    import net from 'node:net';
    const s = net.connect(7001, '${lab.server.v4}', () => { s.write(Buffer.from('${header}', 'hex')); ${end ? 's.end();' : ''} s.pause(); });
    s.on('error', () => undefined);
    setInterval(() => undefined, 1000);`]);
}

async function synFlood(): Promise<void> {
  await withLab({ tag: 'soaksyn', id: 48 }, async (lab) => {
    await lab.intercept({ port: LISTEN });
    await serve(lab, 7001);
    await startProxy(lab, []);
    const size = 64 << 20;
    // hping3 itself, killed by its pid (a wrapper such as timeout(1) killed with SIGKILL would
    // leave it flooding).
    const flood = lab.spawn('client', 'hping3', ['-q', '-S', '-p', '7001', '--flood', lab.server.v4]);
    let big, small;
    try {
      await sleep(1000);
      [big, small] = await Promise.all([
        xfer(lab, 7001, ['--bytes', String(size), '--back', String(size), '--seed', '5'], 120_000),
        (async () => { await sleep(2000); return xfer(lab, 7001, ['--connections', '20', '--bytes', '16k', '--back', '16k'], 60_000); })(),
      ]);
    } finally {
      flood.kill('SIGKILL');
    }
    const exact = big.results?.[0]?.receivedSha256 === streamSha256(5 + 1_000_000, size);
    found({ phase: 'SYN flood', load: 'hping3 --flood SYNs to the intercepted port, during the whole phase', result: `a 64 MiB transfer each way during it: ${exact ? 'byte-exact' : 'NOT byte-exact'}; 20 new connections: ${small.ok} ok`, lost: exact ? '0' : String(size), ok: exact && small.ok === 20 });
  });
}

function report(): string {
  const rows = findings.map((f) => `| ${f.phase} | ${f.load} | ${f.result} | ${f.lost} | ${f.ok ? 'yes' : '**no**'} |`);
  return [
    '# Reliability',
    '',
    `\`npm run soak\`, ${new Date().toISOString()}: load held, faults survived, bytes lost. Each phase runs in a lab of its own`,
    '(network namespaces: client, routers, server); the proxy runs as it ships, with its defaults unless the row says otherwise.',
    '',
    '| phase | load or fault | result | bytes lost | passed |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    'Bad inputs are tried by the tests, not here: `test/config/fuzz.test.ts` (2,000 random configuration files and environments,',
    'random command lines: accepted, or one line and its exit status, never a crash), `test/nfq/queue.test.ts` (malformed',
    'packets through a queue: one verdict each) and `test/packet/fuzz.test.ts` (the packet codec).',
    '',
  ].join('\n');
}

const PHASES = { holdAndChurn, lossyLegs, faults, synFlood };

async function main(): Promise<void> {
  const only = process.env.SOAK_PHASES?.split(',');
  for (const [name, phase] of Object.entries(PHASES)) {
    if (only && !only.includes(name)) continue;
    try {
      await phase();
    } catch (err) {
      found({ phase: phase.name, load: '-', result: `failed to run: ${(err as Error).message.split('\n')[0]}`, lost: '?', ok: false });
    }
  }
  writeFileSync(OUT, report());
  console.log(`\nwritten to ${OUT}`);
  if (findings.some((f) => !f.ok)) process.exitCode = 1;
}

void main();
