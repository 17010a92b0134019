// How connections end: half-close forwarded both ways, resets propagated as resets, failed
// connects answered with a reset in time, and the limits that reset on purpose.
import t from 'tap';
import { nodeScript, proxyLab, served, waitEofHeaderSource, waitServed, type ProxyLab } from '../helpers/proxy-lab.js';

const env = await proxyLab(t, 'close', 5);
const { lab } = env;
const server = await env.serve(7001);
// Port 7997 is blackholed and 7998 answers with ICMP host-unreachable, in the server itself.
await lab.run('server', 'nft', ['-f', '-'], {
  input: `table inet blackhole {
    chain input { type filter hook input priority 0; policy accept;
      tcp dport 7997 drop
      tcp dport 7998 reject with icmpx type host-unreachable
    }
  }\n`,
});

interface Outcome { event: string; code?: string; ms: number; received: number }

/**
 * A client that connects through the proxy, sends the tcp-peer header (the server replies only
 * after the client's FIN, so it holds the connection open) and <send> bytes, then optionally
 * resets after <resetAfterMs>; reports the first thing that ends the connection, and when.
 */
async function observe(p: ProxyLab, host: string, port: number, o: { send?: number; resetAfterMs?: number } = {}): Promise<Outcome> {
  const r = await nodeScript(p.lab, 'client', `
    import net from 'node:net';
    const t0 = Date.now();
    let received = 0, reported = false;
    const report = (event, code) => {
      if (reported) return;
      reported = true;
      console.log(JSON.stringify({ event, code, ms: Date.now() - t0, received }));
      setImmediate(() => process.exit(0));
    };
    const s = net.connect(${port}, '${host}', () => {
      s.write(${waitEofHeaderSource()}); s.write(Buffer.alloc(${o.send ?? 0}));
      ${o.resetAfterMs !== undefined ? `setTimeout(() => { s.resetAndDestroy(); report('reset-sent'); }, ${o.resetAfterMs});` : ''}
    });
    s.on('data', (d) => { received += d.length; });
    s.on('error', (e) => report('error', e.code));
    s.on('end', () => report('end'));
    s.on('close', () => report('close'));
    setTimeout(() => { report('still-open'); process.exit(0); }, 8000);`);
  return JSON.parse(r.stdout.trim().split('\n')[0]) as Outcome;
}

t.test('default limits', async (t) => {
  await env.startProxy(['--connect-timeout', '1500']);

  t.test('client half-closes first and still receives the whole reply', async (t) => {
    const s = await env.xfer(lab.server.v4, 7001, ['--wait-eof', '--bytes', '1m', '--back', '8m']);
    t.equal(s.ok, 1, `ok (${JSON.stringify(s.errors)})`);
    t.equal(s.bytesReceived, 8 << 20, 'the reply sent after the client FIN arrived whole');
  });

  t.test('server half-closes first and still receives the whole request', async (t) => {
    const before = served(server).length;
    const s = await env.xfer(lab.server.v6, 7001, ['--client-waits', '--bytes', '8m', '--back', '1m']);
    t.equal(s.ok, 1, `ok (${JSON.stringify(s.errors)})`);
    const [conn] = (await waitServed(server, before + 1)).slice(before);
    t.equal(conn.received, 8 << 20, 'the request sent after the server FIN arrived whole');
  });

  // --wait-eof: a server that half-closed first could let the client finish cleanly before
  // the reset arrived, and the client would rightly see no error.
  t.test('a server reset reaches the client as a reset', async (t) => {
    const since = env.closeLogs().length;
    const s = await env.xfer(lab.server.v4, 7001, ['--wait-eof', '--reset-after', '1000', '--bytes', '4m', '--back', '0']);
    t.equal(s.ok, 0, 'the transfer failed');
    const code = Object.keys(s.errors)[0];
    t.ok(code === 'ECONNRESET' || code === 'EPIPE', `client saw a reset (${code})`);
    t.match(await env.closeLine(7001, since), { message: /server-reset$/ }, 'logged as server-reset');
  });

  t.test('a client reset reaches the server as a reset', async (t) => {
    const before = served(server).length;
    const o = await observe(env, lab.server.v6, 7001, { send: 1000, resetAfterMs: 300 });
    t.equal(o.event, 'reset-sent');
    const [conn] = (await waitServed(server, before + 1)).slice(before);
    t.equal(conn.error, 'ECONNRESET', 'the server saw ECONNRESET');
  });

  t.test('a refused connect resets the client at once', async (t) => {
    const since = env.closeLogs().length;
    const o = await observe(env, lab.server.v4, 7999);
    t.equal(o.code, 'ECONNRESET', 'client got a reset');
    t.match(await env.closeLine(7999, since), { message: /refused$/, error: /ECONNREFUSED/ });
  });

  t.test('an ICMP-unreachable server resets the client at once', async (t) => {
    const since = env.closeLogs().length;
    const o = await observe(env, lab.server.v4, 7998);
    t.equal(o.code, 'ECONNRESET', 'client got a reset');
    t.match(await env.closeLine(7998, since), { message: /unreachable$/, error: /EHOSTUNREACH/ });
  });

  t.test('a silent server resets the client after --connect-timeout', async (t) => {
    const since = env.closeLogs().length;
    const o = await observe(env, lab.server.v4, 7997);
    t.equal(o.code, 'ECONNRESET', 'client got a reset');
    t.ok(o.ms >= 1400 && o.ms < 4000, `after about 1500 ms (${o.ms} ms)`);
    t.match(await env.closeLine(7997, since), { message: /connect-timeout$/ });
  });

  t.test("a connection to the proxy's own port is refused, not looped", async (t) => {
    const since = env.closeLogs().length;
    const o = await observe(env, lab.routerClientSide.v4, 5000);
    t.equal(o.code, 'ECONNRESET', 'client got a reset');
    t.match(await env.closeLine(5000, since), { message: /loop$/ });
  });
});

