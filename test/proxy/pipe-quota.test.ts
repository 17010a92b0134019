// The proxy as the service runs it: an unprivileged user with CAP_NET_ADMIN and CAP_NET_RAW
// only, whose pipes all share the per-user quota (fs.pipe-user-pages-soft). After a burst of
// load, the idle pools must leave room for new full-size pipes; a buffer-size above
// fs.pipe-max-size gets pipes of the largest size allowed; pipe sizes show in the metrics.
import t from 'tap';
import { TCP_INTERCEPT_BIN, proxyLab } from '../helpers/proxy-lab.js';
import { run, runChecked } from '../lab/netns.js';

const USER = `ti-pipes-${process.pid}`;
const IPERF_PORT = 7201;

const env = await proxyLab(t, 'pipes', 21);
const { lab } = env;
await runChecked('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
// userdel refuses while a process of the user runs: the lab's go first.
t.teardown(async () => {
  await lab.destroy();
  await run('userdel', [USER]);
});
// Reads each connection only a second after it opened: meanwhile the proxy holds a full pipe for it.
const lateReader = lab.spawn('server', process.execPath, ['--input-type=module', '-e', `
  import net from 'node:net';
  net.createServer({ pauseOnConnect: true }, (s) => setTimeout(() => s.resume().on('end', () => s.end()), 1000))
    .listen(7002, () => console.log('listening'));`]);
await lateReader.waitForOutput(/listening/);
lab.spawn('server', 'iperf3', ['-s', '-p', String(IPERF_PORT)]);
await lab.waitForListen('server', IPERF_PORT);

const asUser = ['setpriv', `--reuid=${USER}`, `--regid=${USER}`, '--clear-groups',
  '--inh-caps=+net_admin,+net_raw', '--ambient-caps=+net_admin,+net_raw', '--'];

/** Starts the proxy as the user and waits until each of its <workers> listens. */
async function startProxy(args: string[], workers = 1): Promise<void> {
  const [cmd, ...rest] = asUser;
  // Without tap's NODE_OPTIONS: its hooks write files the user may not.
  const environment = { ...process.env, NODE_OPTIONS: '' };
  env.proxy = lab.spawn('router', cmd, [...rest, TCP_INTERCEPT_BIN, '--log-format', 'json', '--workers', String(workers), ...args], { env: environment });
  for (const deadline = Date.now() + 30_000; ;) {
    const listeners = await lab.run('router', 'ss', ['-Hltn', 'sport', '=', ':5000']);
    if (listeners.trim().split('\n').filter(Boolean).length >= workers) return;
    if (Date.now() > deadline) throw new Error(`${workers} listeners expected:\n${env.proxy.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a new pipe of the user gets now: its size, and whether it can grow to 1 MiB. */
async function probePipe(): Promise<{ size: number; grows: boolean }> {
  const out = await lab.run('router', asUser[0], [...asUser.slice(1), '/usr/bin/python3', '-c', `
import os, fcntl
r, w = os.pipe()
size = fcntl.fcntl(w, 1032)
try:
    fcntl.fcntl(w, 1031, 1 << 20); grows = 'true'
except OSError:
    grows = 'false'
print('{"size": %d, "grows": %s}' % (size, grows))`]);
  return JSON.parse(out) as { size: number; grows: boolean };
}

/** <n> connections at once, each uploading 2 MiB to the late reader; resolves to those that ended cleanly. */
async function burst(n: number): Promise<number> {
  const r = await lab.run('client', process.execPath, ['--input-type=module', '-e', `
    import net from 'node:net';
    const one = () => new Promise((resolve) => {
      const s = net.connect(7002, '${lab.server.v4}', () => s.end(Buffer.alloc(2 << 20)));
      s.on('error', () => resolve(0)).on('close', (failed) => resolve(failed ? 0 : 1)).resume();
    });
    const done = await Promise.all(Array.from({ length: ${n} }, one));
    console.log(done.reduce((a, b) => a + b, 0));`]);
  return Number(r.trim());
}

async function metrics(): Promise<string> {
  return lab.run('router', 'curl', ['-sf', 'http://127.0.0.1:5099/metrics']);
}

async function gbits(): Promise<number> {
  const out = await lab.run('client', 'iperf3', ['-c', lab.server.v4, '-p', String(IPERF_PORT), '-n', '256M', '-J']);
  const r = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
  return Math.round(r.end.sum_received.bits_per_second / 1e7) / 100;
}

for (const workers of [1, 4]) {
  t.test(`--workers ${workers}: after a burst, new pipes still get their full size`, async (t) => {
    t.teardown(() => env.stopProxy());
    await startProxy([], workers);
    t.equal(await burst(64), 64, 'a burst of 64 uploads of 2 MiB went through');
    const probe = await probePipe();
    t.comment(`after the burst a new pipe of the user is ${probe.size} B, grows to 1 MiB: ${probe.grows}`);
    t.ok(probe.grows, 'the idle pools left room in the quota for a 1 MiB pipe');
    t.comment(`iperf3 256 MiB after the burst: ${await gbits()} Gbit/s`);
    const text = await metrics();
    t.match(text, /^tcp_intercept_pipe_bytes\{state="idle"\} \d+/m, 'pipe bytes are exported');
    t.match(text, /^tcp_intercept_pipes_undersized_total \d+/m, 'undersized pipes are counted');
  });
}

t.test('--buffer-size above fs.pipe-max-size gets pipes of the largest size allowed', async (t) => {
  t.teardown(() => env.stopProxy());
  await startProxy(['--buffer-size', '4M']);
  t.comment(`iperf3 256 MiB with --buffer-size 4M: ${await gbits()} Gbit/s`);
  const undersized = /^tcp_intercept_pipes_undersized_total (\d+)/m.exec(await metrics());
  t.equal(Number(undersized?.[1]), 0, 'no pipe came out smaller than the proxy asked for');
  t.match(env.proxy?.output(), /pipe-max-size/, 'the clamp to fs.pipe-max-size is logged');
});
