// -B/--bind-outgoing: which source address and port the server sees.
import t from 'tap';
import { proxyLab, waitServed, served } from '../helpers/proxy-lab.js';

const env = await proxyLab(t, 'bind', 3);
const { lab } = env;
const server = await env.serve(7001);

/** Three connections; returns what the client used and what the server saw, per connection. */
async function connect(host: string) {
  const before = served(server).length;
  const s = await env.xfer(host, 7001, ['--connections', '3', '--bytes', '10k', '--back', '10k']);
  const conns = (await waitServed(server, before + 3)).slice(before);
  const clientPorts = (s.results ?? []).map((r) => r.localPort).sort();
  return { ok: s.ok, clientPorts, seen: conns };
}

t.test('-B client (default): client address, fresh port', async (t) => {
  await env.startProxy([]);
  for (const family of ['v4', 'v6'] as const) {
    const { ok, clientPorts, seen } = await connect(lab.server[family]);
    t.equal(ok, 3, `IPv${family[1]} transfers ok`);
    t.ok(seen.every((c) => c.remote === lab.client[family]), "server sees the client's address");
    const seenPorts = seen.map((c) => c.remotePort).sort();
    t.notSame(seenPorts, clientPorts, 'ports are chosen afresh, not copied from the client');
  }
});

t.test('-B client-port: client address and port', async (t) => {
  await env.startProxy(['-B', 'client-port']);
  for (const family of ['v4', 'v6'] as const) {
    const { ok, clientPorts, seen } = await connect(lab.server[family]);
    t.equal(ok, 3, `IPv${family[1]} transfers ok`);
    t.ok(seen.every((c) => c.remote === lab.client[family]), "server sees the client's address");
    t.same(seen.map((c) => c.remotePort).sort(), clientPorts, "server sees the client's own ports");
  }
});

t.test('-B ADDR: a fixed local address, no spoofing', async (t) => {
  await env.startProxy(['-B', lab.routerServerSide.v4]);
  const v4 = await connect(lab.server.v4);
  t.equal(v4.ok, 3, 'IPv4 transfers ok');
  t.ok(v4.seen.every((c) => c.remote === lab.routerServerSide.v4), "server sees the router's address");
  // Only an IPv4 address was given: IPv6 legs take the kernel's choice, never the client's.
  const v6 = await connect(lab.server.v6);
  t.equal(v6.ok, 3, 'IPv6 transfers ok');
  t.ok(v6.seen.every((c) => c.remote === lab.routerServerSide.v6), "IPv6 legs use the router's own address");
});

t.test('-B [IPv6 ADDR]', async (t) => {
  await env.startProxy(['-B', `[${lab.routerServerSide.v6}]`]);
  const v6 = await connect(lab.server.v6);
  t.equal(v6.ok, 3, 'IPv6 transfers ok');
  t.ok(v6.seen.every((c) => c.remote === lab.routerServerSide.v6), "server sees the router's IPv6 address");
  await env.stopProxy();
});
