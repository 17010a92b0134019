// Prometheus metrics, checked against traffic of known size, by promtool and by a real
// Prometheus scraping the endpoint in the lab.
import t from 'tap';
import { nodeScript, proxyLab, waitEofHeaderSource, type ProxyLab } from '../helpers/proxy-lab.js';

const env = await proxyLab(t, 'metrics', 11);
const { lab } = env;
await env.serve(7001);
const METRICS = '127.0.0.1:5099';

async function scrape(p: ProxyLab): Promise<string> {
  return p.lab.run('router', 'curl', ['-sS', '--fail', `http://${METRICS}/metrics`]);
}

/** The value of one series (exact name and labels as printed), or NaN when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

async function waitFor(p: ProxyLab, check: (text: string) => boolean, what: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const text = await scrape(p);
    if (check(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`metrics never showed ${what}:\n${await scrape(p)}`);
}

t.test('counters, gauge and histograms follow a transfer of known size', async (t) => {
  await env.startProxy(['--cc-client', 'reno', '--cc-server', 'cubic', '--metrics', METRICS]);
  const idle = await scrape(env);
  t.equal(value(idle, 'tcp_intercept_connections_active'), 0, 'no connection at first');
  t.equal(value(idle, 'tcp_intercept_bytes_total{direction="client_to_server"}'), 0);

  // 32-byte header + 1 MiB, then the client holds the connection open until told to finish.
  const client = nodeScript(lab, 'client', `
    import net from 'node:net';
    const s = net.connect(7001, '${lab.server.v4}', () => {
      const h = ${waitEofHeaderSource(3_000_000)};
      s.write(h); s.write(Buffer.alloc(1 << 20, 1));
      setTimeout(() => s.end(), 1500);
    });
    let got = 0; s.on('data', (d) => { got += d.length; }); s.on('end', () => console.log(got));`);
  const during = await waitFor(env, (m) => value(m, 'tcp_intercept_bytes_total{direction="client_to_server"}') === 32 + (1 << 20), 'the request bytes');
  t.pass('mid-transfer, client_to_server counts exactly the bytes sent so far');
  t.equal(value(during, 'tcp_intercept_connections_active'), 1, 'one active connection');
  t.equal(value(during, 'tcp_intercept_connections_accepted_total'), 1, 'one accepted');
  t.equal(value(during, 'tcp_intercept_bytes_total{direction="server_to_client"}'), 0, 'no reply yet');

  t.equal((await client).stdout.trim(), '3000000', 'client got the 3,000,000-byte reply');
  const after = await waitFor(env, (m) => value(m, 'tcp_intercept_connections_active') === 0, 'the connection closed');
  t.equal(value(after, 'tcp_intercept_bytes_total{direction="server_to_client"}'), 3_000_000, 'server_to_client is exact');
  t.equal(value(after, 'tcp_intercept_bytes_total{direction="client_to_server"}'), 32 + (1 << 20), 'client_to_server is exact');
  t.equal(value(after, 'tcp_intercept_connections_total{result="completed"}'), 1, 'one completed');
  t.equal(value(after, 'tcp_intercept_connect_duration_seconds_count'), 1, 'one connect time observed');
  t.equal(value(after, 'tcp_intercept_connection_duration_seconds_count'), 1, 'one lifetime observed');
  t.equal(value(after, 'tcp_intercept_leg_rtt_seconds_count{leg="client",cc="reno"}'), 1, 'client leg RTT, labelled reno');
  t.equal(value(after, 'tcp_intercept_leg_rtt_seconds_count{leg="server",cc="cubic"}'), 1, 'server leg RTT, labelled cubic');
  t.equal(value(after, 'tcp_intercept_leg_retransmitted_segments_count{leg="server",cc="cubic"}'), 1);
  t.equal(value(after, 'tcp_intercept_leg_delivery_rate_bytes_per_second_count{leg="client",cc="reno"}'), 1);
  t.match(after, /tcp_intercept_build_info\{version="[^"]+",node_version="v\d+/, 'build info');
  t.match(after, /process_open_fds \d+/, 'process metrics');
  t.match(after, /nodejs_eventloop_lag_seconds /, 'event loop lag');

  const refused = await env.xfer(lab.server.v4, 7999, ['--bytes', '1k', '--back', '0']);
  t.equal(refused.failed, 1);
  const failed = await waitFor(env, (m) => value(m, 'tcp_intercept_connections_total{result="refused"}') === 1, 'the refused connect');
  t.equal(value(failed, 'tcp_intercept_connections_total{result="completed"}'), 1, 'completed unchanged');

  const health = await lab.run('router', 'curl', ['-sS', '--fail', `http://${METRICS}/healthz`]);
  t.equal(health, 'ok\n', '/healthz');
});

t.test('promtool accepts the exposition', async (t) => {
  const text = await scrape(env);
  const r = await lab.exec('router', 'promtool', ['check', 'metrics'], { input: text });
  t.equal(r.code, 0, `promtool check metrics passes${r.stdout || r.stderr ? `: ${r.stdout}${r.stderr}` : ''}`);
});

t.test('a real Prometheus scrapes it and answers queries', async (t) => {
  const dir = (await lab.run('router', 'mktemp', ['-d', '/tmp/ti-prom-XXXXXX'])).trim();
  t.teardown(() => lab.exec('router', 'rm', ['-rf', dir]));
  await lab.run('router', 'sh', ['-c', `cat > ${dir}/prometheus.yml`], {
    input: `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tcp-intercept\n    static_configs:\n      - targets: ['${METRICS}']\n`,
  });
  lab.spawn('router', 'prometheus', [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, '--web.listen-address=127.0.0.1:9090']);
  await lab.waitForListen('router', 9090, 30_000);
  const query = encodeURIComponent('tcp_intercept_bytes_total{direction="server_to_client"}');
  let result: Array<{ value: [number, string] }> = [];
  for (let i = 0; i < 100 && result.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const out = await lab.exec('router', 'curl', ['-sS', `http://127.0.0.1:9090/api/v1/query?query=${query}`]);
    if (out.code === 0) result = (JSON.parse(out.stdout) as { data?: { result?: typeof result } }).data?.result ?? [];
  }
  t.equal(result.length, 1, 'Prometheus has the series');
  t.equal(Number(result[0]?.value[1]), 3_000_000, 'with the value the proxy exports');
  await env.stopProxy();
});

t.test('with --workers, one endpoint sums the workers', async (t) => {
  await env.startProxy(['--workers', '2', '--metrics', METRICS]);
  await env.proxy?.waitForOutput(/listening on .*"worker":1|"worker":1.*listening on/);
  const s = await env.xfer(lab.server.v4, 7001, ['--connections', '40', '--bytes', '10k', '--back', '20k']);
  t.equal(s.ok, 40);
  const text = await waitFor(env, (m) => value(m, 'tcp_intercept_connections_total{result="completed"}') === 40, 'all 40 completed');
  t.equal(value(text, 'tcp_intercept_bytes_total{direction="server_to_client"}'), 40 * 20 * 1024, 'bytes summed over workers');
  const perWorker = [0, 1].map((w) => env.closeLogs().filter((l) => l.worker === w).length);
  t.ok(perWorker[0] > 0 && perWorker[1] > 0, `both workers served some (${perWorker.join(' / ')})`);
  await env.stopProxy();
});
