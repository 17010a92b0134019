// systemd integration: readiness datagrams on $NOTIFY_SOCKET (READY, STATUS, RELOADING,
// STOPPING; once, from the supervisor, with --workers) and <priority> prefixes for journald.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Lab } from '../lab/lab.js';
import { messages, notifySocket, until } from '../helpers/notify-socket.js';
import { TCP_INTERCEPT_BIN } from '../helpers/proxy-lab.js';

const lab = await Lab.create({ tag: 'systemd', id: 13 });
t.teardown(() => lab.destroy());
const dir = mkdtempSync(join(tmpdir(), 'ti-systemd-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('READY, STATUS, RELOADING and STOPPING reach $NOTIFY_SOCKET', async (t) => {
  const path = join(dir, 'notify.sock');
  const listener = await notifySocket(lab, path);
  const proxy = lab.spawn('router', TCP_INTERCEPT_BIN, ['--metrics', 'off'], { env: { ...process.env, NOTIFY_SOCKET: path } });
  const ready = await until(listener, (m) => m.some((x) => x.startsWith('READY=1')), 'READY=1');
  t.same(ready[0].split('\n'), ['READY=1', 'STATUS=relaying on [::]:5000: 0 open connections', `MAINPID=${proxy.child.pid}`], 'ready, with a status and the main pid');
  proxy.kill('SIGHUP');
  const reloaded = await until(listener, (m) => m.includes('RELOADING=1') && m.filter((x) => x.startsWith('READY=1')).length === 2, 'a reload');
  t.ok(reloaded.indexOf('RELOADING=1') < reloaded.lastIndexOf('READY=1'), 'RELOADING=1, then READY=1 again');
  proxy.kill('SIGTERM');
  await until(listener, (m) => m.some((x) => x.startsWith('STOPPING=1')), 'STOPPING=1');
  t.equal((await proxy.exited).code, 0);
  listener.kill();
});

t.test('an abstract socket, and with --workers one READY from the supervisor', async (t) => {
  const listener = await notifySocket(lab, '@ti-notify-test');
  const proxy = lab.spawn('router', TCP_INTERCEPT_BIN, ['--metrics', 'off', '--workers', '2'], { env: { ...process.env, NOTIFY_SOCKET: '@ti-notify-test' } });
  const ready = await until(listener, (m) => m.some((x) => x.startsWith('READY=1')), 'READY=1');
  await new Promise((r) => setTimeout(r, 500));
  const readies = messages(listener).filter((x) => x.startsWith('READY=1'));
  t.equal(readies.length, 1, 'one READY=1 in all');
  t.match(ready.find((x) => x.startsWith('READY=1')), new RegExp(`STATUS=2 workers relaying\\nMAINPID=${proxy.child.pid}$`), "from the supervisor, once both workers listen");
  proxy.kill('SIGTERM');
  await until(listener, (m) => m.some((x) => x.startsWith('STOPPING=1')), 'STOPPING=1');
  t.equal((await proxy.exited).code, 0);
  listener.kill();
});

t.test('under journald every line carries its syslog priority', async (t) => {
  const config = join(dir, 'journal.yaml');
  writeFileSync(config, 'log-level: info\n');
  const proxy = lab.spawn('router', TCP_INTERCEPT_BIN, ['--metrics', 'off', '--config', config], { env: { ...process.env, JOURNAL_STREAM: '8:12345' } });
  await proxy.waitForOutput(/listening on/);
  writeFileSync(config, 'log-level: loud\n');
  proxy.kill('SIGHUP');
  await proxy.waitForOutput(/reload failed/);
  proxy.kill('SIGTERM');
  await proxy.exited;
  const lines = proxy.stdout().trim().split('\n');
  t.match(lines.find((l) => l.includes('listening on')), /^<6>\d{4}-/, 'info is <6>');
  t.match(lines.find((l) => l.includes('reload failed')), /^<3>\d{4}-/, 'error is <3>');
  t.ok(lines.every((l) => /^<[3467]>/.test(l)), 'every line has a prefix');
  const env = { ...process.env };
  delete env.JOURNAL_STREAM;
  const plain = lab.spawn('router', TCP_INTERCEPT_BIN, ['--metrics', 'off'], { env });
  await plain.waitForOutput(/listening on/);
  plain.kill('SIGTERM');
  await plain.exited;
  t.match(plain.stdout(), /^\d{4}-\d\d-\d\dT[^\n]* info listening on/, 'no prefix outside journald');
});
