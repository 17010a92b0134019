// Out of file descriptors. By default max-connections is derived from the fd limit, so new
// connections are refused at the limit while those relaying keep every fd they need. With no
// limit, connections beyond what the fd limit allows are reset with a logged reason (at
// accept, or after waiting 1 s for a pipe), none hangs, the proxy keeps running, and it serves
// again once fds are free.
import t from 'tap';
import { TCP_INTERCEPT_BIN, proxyLab } from '../helpers/proxy-lab.js';

const env = await proxyLab(t, 'fdex', 8);
const { lab } = env;
await env.serve(7001);

t.test('fd exhaustion resets the excess and recovers', async (t) => {
  // Node.js itself needs about 25 fds; 100 leaves room for a few dozen connections.
  const proxy = lab.spawn('router', 'sh', ['-c', `ulimit -n 100 && exec ${TCP_INTERCEPT_BIN} --log-format json --max-connections 0`]);
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

t.test('at the derived limit, transfers keep going while new connections are refused', async (t) => {
  // (128 fds - 64 reserved - 32 for the idle pool's 16 pipes) / 6 fds per connection = 5.
  const proxy = lab.spawn('router', 'sh', ['-c', `ulimit -n 128 && exec ${TCP_INTERCEPT_BIN} --log-format json --log-level debug`]);
  env.proxy = proxy;
  t.teardown(() => env.stopProxy());
  const [listening] = await proxy.waitForOutput(/"listening on [^\n]*/);
  t.match(listening, /max-connections=5 /, 'the derived limit is 5');
  t.match(listening, /keepalive\(idle\/interval\/count\)=300\/30\/4 /, 'keepalive is on by default');
  const healthy = env.xfer(lab.server.v4, 7001, ['--connections', '5', '--bytes', '128m', '--back', '128m']);
  await env.waitEstablished(10);
  const excess = await env.xfer(lab.server.v4, 7001, ['--connections', '20', '--bytes', '1k', '--back', '1k']);
  const bulk = await healthy;
  t.equal(bulk.ok, 5, `the 5 transfers completed byte-exact (${JSON.stringify(bulk.errors)})`);
  t.ok(excess.failed > 0 && (excess.errors.ECONNRESET ?? 0) + (excess.errors.EPIPE ?? 0) === excess.failed, `new connections were refused with a reset (${JSON.stringify(excess.errors)})`);
  const closes = env.closeLogs();
  t.ok(closes.some((l) => /limit$/.test(String(l.message))), 'logged as limit');
  t.notOk(closes.some((l) => /error$/.test(String(l.message))), 'no connection was reset for want of an fd');
  const open = env.logs().find((l) => String(l.message).startsWith('open '));
  t.match(open, { clientLeg: { keepalive: true, keepIdle: 300, keepInterval: 30, keepCount: 4 }, serverLeg: { keepalive: true, keepIdle: 300 } }, 'the debug read-back shows the keepalive default on both legs');
});
