// Several listeners side by side (-b repeated, the rules diverting port ranges to each), and a
// SIGHUP reload of idle-timeout that applies to the connections accepted from then on.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { LabProcess } from '../lab/lab.js';
import { proxyLab, waitEofHeaderSource } from '../helpers/proxy-lab.js';

const env = await proxyLab(t, 'listen', 58);
const { lab } = env;
// Ports 7001-7009 go to the listener on 5000, 7010-7019 to the one on 5001.
await lab.intercept({ diverts: [{ ports: ['7001-7009'], port: 5000 }, { ports: ['7010-7019'], port: 5001 }] });
const servers = [await env.serve(7001), await env.serve(7011)];

/** The proxy's close lines for the client port <port>. */
const closesOf = (port: number): string[] =>
  env.closeLogs().map((l) => String(l.message)).filter((m) => new RegExp(`^close \\S+:${port} -> `).test(m));

t.test('two -b listeners: each relays the port range diverted to it', async (t) => {
  await env.startProxy(['-b', '[::]:5000', '-b', '[::]:5001']);
  t.teardown(() => env.stopProxy());
  await env.waitForLog(/^listening on \[::\]:5000, \[::\]:5001 /);
  for (const [i, port] of [[0, 7001], [1, 7011]] as const) {
    for (const family of ['v4', 'v6'] as const) {
      // probe: a 4 KiB exchange each way; proxied = the server saw a fresh source port and the
      // proxy logged the close of the client's connection.
      const p = await env.probe(servers[i], lab.server[family], port);
      t.same([p.ok, p.proxied], [true, true], `IPv${family[1]} to port ${port}: exchanged and carried by the proxy (${p.error ?? 'close line seen'})`);
    }
  }
  const closes = env.closeLogs().map((l) => String(l.message));
  t.equal(closes.filter((m) => /:7001 eof$/.test(m)).length, 2, 'two close lines (eof) for port 7001');
  t.equal(closes.filter((m) => /:7011 eof$/.test(m)).length, 2, 'two close lines (eof) for port 7011');
});

t.test('control: with only the first listener, the second range is not served', async (t) => {
  await env.startProxy(['-b', '[::]:5000']);
  t.teardown(() => env.stopProxy());
  // TPROXY finds no socket on 5001, so the kernel forwards the connection past the proxy.
  const missing = await env.probe(servers[1], lab.server.v4, 7011);
  t.equal(missing.proxied, false, `the range diverted to the missing listener is not carried by the proxy (${JSON.stringify(missing)})`);
  const first = await env.probe(servers[0], lab.server.v4, 7001);
  t.same([first.ok, first.proxied], [true, true], 'the first range is still carried');
});

t.test('SIGHUP reload of idle-timeout applies to connections accepted after it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ti-listen-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'tcp-intercept.yaml');
  writeFileSync(config, 'idle-timeout: 0\n');
  const proxy = await env.startProxy(['--config', config, '--drain-timeout', '1']);
  t.teardown(() => env.stopProxy());

  /** A client that opens a connection the server keeps (it waits for our FIN) and sends nothing more. */
  function idleClient(): LabProcess {
    const c = lab.spawn('client', process.execPath, ['--input-type=module', '-e', `
      import net from 'node:net';
      const s = net.connect(7001, '${lab.server.v4}', () => { s.write(${waitEofHeaderSource(0)}); console.log('connected ' + s.localPort); });
      s.on('error', (e) => { console.log('ended ' + e.code); process.exit(0); });
      s.on('close', () => { console.log('ended close'); process.exit(0); });
      setInterval(() => {}, 1000);`]);
    t.teardown(async () => {
      c.kill('SIGKILL');
      await c.exited;
    });
    return c;
  }
  const portOf = async (c: LabProcess): Promise<number> => {
    await c.waitForOutput(/^connected \d+$/m);
    return Number(/^connected (\d+)$/m.exec(c.stdout())![1]);
  };

  const a = idleClient();
  const aPort = await portOf(a);
  await env.waitEstablished(2);
  // A stays idle twice the 1 s that B gets below (not a timing bound: a wait for a non-event).
  await new Promise((r) => setTimeout(r, 2000));
  t.same(closesOf(aPort), [], 'before the reload (idle-timeout 0), A idle for 2 s was not closed');
  t.notMatch(a.stdout(), /ended/, 'A is still open before the reload');

  writeFileSync(config, 'idle-timeout: 1\n');
  proxy.kill('SIGHUP');
  await proxy.waitForOutput(/reload from [^"]*idle-timeout/);
  t.pass('the reload applied idle-timeout');

  const b = idleClient();
  const bPort = await portOf(b);
  await env.waitForLog(new RegExp(`^close \\S+:${bPort} -> \\S+ idle-timeout`), 20_000);
  t.pass('B, accepted after the reload and idle, was closed with reason idle-timeout');
  await b.waitForOutput(/^ended /m);
  t.match(b.stdout(), /^ended ECONNRESET$/m, 'B saw a reset');

  // README: a reload applies "for connections accepted from then on" (the sweep once used the
  // reloaded value for every connection, and reset A too).
  t.same(closesOf(aPort), [], 'A, accepted before the reload (idle-timeout 0), was not closed');
  t.notMatch(a.stdout(), /ended/, 'A is still open');
});
