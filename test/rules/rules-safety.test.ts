// What `tcp-intercept rules` must refuse or leave alone: no interception without a choice of
// interfaces, the proxy's own wildcard listeners are not connections to hand over, reserved
// routing tables, a server-leg mark the fwmark would route back into the proxy; and it reads the
// service's own command-line options (DAEMON_OPTS) for the listen port.
import t from 'tap';
import { Lab } from '../lab/lab.js';
import { TCP_INTERCEPT_BIN, ProxyLab } from '../helpers/proxy-lab.js';

const lab = await Lab.create({ tag: 'rsafe', id: 26 });
t.teardown(() => lab.destroy());
const env = new ProxyLab(lab);
const IF = ['--interface', lab.clientIf];
const rules = (args: string[], vars: string[] = []) => lab.exec('router', 'env', [...vars, TCP_INTERCEPT_BIN, 'rules', ...args]);
const ruleset = () => lab.run('router', 'nft', ['list', 'ruleset']);

// The proxy listens on 5000 and 5001: one listen port per backend, so that no check meets a
// TIME_WAIT socket of the one before.
const servers = new Map<number, Awaited<ReturnType<typeof env.serve>>>();
for (const port of [5000, 5001, 7000, 7031, 7032]) servers.set(port, await env.serve(port));
await env.startProxy(['-b', '[::]:5000', '-b', '[::]:5001']);

t.test('install needs a choice of interfaces', async (t) => {
  const before = await ruleset();
  const r = await rules(['install']);
  t.equal(r.code, 64, 'without --interface: a usage error (exit 64)');
  t.match(r.stderr, /--interface.*--all-interfaces/, 'which names both ways out');
  t.equal(await ruleset(), before, 'and installs nothing');
  const dry = await rules(['install', '--dry-run']);
  t.equal(dry.code, 64, 'nor does --dry-run print a plan for every interface');
  const all = await rules(['install', '--all-interfaces', '--dry-run']);
  t.equal(all.code, 0, '--all-interfaces is an explicit choice');
  t.match(all.stdout, /^\t\tmeta nfproto ipv4 meta l4proto tcp .* tproxy ip to :5000/m, 'a diversion on every interface');
  const both = await rules(['install', '--all-interfaces', ...IF, '--dry-run']);
  t.equal(both.code, 64, 'and both at once is a usage error');
});

for (const [backend, listen, server] of [['nft', 5000, 7031], ['iptables', 5001, 7032]] as const) {
  t.test(`${backend}: the proxy's own listener diverts nothing`, async (t) => {
    const install = await rules(['install', '--backend', backend, ...IF, '--ports', '7000', '--port', String(listen)]);
    t.equal(install.code, 0, `install --ports 7000: ${install.stderr.trim()}`);
    for (const family of ['v4', 'v6'] as const) {
      const direct = await env.probe(servers.get(listen)!, lab.server[family], listen);
      t.ok(direct.ok && !direct.proxied, `IPv${family[1]}: a connection to a server's port ${listen} (the listen port) is forwarded, not intercepted`);
    }
    const relayed = await env.probe(servers.get(7000)!, lab.server.v6, 7000);
    t.ok(relayed.ok && relayed.proxied, 'while one to port 7000 is relayed');
    const sourcePort = await env.probe(servers.get(server)!, lab.server.v4, server, ['--local-port', String(listen)]);
    t.ok(sourcePort.ok && !sourcePort.proxied, `a client using source port ${listen} gets the server's replies (${sourcePort.error ?? 'ok'})`);
    t.equal((await rules(['remove', '--backend', backend])).code, 0, 'remove');
  });
}

t.test("a server-leg mark sharing bits with the fwmark is refused", async (t) => {
  const fromEnv = await rules(['install', ...IF, '--dry-run'], ['TCP_INTERCEPT_MARK=0x3']);
  t.equal(fromEnv.code, 64, "the proxy's --mark 0x3 (from the environment) against --fwmark 1: exit 64");
  t.match(fromEnv.stderr, /--fwmark: 0x1 shares bits with the proxy's server-leg mark 0x3/);
  const fromOpts = await rules(['install', ...IF, '--dry-run', '--service-options=--mark 1']);
  t.equal(fromOpts.code, 64, 'the same from the service options');
  const apart = await rules(['install', ...IF, '--dry-run', '--fwmark', '0x4'], ['TCP_INTERCEPT_MARK=0x3']);
  t.equal(apart.code, 0, `marks with no bit in common are fine: ${apart.stderr.trim()}`);
});

t.test("the listen port comes from the service's own options too (DAEMON_OPTS)", async (t) => {
  const r = await rules(['install', ...IF, '--dry-run', '--service-options=-b [::]:6000  --log-level debug']);
  t.equal(r.code, 0, `install --service-options='-b [::]:6000 ...': ${r.stderr.trim()}`);
  t.match(r.stdout, /tproxy ip to :6000 /, 'diverts to port 6000');
  const bad = await rules(['install', ...IF, '--dry-run', '--service-options=--bogus-flag']);
  t.equal(bad.code, 64, 'a bad service option is a usage error');
  t.match(bad.stderr, /--service-options: Unknown argument: bogus-flag/);
});

// Last: on a build that accepts it, this replaces the router's main routing table's default.
t.test('reserved routing tables are refused', async (t) => {
  const main = await lab.run('router', 'ip', ['-4', 'route', 'show', 'table', 'main']);
  const r = await rules(['install', ...IF, '--table', '254']);
  t.equal(r.code, 64, '--table 254: a usage error (exit 64)');
  t.match(r.stderr, /--table: 254 is the kernel's main table/);
  t.equal(await lab.run('router', 'ip', ['-4', 'route', 'show', 'table', 'main']), main, 'the main table is untouched');
  for (const table of ['0', '253', '255']) t.equal((await rules(['install', ...IF, '--table', table, '--dry-run'])).code, 64, `--table ${table}: refused`);
  t.equal((await rules(['install', ...IF, '--table', '252', '--dry-run'])).code, 0, '--table 252 is fine');
  await env.stopProxy();
});
