import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Lab, tcpPeerCommand } from './lab.js';
import { addNetns, deleteNetns, listNetns, pidAlive } from './netns.js';
import { streamSha256 } from './stream.js';

const TAG = 'labt';
const MIB = 1024 * 1024;
const SEED = 1;
const SEED_BACK = SEED + 1_000_000;

const ours = async (): Promise<string[]> => (await listNetns()).filter((n) => n.startsWith(`ti-${TAG}-`));

interface ServerLine {
  remote: string;
  remotePort: number;
  received: number;
  sha256: string;
  sent: number;
  error: string | null;
}

void t.test('invalid options throw a clear error and create nothing', async (t) => {
  await t.rejects(Lab.create({ tag: TAG, id: 0 }), /lab id must be an integer in 1\.\.60, got 0/);
  await t.rejects(Lab.create({ tag: TAG, id: 61 }), /lab id must be an integer in 1\.\.60, got 61/);
  await t.rejects(Lab.create({ tag: 'Bad-Tag', id: 1 }), /lab tag must be 1-8 chars/);
  await t.rejects(Lab.create({ tag: TAG, id: 1, routers: 8 }), /lab routers must be an integer in 1\.\.7/);
  t.same(await ours(), []);
});

void t.test('setup failing midway removes what it created, and only that', async (t) => {
  // The server namespace is created last; occupying its name makes setup fail after c and r exist.
  const blocker = `ti-${TAG}-${process.pid}-s`;
  await addNetns(blocker);
  t.teardown(() => deleteNetns(blocker));
  await t.rejects(Lab.create({ tag: TAG, id: 2 }), /ip netns add .*-s exited with code/);
  t.same(await ours(), [blocker]);
});

void t.test('lab: routing, direct transfer, intercept rules, destroy', async (t) => {
  const lab = await Lab.create({ tag: TAG, id: 1 });
  t.teardown(() => lab.destroy());
  t.match(lab.client, { v4: '198.18.8.2', v6: 'fd54:6943:1::2' });
  t.match(lab.server, { v4: '198.18.9.2', v6: 'fd54:6943:1:1::2' });
  t.same((await ours()).sort(), [lab.ns.client, lab.ns.router, lab.ns.server].sort());

  for (const addr of [lab.server.v4, lab.server.v6]) {
    const r = await lab.exec('client', 'ping', [addr.includes(':') ? '-6' : '-4', '-c', '1', '-W', '2', addr]);
    t.equal(r.code, 0, `client pings ${addr}`, { output: r.stdout + r.stderr });
  }

  const server = lab.spawn('server', ...tcpPeerCommand(['serve', '--port', '7001']));
  await server.waitForOutput(/^listening 7001$/m, 20_000);
  await lab.waitForListen('server', 7001);

  for (const [family, addr] of [['v4', lab.server.v4], ['v6', lab.server.v6]] as const) {
    const [cmd, args] = tcpPeerCommand(['xfer', '--host', addr, '--port', '7001', '--bytes', '1m', '--back', '1m']);
    const r = await lab.exec('client', cmd, args, { timeoutMs: 60_000 });
    t.equal(r.code, 0, `${family} transfer succeeds`, { stderr: r.stderr });
    const summary = JSON.parse(r.stdout) as { ok: number; results: { localPort: number; sentSha256: string; receivedSha256: string; received: number }[] };
    const [res] = summary.results;
    t.equal(summary.ok, 1);
    t.equal(res.received, MIB);
    t.equal(res.receivedSha256, streamSha256(SEED_BACK, MIB), `${family} reply is byte-exact`);
    t.equal(res.sentSha256, streamSha256(SEED, MIB));

    const line = await server.waitForOutput(new RegExp(`^\\{.*"remotePort":${res.localPort},.*\\}$`, 'm'));
    const seen = JSON.parse(line[0]) as ServerLine;
    t.equal(seen.remote, lab.client[family], `server sees the client's own ${family} address`);
    t.equal(seen.received, MIB);
    t.equal(seen.sha256, res.sentSha256, `${family} request is byte-exact`);
    t.equal(seen.sent, MIB);
    t.equal(seen.error, null);
  }

  await lab.intercept();
  const rules = await lab.run('router', 'nft', ['list', 'table', 'inet', 'tcp-intercept']);
  t.match(rules, new RegExp(`iifname "${lab.clientIf}" meta nfproto ipv4 .*tproxy ip to :5000`), 'the shipped rules');
  t.match(await lab.run('router', 'ip', ['-6', 'rule']), /fwmark 0x1\/0x1 lookup 100/);
  await lab.removeIntercept();
  t.not((await lab.exec('router', 'nft', ['list', 'table', 'inet', 'tcp-intercept'])).code, 0, 'nft table removed');
  t.notMatch(await lab.run('router', 'ip', ['rule']), /fwmark/);

  // An untracked process inside a namespace must be killed by destroy() too.
  const bg = await lab.run('client', 'sh', ['-c', 'sleep 600 >/dev/null 2>&1 & echo $!']);
  const bgPid = Number(bg.trim());
  t.ok(pidAlive(bgPid));

  await lab.destroy();
  await lab.destroy();
  t.same(await ours(), [], 'no namespaces left');
  t.not((await server.exited).signal, null, 'tracked server was stopped');
  t.notOk(pidAlive(server.child.pid ?? 0), 'tracked server is gone');
  t.notOk(pidAlive(bgPid), 'untracked process is gone');
});

