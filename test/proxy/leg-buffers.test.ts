// Per-leg socket buffers: fixed sizes beyond net.core.*mem_max (SO_*BUFFORCE), seen from outside
// the process (ss in the router and the client) and read back (the open event at debug); the
// client leg's receive buffer is on the listener before the SYN-ACK, so its window scale fits;
// reload applies to new connections; bad sizes stop startup; the metrics say what limited a leg.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { TCP_INTERCEPT_BIN } from '../lab/lab.js';
import { nodeScript, proxyLab } from '../helpers/proxy-lab.js';

const MiB = 1 << 20;
const METRICS = '127.0.0.1:9466';
const env = await proxyLab(t, 'legbuf', 44);
const { lab } = env;
await env.serve(7001);
const dir = mkdtempSync(join(tmpdir(), 'ti-legbuf-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Keeps one connection through the proxy open for <ms>; resolves once both legs are up. */
async function holdConnection(ms: number): Promise<{ done: Promise<unknown> }> {
  const done = nodeScript(lab, 'client', `
    import net from 'node:net';
    const s = net.connect(7001, '${lab.server.v4}', () => setTimeout(() => s.destroy(), ${ms}));
    s.on('error', () => {});`);
  await env.waitEstablished();
  return { done };
}

/** `ss -tm` of the sockets in <host> whose peer is <peer>, on one line. */
async function ss(host: string, peer: string, extra = '-Htmi'): Promise<string> {
  return (await lab.run(host, 'ss', [extra, 'state', 'established', 'dst', peer])).replace(/\s+/g, ' ');
}

const opens = (): Array<Record<string, unknown>> => env.logs().filter((l) => String(l.message).startsWith('open '));

t.test('fixed buffers per leg, beyond the host maximum; the rest autotuned', async (t) => {
  const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
  t.ok(wmemMax < 8 * MiB, `the host's net.core.wmem_max (${wmemMax}) is below what is asked`);
  await env.startProxy(['--sndbuf-server', '8M', '--rcvbuf', '1M', '--rcvbuf-client', '256M', '--log-level', 'debug']);
  t.teardown(() => env.stopProxy());
  const { done } = await holdConnection(800);
  const server = await ss('router', lab.server.v4);
  t.match(server, /skmem:\([^)]*,tb16777216,/, `the server leg books 16 MiB to send (ss: ${server})`);
  t.match(server, /skmem:\([^)]*,rb2097152,/, 'and 2 MiB to receive (--rcvbuf for both legs)');
  // The window scale the router offered in its SYN-ACK, as the client took it: from the kernel's
  // own maximum it is 10 (the client's own); the listener's 256 MiB needs more.
  const client = await ss('client', lab.server.v4, '-Hti');
  const [, offered, own] = /wscale:(\d+),(\d+)/.exec(client) ?? [];
  t.ok(Number(offered) > Number(own), `the router offered window scale ${offered}, above the kernel's ${own} (${client})`);
  await done;
  const open = opens().pop();
  t.match(open, { clientLeg: { rcvbuf: 512 * MiB }, serverLeg: { sndbuf: 16 * MiB, rcvbuf: 2 * MiB } }, 'getsockopt reads back twice each size');
  const autotuned = (open?.clientLeg as { sndbuf: number }).sndbuf;
  t.ok(autotuned > 0 && autotuned !== 16 * MiB, `the client leg's send buffer is the kernel's (${autotuned})`);
  t.match(env.logs().find((l) => /^listening on/.test(String(l.message)))?.message ?? env.proxy?.output(), /sndbuf\(client\/server\)=auto\/8388608 rcvbuf\(client\/server\)=268435456\/1048576/, 'the startup line states the sizes');
});

t.test('reload: new connections take the new size, the open one keeps its own', async (t) => {
  const config = join(dir, 'tcp-intercept.yaml');
  writeFileSync(config, 'sndbuf-server: 4M\n');
  const proxy = await env.startProxy(['--config', config, '--log-level', 'debug']);
  t.teardown(() => env.stopProxy());
  const first = await holdConnection(3000);
  writeFileSync(config, 'sndbuf-server: 6M\n');
  proxy.kill('SIGHUP');
  await proxy.waitForOutput(/reload from .*: applied[^"]*sndbuf-server/);
  const second = nodeScript(lab, 'client', `
    import net from 'node:net';
    const s = net.connect(7001, '${lab.server.v4}', () => setTimeout(() => s.destroy(), 300));
    s.on('error', () => {});`);
  await Promise.all([first.done, second]);
  const sizes = opens().map((o) => (o.serverLeg as { sndbuf: number }).sndbuf);
  t.same(sizes.slice(-2), [8 * MiB, 12 * MiB], 'the first leg 4 MiB (booked 8), the one after the reload 6 MiB (booked 12)');

  writeFileSync(config, 'rcvbuf-client: 1M\n');
  proxy.kill('SIGHUP');
  await proxy.waitForOutput(/reload from .*: applied[^"]*rcvbuf-client/);
  writeFileSync(config, '{}\n');
  proxy.kill('SIGHUP');
  await proxy.waitForOutput(/rcvbuf-client[^"]*restart|restart[^"]*rcvbuf-client/);
  t.pass('back to autotuning on the client leg is said to need a restart (the listener keeps its size)');
});

t.test('bad sizes stop startup with a clear error', async (t) => {
  for (const [flag, value, said] of [['--sndbuf-server', '1k', /sndbuf-server.*4096/], ['--rcvbuf', 'lots', /rcvbuf.*'lots'/], ['--sndbuf', '2G', /sndbuf/]] as const) {
    const r = await lab.exec('router', TCP_INTERCEPT_BIN, [flag, value, '--metrics', 'off']);
    t.equal(r.code, 64, `${flag} ${value}: exit 64`);
    t.match(r.stderr, said, `${flag} ${value}: ${r.stderr.trim()}`);
  }
});

t.test('the metrics show what limited each leg (TCP_INFO at close)', async (t) => {
  await env.startProxy(['--sndbuf-server', '64k', '--metrics', METRICS]);
  t.teardown(() => env.stopProxy());
  const xfer = await env.xfer(lab.server.v4, 7001, ['--bytes', '32m']);
  t.equal(xfer.ok, 1, '32 MiB relayed byte-exact through a 64 KiB send buffer');
  await env.waitForLog(/^close /);
  const text = await lab.run('router', 'curl', ['-sf', `http://${METRICS}/metrics`]);
  const count = (by: string): number => Number(new RegExp(`^tcp_intercept_leg_limited_ratio_count\\{leg="server",cc="[a-z]+",by="${by}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  t.ok(count('sndbuf') >= 1, `the server leg's share limited by its send buffer was observed (${count('sndbuf')})`);
  t.ok(count('rwnd') >= 1, 'and the share limited by the peer window');
  // How much of the time the buffer limited depends on the machine's load (CI saw 0 once): it is printed, not asserted.
  t.comment(`share of the server leg's sending time limited by its 64 KiB send buffer: ${/^tcp_intercept_leg_limited_ratio_sum\{leg="server",cc="[a-z]+",by="sndbuf"\} (\S+)/m.exec(text)?.[1]}`);
});
