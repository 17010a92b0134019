// Bytes through the proxy arrive whole, in order and unchanged, from the client's own address.
import { readdirSync, readlinkSync } from 'node:fs';
import t from 'tap';
import { streamSha256 } from '../lab/stream.js';
import { proxyLab, served, waitServed } from '../helpers/proxy-lab.js';

const MiB = 1 << 20;
const env = await proxyLab(t, 'relay', 2);
const { lab } = env;
const proxy = await env.startProxy();
const server = await env.serve(7001);
const proxyPid = proxy.child.pid ?? 0;
const fdsBefore = fdKinds(proxyPid);

for (const family of ['v4', 'v6'] as const) {
  t.test(`64 MiB each way over IPv${family[1]}, byte-exact`, async (t) => {
    const before = served(server).length;
    const seed = family === 'v4' ? 11 : 12;
    const s = await env.xfer(lab.server[family], 7001, ['--bytes', '64m', '--back', '64m', '--seed', String(seed)]);
    t.equal(s.ok, 1, `transfer ok (${JSON.stringify(s.errors)})`);
    const r = s.results?.[0];
    t.equal(r?.received, 64 * MiB, 'client received 64 MiB');
    t.equal(r?.receivedSha256, streamSha256(seed + 1_000_000, 64 * MiB), 'client received the exact stream');
    const [conn] = (await waitServed(server, before + 1)).slice(before);
    t.equal(conn.received, 64 * MiB, 'server received 64 MiB');
    t.equal(conn.sha256, streamSha256(seed, 64 * MiB), 'server received the exact stream');
    t.equal(conn.remote, lab.client[family], "server sees the client's address");
    t.comment(`IPv${family[1]}: 128 MiB moved in ${s.elapsedMs} ms`);
  });
}

t.test('500 concurrent connections, each byte-exact', async (t) => {
  const before = served(server).length;
  const s = await env.xfer(lab.server.v4, 7001, ['--connections', '500', '--bytes', '200k', '--back', '300k', '--seed', '500']);
  t.equal(s.ok, 500, `all 500 ok (${JSON.stringify(s.errors)})`);
  t.equal(s.bytesReceived, 500 * 300 * 1024, 'every reply arrived whole');
  const conns = (await waitServed(server, before + 500)).slice(before);
  const expected = new Set(Array.from({ length: 500 }, (_, i) => streamSha256(500 + i, 200 * 1024)));
  t.ok(conns.every((c) => expected.has(c.sha256) && c.received === 200 * 1024), 'every request arrived whole');
  t.equal(new Set(conns.map((c) => c.sha256)).size, 500, 'no stream was delivered twice');
  t.ok(conns.every((c) => c.remote === lab.client.v4), "the server saw the client's address on each");
});

t.test('curl fetches from a real HTTP server through the proxy', async (t) => {
  await lab.run('server', 'sh', ['-c', 'head -c 5000000 /dev/urandom > /tmp/ti-relay-blob && sha256sum /tmp/ti-relay-blob > /tmp/ti-relay-blob.sum']);
  t.teardown(() => lab.exec('server', 'rm', ['-f', '/tmp/ti-relay-blob', '/tmp/ti-relay-blob.sum']));
  const http = lab.spawn('server', 'python3', ['-m', 'http.server', '8080', '--bind', '::', '--directory', '/tmp']);
  await lab.waitForListen('server', 8080);
  const expected = (await lab.run('server', 'cat', ['/tmp/ti-relay-blob.sum'])).split(' ')[0];
  for (const host of [lab.server.v4, `[${lab.server.v6}]`]) {
    const got = await lab.run('client', 'sh', ['-c', `curl -sS --fail -g http://${host}:8080/ti-relay-blob | sha256sum`]);
    t.equal(got.split(' ')[0], expected, `curl via ${host} got the file intact`);
  }
  http.kill();
  const access = http.stderr();
  t.match(access, new RegExp(`${lab.client.v4.replace(/\./g, '\\.')} .*GET /ti-relay-blob`), 'the HTTP server logged the client address');
});

t.test('iperf3 runs through the proxy both ways', async (t) => {
  const iperf = lab.spawn('server', 'iperf3', ['-s', '-p', '5201']);
  await lab.waitForListen('server', 5201);
  for (const reverse of [false, true]) {
    const out = await lab.run('client', 'iperf3', ['-c', lab.server.v4, '-p', '5201', '-t', '2', '-J', ...(reverse ? ['-R'] : [])], { timeoutMs: 30_000 });
    const report = JSON.parse(out) as { end: { sum_received: { bytes: number; bits_per_second: number } } };
    t.ok(report.end.sum_received.bytes > 0, `${reverse ? 'server->client' : 'client->server'} moved bytes`);
    t.comment(`iperf3 ${reverse ? '-R' : ''}: ${(report.end.sum_received.bits_per_second / 1e9).toFixed(2)} Gbit/s (not asserted)`);
  }
  iperf.kill();
});

t.test('no connection or socket is left behind', async (t) => {
  let after = fdKinds(proxyPid);
  for (let i = 0; i < 50 && after.socket !== fdsBefore.socket; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = fdKinds(proxyPid);
  }
  t.equal(after.socket, fdsBefore.socket, `socket fds back to ${fdsBefore.socket}`);
  t.ok(after.pipe - fdsBefore.pipe <= 2 * 16, `at most the pool of idle pipes remains (${after.pipe - fdsBefore.pipe} pipe fds)`);
  const established = (await lab.run('router', 'ss', ['-Htn', 'state', 'established'])).trim();
  t.equal(established, '', 'no established TCP socket remains in the router');
});

/** The process's open fds counted by kind (socket, pipe, anon_inode, file). */
function fdKinds(pid: number): Record<string, number> {
  const counts: Record<string, number> = { socket: 0, pipe: 0 };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;   // closed while we looked
    }
    const kind = /^(socket|pipe|anon_inode):/.exec(target)?.[1] ?? 'file';
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}
