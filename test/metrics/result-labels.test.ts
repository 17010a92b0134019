// tcp_intercept_connections_total{result}: each way a connection can end is counted under its own
// label, and under no other (reset, timeout, refused, limit), scraped from /metrics in the router.
import t from 'tap';
import { proxyLab, waitEofHeaderSource, type ProxyLab } from '../helpers/proxy-lab.js';

const SERVER_PORT = 7001;
const SILENT_PORT = 7997;
const CLOSED_PORT = 7999;
const METRICS = '127.0.0.1:5099';
const RESULTS = ['completed', 'reset', 'timeout', 'refused', 'limit', 'unreachable', 'error', 'idle_timeout', 'loop', 'shutdown'] as const;

const env = await proxyLab(t, 'mresult', 57);
const { lab } = env;
await env.serve(SERVER_PORT);
// The server namespace drops SYNs to SILENT_PORT: a server that never answers.
await lab.run('server', 'nft', ['-f', '-'], {
  input: `table inet blackhole {
    chain input { type filter hook input priority 0; policy accept; tcp dport ${SILENT_PORT} drop; }
  }\n`,
});

async function scrape(p: ProxyLab): Promise<string> {
  return p.lab.run('router', 'curl', ['-sS', '--fail', `http://${METRICS}/metrics`]);
}

/** The value of one series (exact name and labels as printed); 0 when absent (a counter not yet seen). */
function count(text: string, result: string): number {
  const series = `tcp_intercept_connections_total{result="${result}"}`;
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

function counts(text: string): Record<string, number> {
  return Object.fromEntries(RESULTS.map((r) => [r, count(text, r)]));
}

/** Scrapes until <result> reaches <n> (an event, polled); then every counter as scraped. */
async function waitForCount(result: string, n: number, timeoutMs = 15_000): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape(env);
    if (count(text, result) >= n) return counts(text);
    if (Date.now() > deadline) throw new Error(`result="${result}" never reached ${n}:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const expected: Record<string, number> = Object.fromEntries(RESULTS.map((r) => [r, 0]));

await env.startProxy(['--metrics', METRICS, '--connect-timeout', '1000', '--max-connections', '1', '--drain-timeout', '1']);
t.teardown(() => env.stopProxy());

t.test('nothing counted at first', async (t) => {
  t.same(counts(await scrape(env)), expected, 'every result at 0');
});

/** A connection the client sees fail raises exactly one result label, and logs its reason. */
function failureCounts(what: string, port: number, args: string[], result: string, reason: string): void {
  t.test(`${what} counts as ${result}`, async (t) => {
    const s = await env.xfer(lab.server.v4, port, [...args, '--timeout-ms', '10000'], 30_000);
    t.equal(s.failed, 1, 'the client saw its connection fail');
    expected[result] = 1;
    t.same(await waitForCount(result, 1), expected, `${result} is 1, nothing else changed`);
    await env.waitForLog(new RegExp(`:${port} ${reason}(\\s|$)`));
    t.pass(`logged as ${reason}`);
  });
}

failureCounts('a server that resets', SERVER_PORT, ['--wait-eof', '--reset-after', '1000', '--bytes', '64k', '--back', '0'], 'reset', 'server-reset');
failureCounts('a silent server past --connect-timeout', SILENT_PORT, ['--bytes', '1k', '--back', '0'], 'timeout', 'connect-timeout');
failureCounts('a port nobody listens on', CLOSED_PORT, ['--bytes', '1k', '--back', '0'], 'refused', 'refused');

t.test('over --max-connections counts as limit', async (t) => {
  // One connection held open: the header asks the server to wait for the client's FIN.
  const holder = lab.spawn('client', process.execPath, ['--input-type=module', '-e', `
    import net from 'node:net';
    const s = net.connect(${SERVER_PORT}, '${lab.server.v4}', () => { s.write(${waitEofHeaderSource(0)}); console.log('connected'); });
    s.on('error', (e) => console.log('error ' + e.code));
    setInterval(() => {}, 1000);`]);
  t.teardown(async () => {
    holder.kill('SIGKILL');
    await holder.exited;
  });
  await holder.waitForOutput(/^connected$/m);
  for (let i = 0; ; i++) {
    const text = await scrape(env);
    const m = /^tcp_intercept_connections_active (\d+)/m.exec(text);
    if (m && Number(m[1]) === 1) break;
    if (i > 300) throw new Error(`the held connection never showed as active:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const s = await env.xfer(lab.server.v4, SERVER_PORT, ['--bytes', '1k', '--back', '1k', '--timeout-ms', '10000'], 30_000);
  t.equal(s.failed, 1, 'the second connection failed');
  expected.limit = 1;
  t.same(await waitForCount('limit', 1), expected, 'limit is 1, nothing else changed');
  await env.waitForLog(new RegExp(`:${SERVER_PORT} limit(\\s|$)`));
  t.pass('logged as limit');
  t.notMatch(holder.stdout(), /error/, 'the held connection was left alone');
});
