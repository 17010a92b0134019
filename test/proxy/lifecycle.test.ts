// Stopping and signals: SIGTERM drains, a drain that runs out resets, the pid file comes and
// goes, SIGHUP reopens the log file.
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import t from 'tap';
import { nodeScript, TCP_INTERCEPT_BIN, proxyLab, served, waitEofHeaderSource, waitServed } from '../helpers/proxy-lab.js';

const env = await proxyLab(t, 'life', 7);
const { lab } = env;
const server = await env.serve(7001);

/** A client that sends the header, waits <delayMs>, sends 1 MiB, half-closes and reads the reply. */
function slowClient(delayMs: number) {
  return nodeScript(lab, 'client', `
    import net from 'node:net';
    const s = net.connect(7001, '${lab.server.v4}', () => {
      const h = ${waitEofHeaderSource(1000)};
      s.write(h);
      setTimeout(() => s.end(Buffer.alloc(1 << 20, 7)), ${delayMs});
    });
    let got = 0;
    s.on('data', (d) => { got += d.length; });
    s.on('end', () => { console.log('end', got); process.exit(0); });
    s.on('error', (e) => { console.log('error', e.code); process.exit(0); });`);
}

t.test('SIGTERM stops accepting and lets open connections finish', async (t) => {
  const pidFile = `/tmp/ti-life-${process.pid}.pid`;
  t.teardown(() => rmSync(pidFile, { force: true }));
  const proxy = await env.startProxy(['-p', pidFile, '--drain-timeout', '20']);
  t.equal(readFileSync(pidFile, 'utf8').trim(), String(proxy.child.pid), 'pid file holds the pid');
  const before = served(server).length;
  const client = slowClient(1500);
  await env.waitEstablished();
  proxy.kill('SIGTERM');
  await proxy.waitForOutput(/draining 1 connection/);
  const r = await client;
  t.equal(r.stdout.trim(), 'end 1000', 'the open connection completed');
  const [conn] = (await waitServed(server, before + 1)).slice(before);
  t.equal(conn.received, 1 << 20, 'the server received everything sent after SIGTERM');
  const exit = await proxy.exited;
  t.equal(exit.code, 0, 'exit status 0');
  t.notOk(existsSync(pidFile), 'pid file removed');
  env.proxy = null;
});

t.test('a drain that runs out resets what is left', async (t) => {
  const proxy = await env.startProxy(['--drain-timeout', '1']);
  const client = slowClient(5000);
  await env.waitEstablished();
  const t0 = Date.now();
  proxy.kill('SIGTERM');
  const r = await client;
  t.equal(r.stdout.trim(), 'error ECONNRESET', 'the client was reset');
  const exit = await proxy.exited;
  t.equal(exit.code, 0, 'exit status 0');
  t.ok(Date.now() - t0 < 4000, `stopped after the 1 s drain (${Date.now() - t0} ms)`);
  t.ok(env.logs(proxy).some((l) => /shutdown$/.test(String(l.message))), 'logged as shutdown');
  env.proxy = null;
});

t.test('a second SIGTERM during the drain resets at once and exits 0 (the drain timer does not crash it later)', async (t) => {
  const pidFile = `/tmp/ti-life2-${process.pid}.pid`;
  t.teardown(() => rmSync(pidFile, { force: true }));
  const proxy = await env.startProxy(['-p', pidFile, '--drain-timeout', '2']);
  const client = slowClient(10_000);
  await env.waitEstablished();
  proxy.kill('SIGTERM');
  await proxy.waitForOutput(/draining 1 connection/);
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  proxy.kill('SIGTERM');
  t.equal((await client).stdout.trim(), 'error ECONNRESET', 'the client was reset');
  const exit = await proxy.exited;
  t.ok(Date.now() - t0 < 1500, `stopped at once (${Date.now() - t0} ms)`);
  // The drain's own timer (2 s) would have fired by now in the old code and crashed it.
  await new Promise((r) => setTimeout(r, 2500));
  t.equal(exit.code, 0, `exit status 0 ${exit.code ? proxy.output() : ''}`);
  t.notOk(existsSync(pidFile), 'pid file removed');
  env.proxy = null;
});

t.test('SIGHUP reopens the log file', async (t) => {
  const log = `/tmp/ti-life-${process.pid}.log`;
  t.teardown(() => {
    rmSync(log, { force: true });
    rmSync(`${log}.1`, { force: true });
  });
  const proxy = lab.spawn('router', TCP_INTERCEPT_BIN, ['-l', log]);
  await lab.waitForListen('router', 5000);
  renameSync(log, `${log}.1`);
  proxy.kill('SIGHUP');
  for (let i = 0; i < 100 && !existsSync(log); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(existsSync(log), 'a new log file was opened');
  await env.xfer(lab.server.v4, 7001, ['--bytes', '1k', '--back', '1k']);
  for (let i = 0; i < 100 && !readFileSync(log, 'utf8').includes('close '); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(readFileSync(log, 'utf8'), /log file reopened/, 'the reopen is logged in the new file');
  t.match(readFileSync(log, 'utf8'), /close .* eof/, 'connection lines go to the new file');
  t.match(readFileSync(`${log}.1`, 'utf8'), /listening on/, 'the old file kept what was written before');
  proxy.kill('SIGTERM');
  t.equal((await proxy.exited).code, 0, 'exit status 0');
});
