// The control socket of the real service, asked by `tcp-intercept status`: its answer, the
// socket's mode and who may connect, a client sending garbage, a second service on the same
// path, the file removed at stop and replaced after a SIGKILL, and --workers (the first worker).
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Lab, TCP_INTERCEPT_BIN, type LabProcess } from '../lab/lab.js';

const lab = await Lab.create({ tag: 'ctl', id: 28 });
t.teardown(() => lab.destroy());
const dir = mkdtempSync(join(tmpdir(), 'ti-ctl-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// Root and the group of the socket (root's here, _tcp-intercept's in the package) pass through.
chmodSync(dir, 0o750);
const sock = join(dir, 'control.sock');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const status = (...args: string[]): Promise<Run> => run(TCP_INTERCEPT_BIN, ['status', '--control-socket', sock, ...args]);

/** The service in the router with a proxy on <port>, until its ready line (or its exit). */
async function start(port: number, extra: string[] = []): Promise<LabProcess> {
  const p = lab.spawn('router', TCP_INTERCEPT_BIN, ['-b', `[::]:${port}`, '--metrics', 'off', '--control-socket', sock, ...extra]);
  await p.waitForOutput(/control socket \S+control\.sock/, 20_000);
  return p;
}

async function stop(t: Test, p: LabProcess): Promise<void> {
  p.kill('SIGTERM');
  t.equal((await p.exited).code, 0, 'exit 0 after SIGTERM');
}

/** `tcp-intercept status` as another user, without tap's NODE_OPTIONS (its hooks write files that user may not). */
const statusAs = (...ids: string[]): Promise<Run> =>
  run('env', ['-u', 'NODE_OPTIONS', 'setpriv', '--reuid=65534', '--regid=65534', ...ids, TCP_INTERCEPT_BIN, 'status', '--control-socket', sock]);

/** One raw exchange: what the service answers to <data>, line by line. */
function raw(data: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = connect(sock, () => s.write(data));
    s.setEncoding('utf8').on('data', (d: string) => (text += d));
    s.on('error', reject);
    s.on('close', () => resolve(text.split('\n').filter(Boolean)));
  });
}

t.test('status answers with the components; the socket is 0660; garbage gets an error line', async (t) => {
  const p = await start(5000);
  t.equal(statSync(sock).mode & 0o777, 0o660, 'mode 0660');

  const text = await status();
  t.equal(text.code, 0, `exit 0: ${text.stderr}`);
  t.match(text.stdout, /^tcp-intercept \S+: running, pid \d+, up \d+ s\n/);
  t.match(text.stdout, /^ {2}proxy: relaying on \[::\]:5000: 0 open connections$/m);
  t.match(text.stdout, /^ {2}control: 1 client on .*control\.sock$/m);

  const json = await status('--json');
  t.equal(json.code, 0);
  const answer = JSON.parse(json.stdout) as { type: string; pid: number; components: Array<{ name: string }> };
  t.equal(answer.type, 'status');
  t.same(answer.components.map((c) => c.name), ['proxy', 'control']);

  const garbage = await raw('hello?\n');
  t.equal(garbage.length, 1, 'one line for garbage');
  t.match(JSON.parse(garbage[0]), { type: 'error', code: 'TI_ERR_CONTROL_REQUEST', message: /not JSON/ });
  t.match(JSON.parse((await raw('{"command":"reboot"}\n'))[0]), { type: 'error', code: 'TI_ERR_CONTROL_REQUEST', message: /unknown command 'reboot'/ });
  t.equal((await status()).code, 0, 'the service stays up and answers');
  t.equal(p.child.exitCode, null, 'still running');
  await stop(t, p);
});

t.test('who may connect: root and the socket group; anyone else gets exit 77', async (t) => {
  const p = await start(5000);
  const nobody = await statusAs('--clear-groups');
  t.equal(nobody.code, 77, 'permission denied: exit 77');
  t.match(nobody.stderr, /^tcp-intercept: permission denied on the control socket '.*control\.sock': run as root or as a member of the group _tcp-intercept\n$/);
  const member = await statusAs('--groups=0');
  t.equal(member.code, 0, `a member of the socket's group may: ${member.stderr}`);
  await stop(t, p);
});

t.test('a second service on the same path fails with TI_ERR_CONTROL_IN_USE; the file goes at stop', async (t) => {
  const first = await start(5000);
  const second = lab.spawn('router', TCP_INTERCEPT_BIN, ['-b', '[::]:5001', '--metrics', 'off', '--control-socket', sock]);
  t.equal((await second.exited).code, 69, 'exit 69');
  t.match(second.stderr(), /another tcp-intercept answers on '.*control\.sock'; stop it or give this one another --control-socket/);
  t.equal((await status()).code, 0, 'the first still answers');
  await stop(t, first);
  t.notOk(existsSync(sock), 'the socket file is removed at stop');
  const none = await status();
  t.equal(none.code, 3, 'no service: exit 3');
  t.match(none.stderr, /no service answers on .*control\.sock/);
});

t.test('a socket file left by SIGKILL is replaced at the next start', async (t) => {
  const killed = await start(5000);
  killed.kill('SIGKILL');
  await killed.exited;
  t.ok(statSync(sock).isSocket(), 'the stale file is there');
  t.equal((await status()).code, 3, 'nothing answers on it: exit 3');
  const next = await start(5000);
  t.equal((await status()).code, 0, 'the new service answers');
  await stop(t, next);
});

t.test('with --workers, the first worker answers', async (t) => {
  const p = lab.spawn('router', TCP_INTERCEPT_BIN, ['-b', '[::]:5000', '--metrics', 'off', '--control-socket', sock, '--workers', '2']);
  await p.waitForOutput(/listening on[^]*listening on/, 20_000);
  const json = await status('--json');
  t.equal(json.code, 0, `exit 0: ${json.stderr}`);
  const answer = JSON.parse(json.stdout) as { pid: number; components: Array<{ name: string }> };
  t.not(answer.pid, p.child.pid, 'not the supervisor');
  t.same(answer.components.map((c) => c.name), ['proxy', 'control']);
  t.equal(p.output().match(/control socket/g)?.length, 1, 'one worker has the socket');
  await stop(t, p);
  t.notOk(existsSync(sock), 'removed at stop');
});
