// Out of file descriptors: connections beyond what the fd limit allows are reset with a
// logged reason (at accept, or after waiting 1 s for a pipe), none hangs, the proxy keeps
// running, and it serves again once fds are free.
import t from 'tap';
import { TCP_INTERCEPT_BIN, proxyLab } from '../helpers/proxy-lab.js';

const env = await proxyLab(t, 'fdex', 8);
const { lab } = env;
await env.serve(7001);

t.test('fd exhaustion resets the excess and recovers', async (t) => {
  // Node.js itself needs about 25 fds; 100 leaves room for a few dozen connections.
  const proxy = lab.spawn('router', 'sh', ['-c', `ulimit -n 100 && exec ${TCP_INTERCEPT_BIN} --log-format json`]);
  env.proxy = proxy;
  await proxy.waitForOutput(/"listening on /);
  // 150 connections that each hold for 2 s (the server replies only after the client's FIN).
  const s = await env.xfer(lab.server.v4, 7001, ['--connections', '150', '--bytes', '1k', '--back', '1k', '--wait-eof', '--timeout-ms', '20000']);
  t.ok(s.failed > 0, `the excess was refused (${JSON.stringify(s.errors)})`);
  const resets = (s.errors.ECONNRESET ?? 0) + (s.errors.EPIPE ?? 0);
  t.equal(s.ok + resets, 150, `every connection completed or was reset, none hung (${s.ok} ok)`);
  t.ok(env.closeLogs().some((l) => /error$/.test(String(l.message)) && /EMFILE/.test(String(l.error))), 'logged as error EMFILE');
  t.equal((await Promise.race([proxy.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('running'), 200))])), 'running', 'the proxy is still running');
  const again = await env.xfer(lab.server.v4, 7001, ['--connections', '10', '--bytes', '64k', '--back', '64k']);
  t.equal(again.ok, 10, 'afterwards new connections are served');
  await env.stopProxy();
});
