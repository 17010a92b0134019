// The configuration file and TCP_INTERCEPT_* variables, through the real binary: precedence,
// errors that name the file line or the variable (exit 78), and SIGHUP reload.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Lab } from '../lab/lab.js';
import { nodeScript, TCP_INTERCEPT_BIN, ProxyLab, waitEofHeaderSource } from '../helpers/proxy-lab.js';

const lab = await Lab.create({ tag: 'config', id: 12 });
t.teardown(() => lab.destroy());
const dir = mkdtempSync(join(tmpdir(), 'ti-config-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'tcp-intercept.yaml');

/** Runs the binary in the router namespace with a config file and extra environment until it listens or exits. */
async function start(args: string[], env: Record<string, string> = {}, yaml?: string) {
  if (yaml !== undefined) writeFileSync(file, yaml);
  const p = lab.spawn('router', TCP_INTERCEPT_BIN, ['--config', file, '--metrics', 'off', ...args], { env: { ...process.env, ...env } });
  const listening = await p.waitForOutput(/listening on .*/).then((m) => m[0], () => null);
  return { p, listening: listening ?? '', exit: listening === null ? (await p.exited).code : null };
}

t.test('precedence: command line, then environment, then file, then defaults', async (t) => {
  const yaml = '# tcp-intercept\nbind-listen: "[::]:5000"\nbuffer-size: 64k\ncc-server: reno\n';
  const fileOnly = await start([], {}, yaml);
  t.match(fileOnly.listening, /cc\(client\/server\)=default\/reno .*buffer=65536/, 'the file applies over the defaults');
  fileOnly.p.kill();
  await fileOnly.p.exited;
  const withEnv = await start([], { TCP_INTERCEPT_BUFFER_SIZE: '128k' });
  t.match(withEnv.listening, /cc\(client\/server\)=default\/reno .*buffer=131072/, 'the environment overrides the file');
  withEnv.p.kill();
  await withEnv.p.exited;
  const withCli = await start(['--buffer-size', '256k'], { TCP_INTERCEPT_BUFFER_SIZE: 'not-a-size' });
  t.match(withCli.listening, /buffer=262144/, 'the command line overrides both (and a bad value it hides is not used)');
  withCli.p.kill();
  await withCli.p.exited;
});

t.test('mistakes name their source and exit 78', async (t) => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['buffer-size: 64k\nbufer-size: 1M\n', {}, /tcp-intercept\.yaml:2: unknown option 'bufer-size' \(did you mean 'buffer-size'\?\)/],
    ['buffer-size: 64k\nmax-connections: lots\n', {}, /tcp-intercept\.yaml:2: max-connections: 'lots' is not a whole number/],
    ['tcp-nodelay: "yes please"\n', {}, /tcp-intercept\.yaml:1: tcp-nodelay: expected true or false/],
    ['[1, 2]\n', {}, /tcp-intercept\.yaml: the configuration must be a mapping/],
    ['buffer-size: 64k\n', { TCP_INTERCEPT_IDLE_TIMEOUT: 'soon' }, /TCP_INTERCEPT_IDLE_TIMEOUT: 'soon' is not a whole number/],
    ['buffer-size: 64k\n', { TCP_INTERCEPT_BUFER_SIZE: '1M' }, /unknown variable TCP_INTERCEPT_BUFER_SIZE \(did you mean TCP_INTERCEPT_BUFFER_SIZE\?\)/],
    ['cc-client: nosuch\n', {}, /tcp-intercept\.yaml:1: cc-client: unknown congestion control 'nosuch'/],
  ];
  for (const [yaml, env, message] of cases) {
    const r = await start([], env, yaml);
    t.equal(r.exit, 78, `exit 78 for ${JSON.stringify(yaml)} ${JSON.stringify(env)}`);
    t.match(r.p.stderr(), message);
    t.equal(r.p.stderr().trim().split('\n').length, 1, 'one line');
  }
  const missing = lab.spawn('router', TCP_INTERCEPT_BIN, ['--config', join(dir, 'nope.yaml')]);
  t.equal((await missing.exited).code, 78, 'a missing --config file is an error');
  t.match(missing.stderr(), /nope\.yaml: cannot read the configuration file: ENOENT/);
});

t.test('SIGHUP re-reads the configuration and applies what can change live', async (t) => {
  const env = new ProxyLab(lab);
  await lab.intercept({ port: 5000 });
  t.teardown(() => lab.removeIntercept());
  const server = await env.serve(7001);
  const { p } = await start(['--log-format', 'json'], {}, 'log-level: info\nmax-connections: 0\n');
  env.proxy = p;
  writeFileSync(file, 'log-level: debug\nmax-connections: 1\nbind-listen: ["[::]:5000", "127.0.0.1:5555"]\n');
  p.kill('SIGHUP');
  await p.waitForOutput(/reload from .*tcp-intercept\.yaml: applied .*max-connections/);
  t.match(p.output(), /"reload from [^"]*: applied[^"]*log-level/, 'the new log level is applied');
  await p.waitForOutput(/not applied until a restart: bind-listen/);
  t.pass('a new listen address needs a restart, and says so');

  const hold = nodeScript(lab, 'client', `
    import net from 'node:net';
    const s = net.connect(7001, '${lab.server.v4}', () => { s.write(${waitEofHeaderSource()}); setTimeout(() => s.end(), 5000); });
    s.on('end', () => console.log('held ok')); s.on('error', (e) => console.log('held', e.code));`);
  await env.waitEstablished();
  const second = await env.xfer(lab.server.v4, 7001, ['--bytes', '1k', '--back', '1k']);
  t.equal(second.failed, 1, `the new limit of 1 resets a second connection ${second.failed ? '' : p.output()}`);
  t.equal((await hold).stdout.trim(), 'held ok', 'the first stays up');
  t.ok(env.logs().some((l) => l.level === 'debug' && String(l.message).startsWith('open ')), 'debug lines now appear');
  t.ok(env.closeLogs().some((l) => /limit$/.test(String(l.message))), 'logged as limit');

  writeFileSync(file, 'log-level: loud\n');
  p.kill('SIGHUP');
  await p.waitForOutput(/reload failed, the running configuration stays: .*log-level: 'loud'/);
  const after = await env.xfer(lab.server.v4, 7001, ['--bytes', '1k', '--back', '1k']);
  t.equal(after.ok, 1, 'still relaying with the previous configuration');
  p.kill('SIGTERM');
  t.equal((await p.exited).code, 0);
  server.kill();
});
