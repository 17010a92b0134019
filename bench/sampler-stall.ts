// How long the proxy's event loop stalls while it holds many idle connections: the 10 s TCP_INFO
// sampler of long connections is the work that grows with them. Prints the proxy's own event-loop
// delay (prom-client's nodejs_eventloop_lag_* over the last ~35 s) with BENCH_HOLD (9000) idle
// connections held. BENCH_BIN: another tcp-intercept to measure (to compare builds).
import { Lab, TCP_INTERCEPT_BIN } from '../test/lab/lab.js';
import { sleep, TCPBENCH } from './measure.js';

const HOLD = Number(process.env.BENCH_HOLD ?? 9000);
const BIN = process.env.BENCH_BIN ?? TCP_INTERCEPT_BIN;

async function main(): Promise<void> {
  const lab = await Lab.create({ tag: 'bstall', id: 49 });
  try {
    await lab.run('router', 'sysctl', ['-qw', 'net.core.somaxconn=65535']);
    await lab.intercept({ port: 5000 });
    lab.spawn('server', TCPBENCH, ['server', '7001']);
    await lab.waitForListen('server', 7001);
    lab.spawn('router', BIN, ['--log-level', 'warn', '--max-connections', '0', '--metrics', '127.0.0.1:5099'], { env: { ...process.env, TCP_INTERCEPT_CONFIG: '/dev/null' } });
    await lab.waitForListen('router', 5000);
    const hold = lab.spawn('client', TCPBENCH, ['hold', lab.server.v4, '7001', String(HOLD)]);
    console.log(`held: ${(await hold.waitForOutput(/^\{.*\}$/m, 120_000))[0]}`);
    // A first scrape resets prom-client's delay histogram (the accepts are behind us), then three
    // sampling periods past the connections' 10 s age.
    await sleep(5000);
    await lab.run('router', 'curl', ['-sf', 'http://127.0.0.1:5099/metrics']);
    await sleep(35_000);
    const text = await lab.run('router', 'curl', ['-sf', 'http://127.0.0.1:5099/metrics']);
    for (const name of ['nodejs_eventloop_lag_p50_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds']) {
      const v = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
      console.log(`${name.replace('nodejs_eventloop_lag_', 'event-loop delay ').replace('_seconds', '')}: ${(Number(v) * 1000).toFixed(1)} ms`);
    }
  } finally {
    await lab.destroy();
  }
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exitCode = 1;
});