/** Runs a child process that builds a lab, reports it, and then waits to be ended. */
async function childWithLab(id: number, then: string): Promise<{ child: ChildProcess; ns: string[]; sleepPid: number }> {
  const labUrl = new URL(`./lab${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
  const script = `
    const { Lab } = await import(${JSON.stringify(labUrl)});
    const lab = await Lab.create({ tag: ${JSON.stringify(TAG)}, id: ${id} });
    const p = lab.spawn('server', 'sleep', ['600']);
    await new Promise((r) => setTimeout(r, 100));
    console.log(JSON.stringify({ ns: [lab.ns.client, lab.ns.router, lab.ns.server], sleepPid: p.child.pid }));
    ${then}
  `;
  const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = (await once(child.stdout, 'data')) as [Buffer];
  return { child, ...(JSON.parse(data.toString()) as { ns: string[]; sleepPid: number }) };
}

const exitOf = (child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> =>
  once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

for (const [sig, signo] of [['SIGTERM', 15], ['SIGINT', 2], ['SIGHUP', 1]] as const) {
  void t.test(`${sig} to the owner cleans up and ends it`, async (t) => {
    const { child, ns, sleepPid } = await childWithLab(3, 'setInterval(() => {}, 1000);');
    const exited = exitOf(child);
    t.same((await ours()).filter((n) => ns.includes(n)).length, 3);
    child.kill(sig);
    const [code, signal] = await exited;
    t.ok(signal === sig || code === 128 + signo, `exits by ${sig}`, { code, signal });
    t.same(await ours(), []);
    t.notOk(pidAlive(sleepPid));
  });
}

void t.test('process exit without destroy() cleans up', async (t) => {
  const { child, sleepPid } = await childWithLab(3, 'process.exit(0);');
  const [code] = await exitOf(child);
  t.equal(code, 0);
  t.same(await ours(), []);
  t.notOk(pidAlive(sleepPid));
});

void t.test('namespaces of a SIGKILLed owner are swept by the next create', async (t) => {
  const { child, ns, sleepPid } = await childWithLab(4, 'setInterval(() => {}, 1000);');
  const exited = exitOf(child);
  child.kill('SIGKILL');
  await exited;
  t.same((await ours()).filter((n) => ns.includes(n)).length, 3, 'left behind by SIGKILL');
  const lab = await Lab.create({ tag: TAG, id: 5 });
  t.same((await ours()).filter((n) => ns.includes(n)), [], 'swept');
  t.notOk(pidAlive(sleepPid), 'processes inside were killed');
  await lab.destroy();
  t.same(await ours(), []);
});
