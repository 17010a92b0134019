// Snoop from the command line, in a router. `tcp-intercept snoop`: the ready line, its queue rules
// while it runs, traffic through it, exit 0 with a report and no rule left after SIGTERM; rules
// removed when it fails after installing them; a queue another program holds stops it before it
// touches that program's rules. The service: snoop without a proxy, and with --workers in the
// first worker only.
import t, { type Test } from 'tap';
import { Lab, TCP_INTERCEPT_BIN, type LabProcess } from '../lab/lab.js';
import { Exec } from '../../src/rules/exec.js';
import { detectQueueBackend } from '../../src/rules/packet-rules.js';

const lab = await Lab.create({ tag: 'snoopcmd', id: 37 });
t.teardown(() => lab.destroy());
const backend = await detectQueueBackend(new Exec(false, lab.ns.router));

/** What our queue rules are in the router now: '' when there are none. */
async function queueRules(): Promise<string> {
  if (backend === 'nft') return (await lab.exec('router', 'nft', ['list', 'table', 'inet', 'tcp-intercept-queue'])).stdout;
  const rules = async (tool: string): Promise<string> =>
    (await lab.run('router', tool, ['-t', 'mangle', '-S'])).split('\n').filter((l) => l.includes('tcp-intercept-queue')).join('\n');
  return [await rules('iptables'), await rules('ip6tables')].join('\n').trim();
}

/** Starts `tcp-intercept snoop` in the router and waits for its ready line. */
async function startSnoop(args: string[]): Promise<LabProcess> {
  const p = lab.spawn('router', TCP_INTERCEPT_BIN, ['snoop', ...args]);
  await Promise.race([
    p.waitForOutput(/^tcp-intercept snoop: .*\n/m, 20_000),
    p.exited.then(() => {
      throw new Error(`tcp-intercept snoop exited at startup:\n${p.output()}`);
    }),
  ]);
  return p;
}

async function stop(t: Test, p: LabProcess): Promise<void> {
  p.kill('SIGTERM');
  const exit = await p.exited;
  t.equal(exit.code, 0, `exit 0 after SIGTERM: ${p.stderr()}`);
}

t.test('runs with its rules until SIGTERM, then removes them and reports', async (t) => {
  t.equal(await queueRules(), '', 'no queue rule before');
  const p = await startSnoop(['--snoop-interface', lab.clientIf]);
  t.match(p.stdout(), new RegExp(`^tcp-intercept snoop: queue 16: lossy side ${lab.clientIf}\\n`), 'the ready line');
  const rules = await queueRules();
  if (backend === 'nft') {
    t.match(rules, `oifname "${lab.clientIf}"`);
    t.match(rules, 'queue flags bypass to 16');
  } else {
    for (const tool of ['iptables', 'ip6tables']) {
      const chain = await lab.run('router', tool, ['-t', 'mangle', '-S', 'tcp-intercept-queue-fwd']);
      t.match(chain, `-o ${lab.clientIf} -p tcp -j NFQUEUE --queue-num 16 --queue-bypass`, `${tool}: data toward the lossy side`);
      t.match(chain, `-i ${lab.clientIf} -p tcp -j NFQUEUE --queue-num 16 --queue-bypass`, `${tool}: ACKs from it`);
      t.match(await lab.run('router', tool, ['-t', 'mangle', '-S', 'FORWARD']), '-A FORWARD -j tcp-intercept-queue-fwd', `${tool}: hung from FORWARD`);
    }
  }

  const server = lab.spawn('server', 'iperf3', ['-s', '-1', '-p', '5201']);
  await lab.waitForListen('server', 5201);
  const client = await lab.exec('client', 'iperf3', ['-c', lab.server.v4, '-p', '5201', '-t', '1', '-R']);
  t.equal(client.code, 0, `TCP passes through it: ${client.stderr.trim()}`);
  await server.exited;

  await stop(t, p);
  const packets = Number(/^queue: (\d+) packets received/m.exec(p.stdout())?.[1]);
  t.ok(packets > 0, `the report counts what it saw (${packets} packets)`);
  t.equal(await queueRules(), '', 'no queue rule after');
});

t.test('a failure after the rules went in (the metrics port is taken): exit 71, no rule left', async (t) => {
  const holder = lab.spawn('router', process.execPath, ['-e', "require('net').createServer().listen(5199, '127.0.0.1')"]);
  await lab.waitForListen('router', 5199);
  const r = await lab.exec('router', TCP_INTERCEPT_BIN, ['snoop', '--snoop-interface', lab.clientIf, '--metrics', '127.0.0.1:5199']);
  holder.kill('SIGKILL');
  await holder.exited;
  t.equal(r.code, 71);
  t.match(r.stderr, /--metrics: cannot serve on 127\.0\.0\.1:5199/);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  t.equal(await queueRules(), '', 'the rules it installed are gone');
});

t.test('its queue held by another program: exit 69, and that program keeps its rules', async (t) => {
  const first = await startSnoop(['--snoop-interface', lab.clientIf, '--queue', '30']);
  const rules = await queueRules();
  const second = await lab.exec('router', TCP_INTERCEPT_BIN, ['snoop', '--snoop-interface', lab.serverIf, '--queue', '30']);
  t.equal(second.code, 69, 'queue busy');
  t.match(second.stderr, /queue 30: .*already bound/);
  t.equal(await queueRules(), rules, "the first one's rules are as they were");
  await stop(t, first);
  t.equal(await queueRules(), '');
});

t.test('without CAP_NET_ADMIN: exit 77, no rule', async (t) => {
  // Root still, so that it reads the checkout wherever that is, but without the capability.
  const r = await lab.exec('router', 'setpriv', ['--bounding-set=-net_admin', TCP_INTERCEPT_BIN, 'snoop', '--snoop-interface', lab.clientIf]);
  t.equal(r.code, 77, r.stderr);
  t.match(r.stderr, /needs CAP_NET_ADMIN/);
  t.equal(await queueRules(), '');
});

t.test('the service runs snoop without a proxy, and reloads', async (t) => {
  const p = lab.spawn('router', TCP_INTERCEPT_BIN, ['--config', '/dev/null', '-b', '', '--snoop-interface', lab.clientIf, '--metrics', 'off']);
  await p.waitForOutput(new RegExp(`info queue 16: snoop lossy side ${lab.clientIf}\n`), 20_000);
  p.kill('SIGHUP');
  await p.waitForOutput(/info reload from \/dev\/null: nothing to change/, 10_000);
  await stop(t, p);
  t.notMatch(p.output(), /warn|error/, 'nothing went wrong');
});

t.test('with --workers 2 the proxy runs in both, snoop in the first only', async (t) => {
  const p = lab.spawn('router', TCP_INTERCEPT_BIN, ['--config', '/dev/null', '-b', '127.0.0.1:5000', '--snoop-interface', lab.clientIf, '--metrics', 'off', '--workers', '2']);
  await p.waitForOutput(/info listening on .* worker=0\n[^]*info listening on .* worker=1\n|info listening on .* worker=1\n[^]*info listening on .* worker=0\n/, 20_000);
  const ready = p.output().split('\n').filter((l) => l.includes('info listening on'));
  t.match(ready.find((l) => l.endsWith('worker=0')), `; queue 16: snoop lossy side ${lab.clientIf}`, 'worker 0 binds the queue');
  t.notMatch(ready.find((l) => l.endsWith('worker=1')), /snoop|queue/, 'worker 1 does not');
  await stop(t, p);
});
