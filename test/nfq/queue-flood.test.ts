// A queue process under a flood bigger than its socket buffer (ENOBUFS: the kernel drops packets
// and acknowledgements it cannot deliver): it keeps serving, SIGTERM ends it within a bound, and
// a namespace deleted under it leaves it neither spinning nor hung. Every process is SIGKILLed by
// pid on every path.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { Lab, type LabProcess } from '../lab/lab.js';
import { deleteNetns, run } from '../lab/netns.js';
import { parsePing } from '../helpers/ping.js';
import { queueRules } from './queue-lab.js';

const lab = await Lab.create({ tag: 'nfqflood', id: 52 });
t.teardown(() => lab.destroy());

const RUNNER = fileURLToPath(new URL('./queue-runner.ts', import.meta.url));
/** A socket buffer a few packets fill: every burst overflows it. */
const SMALL_RCVBUF = 1024;
const EXIT_BOUND_MS = 5000;

/** Starts a queue runner on queue 0 and waits until it is bound; SIGKILLed by pid at teardown. */
async function startRunner(t: Test, options: object): Promise<LabProcess> {
  const p = lab.spawn('router', process.execPath, [...process.execArgv, RUNNER, 'accept', JSON.stringify(options)]);
  t.teardown(() => p.kill('SIGKILL'));
  await p.waitForOutput(/^ready$/m, 20_000);
  return p;
}

/** A UDP flood client -> server through the router's queue for <seconds>; stopped at teardown. */
async function flood(t: Test, port: number, seconds: number): Promise<void> {
  const server = lab.spawn('server', 'iperf3', ['-s', '-p', String(port)]);
  t.teardown(() => server.kill('SIGKILL'));
  await lab.waitForListen('server', port);
  const client = lab.spawn('client', 'iperf3', ['-c', lab.server.v4, '-p', String(port), '-u', '-b', '0', '-l', '64', '-P', '4', '-t', String(seconds), '--forceflush']);
  t.teardown(() => client.kill('SIGKILL'));
  await client.waitForOutput(/sec/, 10_000);
}

/** utime + stime of a process in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** How long <p> takes to exit after SIGTERM, or null when it is still running after the bound. */
async function timeToExit(p: LabProcess): Promise<number | null> {
  const start = Date.now();
  p.kill('SIGTERM');
  const exited = await Promise.race([p.exited.then(() => true), new Promise<false>((res) => setTimeout(() => res(false), EXIT_BOUND_MS))]);
  return exited ? Date.now() - start : null;
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

t.beforeEach(async (t) => {
  await queueRules(lab, '-A', ['udp', 'icmp'], ['--queue-bypass']);
  t.teardown(() => queueRules(lab, '-D', ['udp', 'icmp'], ['--queue-bypass']).catch(() => undefined));
});

t.test('a queue whose socket overflowed (ENOBUFS) keeps serving', async (t) => {
  const runner = await startRunner(t, { rcvbuf: SMALL_RCVBUF });
  await flood(t, 5201, 2);
  await sleep(2500);
  const ping = parsePing((await lab.exec('client', 'ping', ['-c', '10', '-i', '0.05', '-W', '1', lab.server.v4])).stdout);
  t.equal(ping.received, 10, 'pings pass the queue after the flood');
  t.ok((await timeToExit(runner)) !== null, 'SIGTERM ends it');
  const stats = /^stats (.*)$/m.exec(runner.stdout());
  t.ok(stats, `it printed its stats:\n${runner.output()}`);
  t.ok((JSON.parse(stats?.[1] ?? '{}') as { enobufs?: number }).enobufs, 'the flood overflowed the socket (ENOBUFS counted)');
});

t.test('SIGTERM under a flood ends the process within the bound', async (t) => {
  const runner = await startRunner(t, { rcvbuf: SMALL_RCVBUF });
  await flood(t, 5202, 30);
  await sleep(1000);
  const ms = await timeToExit(runner);
  t.ok(ms !== null, `exited ${ms === null ? `not within ${EXIT_BOUND_MS} ms` : `in ${ms} ms`}\n${runner.output()}`);
});

t.test('a namespace deleted under a flooded queue process: no spin, and SIGTERM still ends it', async (t) => {
  const runner = await startRunner(t, { rcvbuf: SMALL_RCVBUF });
  const pid = runner.child.pid ?? 0;
  await flood(t, 5203, 30);
  await sleep(1000);
  // The router's name goes (its processes keep the namespace alive), the two ends go for good.
  await run('ip', ['netns', 'del', lab.ns.router]);
  await deleteNetns(lab.ns.client);
  await deleteNetns(lab.ns.server);
  await sleep(500);
  const before = cpuSeconds(pid);
  await sleep(2000);
  const used = cpuSeconds(pid) - before;
  t.ok(used < 0.2, `idle after the namespace went: ${used.toFixed(2)} s of CPU in 2 s`);
  const ms = await timeToExit(runner);
  t.ok(ms !== null, `exited ${ms === null ? `not within ${EXIT_BOUND_MS} ms` : `in ${ms} ms`}`);
});
