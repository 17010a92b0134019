// The package's unit, run as systemd runs it, while a client opens a connection every 100 ms:
// no new connection may fail or stall (a dropped SYN costs a 1 s retransmit) as the service
// starts, drains (5 s) and stops, with either backend; the connection open at SIGTERM is
// relayed to the end of the drain; the rules take the listen port from DAEMON_OPTS.
import t from 'tap';
import { Lab } from '../lab/lab.js';
import { ProxyLab } from '../helpers/proxy-lab.js';
import { ServiceUnit } from '../helpers/service-unit.js';

const lab = await Lab.create({ tag: 'unit', id: 27 });
t.teardown(() => lab.destroy());
const PORT = 7040, LISTEN = 6000, DRAIN_S = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const node = (host: string, source: string) => lab.spawn(host, process.execPath, ['--input-type=module', '-e', `import net from 'node:net';\n${source}`]);

const echo = node('server', `net.createServer((s) => s.on('error', () => {}).pipe(s)).listen(${PORT}, '::', () => console.log('listening'));`);
await echo.waitForOutput(/listening/);

/** Every 100 ms until SIGTERM, a connection that sends a byte and waits for its echo; then prints every outcome. */
const prober = (host: string) => node('client', `
const t0 = Date.now(), pending = [];
const probe = () => new Promise((resolve) => {
  const at = Date.now() - t0, s = net.connect({ host: '${host}', port: ${PORT} });
  let done = false;
  const end = (error) => { if (!done) { done = true; s.destroy(); resolve({ at, ms: Date.now() - t0 - at, error }); } };
  s.setTimeout(20000, () => end('timeout'));
  s.on('connect', () => s.write('x')).once('data', () => end(null)).on('error', (e) => end(e.code)).on('close', () => end('closed'));
});
const timer = setInterval(() => pending.push(probe()), 100);
process.on('SIGTERM', () => { clearInterval(timer); Promise.all(pending).then((r) => console.log(JSON.stringify(r))); });`);

/** One connection held open; prints 'open' once echoed, and when (epoch ms) and how it closed. */
const holder = (host: string) => node('client', `
let error = null, localPort = 0;
const s = net.connect({ host: '${host}', port: ${PORT} }, () => { localPort = s.localPort; s.write('x'); });
s.once('data', () => console.log('open')).on('error', (e) => (error = e.code)).on('close', () => console.log(JSON.stringify({ closedAt: Date.now(), error, localPort })));`);

interface Outcome { at: number; ms: number; error: string | null }

for (const backend of ['nft', 'iptables'] as const) {
  t.test(`${backend}: start, drain and stop under a connection every 100 ms`, async (t) => {
    const unit = new ServiceUnit(lab, {
      RULES_OPTS: `--interface ${lab.clientIf} --backend ${backend}`,
      DAEMON_OPTS: `-b [::]:${LISTEN} --drain-timeout ${DRAIN_S} --log-format json --metrics off`,
    });
    t.teardown(() => unit.cleanup());
    const probes = prober(lab.server.v4);
    const t0 = Date.now();
    await sleep(1000);
    await unit.start();
    const started = Date.now() - t0;
    const held = holder(lab.server.v4);
    await held.waitForOutput(/^open$/m);
    await sleep(Math.max(0, 4000 - (Date.now() - t0)));
    const stopping = Date.now();
    await unit.stop();
    const stopped = Date.now() - t0;
    await sleep(500);
    probes.kill('SIGTERM');
    await probes.exited;
    const outcomes = JSON.parse(probes.stdout().trim().split('\n').pop() ?? '[]') as Outcome[];
    const failed = outcomes.filter((o) => o.error !== null);
    const stalled = outcomes.filter((o) => o.error === null && o.ms >= 1000);
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    t.comment(`${backend}: ${outcomes.length} connections; started at ${started} ms, stopped at ${stopped} ms (from ${stopping - t0}); ` +
      `failed ${failed.length}, stalled >= 1 s ${stalled.length} (at ${stalled.map((o) => `${o.at}+${o.ms}`).join(' ')}), slowest ${slowest} ms`);
    t.equal(failed.length, 0, `no connection failed ${JSON.stringify(failed.slice(0, 5))}`);
    t.equal(stalled.length, 0, 'none waited for a SYN retransmit');
    await held.waitForOutput(/closedAt/);
    const end = JSON.parse(held.stdout().trim().split('\n').pop() ?? '{}') as { closedAt: number; error: string | null; localPort: number };
    t.ok(end.closedAt - stopping >= (DRAIN_S - 1) * 1000, `the connection open at SIGTERM lasted through the drain (${end.closedAt - stopping} ms)`);
    const logs = new ProxyLab(lab).logs(unit.main);
    t.ok(logs.some((l) => new RegExp(`^close \\S+:${end.localPort} -> `).test(String(l.message))), `it was relayed by the proxy on port ${LISTEN} (the rules read DAEMON_OPTS)`);
  });
}