// A long-polling server that stays silent, and a client that sent its request and FIN and then
// went away with a reset: the client leg's error must be seen although its direction is done.
t.test('a client reset after its FIN closes both legs at once', async (t) => {
  await env.startProxy();
  const silent = lab.spawn('server', process.execPath, ['--input-type=module', '-e', `
    import net from 'node:net';
    net.createServer({ allowHalfOpen: true }, () => undefined).listen(7002, () => console.log('listening'));`]);
  await silent.waitForOutput(/listening/);
  const r = await nodeScript(lab, 'client', `
    import net from 'node:net';
    const s = net.connect({ port: 7002, host: '${lab.server.v4}', allowHalfOpen: true }, () => s.end('GET /poll'));
    s.on('finish', () => setTimeout(() => { s.resetAndDestroy(); console.log('reset-sent'); }, 200));`);
  t.equal(r.stdout.trim(), 'reset-sent', `the client sent its FIN, then a reset (${r.stderr})`);
  const sent = Date.now();
  const line = await env.closeLine(7002, 0, 3000).catch(() => null);
  const liveMs = Date.now() - sent;
  t.match(line, { message: /client-reset$/ }, `logged as client-reset, ${liveMs} ms after the reset`);
  t.ok(liveMs < 1000, `within 1 s (${liveMs} ms)`);
  const left = await lab.run('router', 'ss', ['-Htan', '( sport = :7002 or dport = :7002 )']);
  t.equal(left.trim(), '', 'no leg is left in the router');
  silent.kill();
  await env.stopProxy();
});

t.test('--idle-timeout resets a silent connection', async (t) => {
  await env.startProxy(['--idle-timeout', '1']);
  const since = env.closeLogs().length;
  const o = await observe(env, lab.server.v4, 7001, { send: 10 });
  t.equal(o.code, 'ECONNRESET', 'client got a reset');
  t.ok(o.ms >= 900 && o.ms < 4000, `after about 1 s (${o.ms} ms)`);
  t.match(await env.closeLine(7001, since), { message: /idle-timeout$/ });
});

t.test('--max-connections resets connections over the limit', async (t) => {
  await env.startProxy(['--max-connections', '2']);
  const held = [observe(env, lab.server.v4, 7001, { resetAfterMs: 1500 }), observe(env, lab.server.v4, 7001, { resetAfterMs: 1500 })];
  await env.waitEstablished(4);   // both held connections relayed: two legs each
  const third = await observe(env, lab.server.v4, 7001);
  t.equal(third.code, 'ECONNRESET', 'the third connection was reset');
  t.ok(third.ms < 1000, `at once (${third.ms} ms)`);
  t.same((await Promise.all(held)).map((o) => o.event), ['reset-sent', 'reset-sent'], 'the first two stayed up');
  t.ok(env.closeLogs().some((l) => /limit$/.test(String(l.message))), 'logged as limit');
  await env.stopProxy();
});
