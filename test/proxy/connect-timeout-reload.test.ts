// A connect timeout lowered by reload applies to new connections at once, even while older
// connections still wait out the longer one (deadlines do not arrive in order).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { LabProcess } from '../lab/lab.js';
import { proxyLab } from '../helpers/proxy-lab.js';

const SILENT_PORT = 7997;
const env = await proxyLab(t, 'ctreload', 20);
const { lab } = env;
await lab.run('server', 'nft', ['-f', '-'], {
  input: `table inet blackhole {
    chain input { type filter hook input priority 0; policy accept; tcp dport ${SILENT_PORT} drop; }
  }\n`,
});
const dir = mkdtempSync(join(tmpdir(), 'ti-ctreload-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'tcp-intercept.yaml');

/** A client that connects through the proxy and prints how long after connecting it was reset. */
function silentClient(): LabProcess {
  const client = lab.spawn('client', process.execPath, ['--input-type=module', '-e', `
    import net from 'node:net';
    let t0 = 0;
    const s = net.connect(${SILENT_PORT}, '${lab.server.v4}', () => { t0 = Date.now(); console.log('connected'); });
    s.on('error', (e) => { console.log('ended ' + e.code + ' ' + (Date.now() - t0)); process.exit(0); });
    s.on('close', () => { console.log('ended close ' + (Date.now() - t0)); process.exit(0); });`]);
  t.teardown(async () => {
    client.kill('SIGKILL');
    await client.exited;
  });
  return client;
}

t.test('after a reload to a shorter connect-timeout, a new connection times out on the new value', async (t) => {
  writeFileSync(config, 'connect-timeout: 10000\n');
  const proxy = await env.startProxy(['--config', config, '--drain-timeout', '1']);
  t.teardown(() => env.stopProxy());

  const a = silentClient();
  await a.waitForOutput(/^connected$/m);
  writeFileSync(config, 'connect-timeout: 1000\n');
  proxy.kill('SIGHUP');
  await proxy.waitForOutput(/reload from .*: applied[^"]*connect-timeout/);

  const b = silentClient();
  await b.waitForOutput(/^connected$/m);
  const [, how, ms] = (await b.waitForOutput(/^ended (\S+) (\d+)$/m, 4000).catch(() => [])) as string[];
  t.ok(how !== undefined && Number(ms) < 2500, `B was reset within 2.5 s of connecting (${how ?? 'not within 4 s'} after ${ms ?? '-'} ms)`);
  t.equal(how, 'ECONNRESET', 'B saw a reset');
  t.notMatch(a.stdout(), /ended/, 'A is still waiting out its 10 s');
});
