// A SYN flood on the intercepted port (hping3 in the client namespace, for a bounded time) while a
// 64 MiB transfer runs through the proxy: the transfer stays byte-exact and new connections still
// succeed.
import t from 'tap';
import { streamSha256 } from '../lab/stream.js';
import { proxyLab } from '../helpers/proxy-lab.js';

const MiB = 1 << 20;
const env = await proxyLab(t, 'synflood', 41);
const { lab } = env;
await env.serve(7001);
const proxy = await env.startProxy();

t.test('a 64 MiB transfer and new connections get through a SYN flood', async (t) => {
  // hping3 itself, killed by its pid however the test ends (never through a wrapper).
  const flood = lab.spawn('client', 'hping3', ['-q', '-S', '-p', '7001', '--flood', lab.server.v4]);
  t.teardown(() => flood.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(flood.child.exitCode, null, 'hping3 is flooding');
  const [big, small] = await Promise.all([
    env.xfer(lab.server.v4, 7001, ['--bytes', '64m', '--back', '64m', '--seed', '9']),
    new Promise((r) => setTimeout(r, 1500)).then(() => env.xfer(lab.server.v4, 7001, ['--connections', '20', '--bytes', '16k', '--back', '16k'])),
  ]);
  flood.kill('SIGKILL');
  t.equal(big.ok, 1, 'the 64 MiB transfer completed');
  t.equal(big.results?.[0]?.receivedSha256, streamSha256(9 + 1_000_000, 64 * MiB), 'byte-exact');
  t.equal(small.ok, 20, `20 new connections during the flood (${JSON.stringify(small.errors)})`);
  t.equal(proxy.child.exitCode, null, 'the proxy runs on');
});
