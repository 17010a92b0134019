// --workers: independent processes share the listeners, a killed worker is replaced, a worker
// that cannot start stops the supervisor with its exit status.
import t from 'tap';
import { proxyLab, TCP_INTERCEPT_BIN } from '../helpers/proxy-lab.js';

const env = await proxyLab(t, 'workers', 10);
const { lab } = env;
await env.serve(7001);

const workerPids = async (supervisor: number): Promise<number[]> =>
  (await lab.exec('router', 'pgrep', ['-P', String(supervisor)])).stdout.trim().split('\n').filter(Boolean).map(Number);

t.test('connections are spread over the workers; a dead worker is replaced', async (t) => {
  const proxy = await env.startProxy(['--workers', '2']);
  await proxy.waitForOutput(/"worker":1[,}].*listening on|listening on.*"worker":1[,}]/);
  const s = await env.xfer(lab.server.v4, 7001, ['--connections', '200', '--bytes', '20k', '--back', '20k']);
  t.equal(s.ok, 200, 'all 200 transfers ok');
  const closes = await env.waitForCloses(200);
  const perWorker = [0, 1].map((w) => closes.filter((l) => l.worker === w).length);
  t.equal(perWorker[0] + perWorker[1], 200, 'every connection was handled by a worker');
  t.ok(perWorker[0] > 20 && perWorker[1] > 20, `both workers took a share (${perWorker.join(' / ')})`);

  const pids = await workerPids(proxy.child.pid ?? 0);
  t.equal(pids.length, 2, 'two worker processes');
  await lab.run('router', 'kill', ['-9', String(pids[0])]);
  await proxy.waitForOutput(/exited \(SIGKILL\); restarting/);
  for (let i = 0; i < 100 && (await workerPids(proxy.child.pid ?? 0)).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  const after = await workerPids(proxy.child.pid ?? 0);
  t.equal(after.length, 2, 'two workers again');
  t.notOk(after.includes(pids[0]), 'the killed one was replaced');
  const again = await env.xfer(lab.server.v4, 7001, ['--connections', '50', '--bytes', '20k', '--back', '20k']);
  t.equal(again.ok, 50, 'service continues');
  t.equal(await env.stopProxy(), 0, 'SIGTERM stops the supervisor and its workers, exit 0');
  t.same(await workerPids(proxy.child.pid ?? 0), [], 'no worker is left');
});

t.test('a worker that cannot start stops the supervisor', async (t) => {
  const squatter = lab.spawn('router', 'python3', ['-c', "import socket,time; s=socket.socket(); s.bind(('0.0.0.0', 6000)); s.listen(); print('up', flush=True); time.sleep(60)"]);
  await squatter.waitForOutput(/up/);
  const proxy = lab.spawn('router', TCP_INTERCEPT_BIN, ['--workers', '2', '-b', '0.0.0.0:6000']);
  const exit = await proxy.exited;
  t.equal(exit.code, 71, 'exit status of the failed worker (EX_OSERR)');
  t.match(proxy.output(), /cannot listen on 0\.0\.0\.0:6000: .*EADDRINUSE/, 'the reason is printed');
  squatter.kill();
});
