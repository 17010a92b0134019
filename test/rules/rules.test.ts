// `tcp-intercept rules`: the rules it installs really hand connections to the proxy, install
// is idempotent, remove leaves nothing, and nothing else in the firewall is touched.
import t, { type Test } from 'tap';
import { Lab } from '../lab/lab.js';
import { TCP_INTERCEPT_BIN, ProxyLab, type Probe } from '../helpers/proxy-lab.js';

const lab = await Lab.create({ tag: 'rules', id: 14 });
t.teardown(() => lab.destroy());
const env = new ProxyLab(lab);
// A server port per check: a plain connection right after proxied ones to the same port can
// meet the proxy's TIME_WAIT leg (same addresses and port) in the router (platform notes).
const servers = new Map<number, Awaited<ReturnType<typeof env.serve>>>();
for (let port = 7001; port <= 7014; port++) servers.set(port, await env.serve(port));
await env.startProxy([]);
// Someone else's table, which must survive everything we do.
await lab.run('router', 'nft', ['-f', '-'], { input: 'table inet keepme {\n  chain c { type filter hook input priority 0; policy accept; }\n}\n' });

const rules = (args: string[]) => lab.exec('router', TCP_INTERCEPT_BIN, ['rules', ...args]);
// iptables-nft keeps its built-in mangle chains once made (and they may serve others' rules):
// for that backend compare the rules, not nft's view of the built-ins.
const iptablesRules = async (tool: string): Promise<string> =>
  (await lab.exec('router', tool, ['-t', 'mangle', '-S'])).stdout.split('\n').filter((l) => !/^-P /.test(l)).join('\n');
const routing = async (): Promise<string[]> => [
  (await lab.exec('router', 'ip', ['-4', 'rule'])).stdout,
  (await lab.exec('router', 'ip', ['-6', 'rule'])).stdout,
  (await lab.exec('router', 'ip', ['-4', 'route', 'show', 'table', '100'])).stdout,
  (await lab.exec('router', 'ip', ['-6', 'route', 'show', 'table', '100'])).stdout,
];
const snapshot = async (backend = 'nft'): Promise<string> =>
  [
    backend === 'nft'
      ? (await lab.exec('router', 'nft', ['list', 'ruleset'])).stdout
      : (await lab.exec('router', 'nft', ['list', 'tables'])).stdout.replace(/table ip6? mangle\n/g, ''),
    await iptablesRules('iptables'),
    await iptablesRules('ip6tables'),
    ...(await routing()),
  ].join('\n---\n');

/** One connection to <port>: whether it went through, whether the proxy relayed it (proven either way). */
const connect = (port: number, family: 'v4' | 'v6' = 'v4') => env.probe(servers.get(port)!, lab.server[family], port);
const plain = (c: Probe): boolean => c.ok && !c.proxied;
const relayed = (c: Probe): boolean => c.ok && c.proxied;
/** `rules install` with <args>, which must succeed. */
async function install(t: Test, args: string[]): Promise<void> {
  const r = await rules(['install', ...args]);
  t.equal(r.code, 0, `install ${args.join(' ')}: ${r.stdout.trim()} ${r.stderr.trim()}`);
}

const pristine = await snapshot();
const pristineIpt = await snapshot('iptables');

for (const [backend, base] of [['nft', 7001], ['iptables', 7004]] as const) {
  t.test(`${backend}: install, status, idempotence, remove`, async (t) => {
    const before = await connect(base);
    t.ok(plain(before), 'without rules, connections are forwarded plainly');
    const install = await rules(['install', '--backend', backend, '--interface', lab.clientIf]);
    t.equal(install.code, 0, `install: ${install.stdout.trim()} ${install.stderr.trim()}`);
    t.match(install.stdout, new RegExp(`rules installed \\(${backend}, port 5000\\)`), 'the port comes from the configuration');
    for (const family of ['v4', 'v6'] as const) {
      const c = await connect(base + 1, family);
      t.ok(relayed(c), `IPv${family[1]}: relayed by the proxy`);
      t.equal(c.remote, lab.client[family], "and the server still sees the client's address");
    }
    const once = await snapshot(backend);
    t.equal((await rules(['install', '--backend', backend, '--interface', lab.clientIf])).code, 0, 'install again');
    t.equal(await snapshot(backend), once, 'a second install changes nothing');
    const status = await rules(['status', '--backend', backend]);
    t.equal(status.code, 0, 'status: installed (exit 0)');
    t.match(status.stdout, /present/);
    t.notMatch(status.stdout, /absent/);
    t.match((await lab.run('router', 'nft', ['list', 'tables'])), /table inet keepme/, 'the other table is untouched');
    t.equal((await rules(['drain', '--backend', backend])).code, 0, 'drain');
    t.equal((await rules(['drain', '--backend', backend])).code, 0, 'drain again is fine');
    const drained = await snapshot(backend);
    t.notMatch(drained, /tproxy|TPROXY/, 'no diversion is left');
    t.match(drained, backend === 'nft' ? /socket transparent 1 jump proxy-owned/ : /-m socket --transparent/, 'what delivers connections in flight stays');
    t.equal((await rules(['status', '--backend', backend])).code, 0, 'and status still says installed');
    t.equal((await rules(['remove', '--backend', backend])).code, 0, 'remove');
    t.equal(await snapshot(backend), backend === 'nft' ? pristine : pristineIpt, 'remove leaves the firewall and routing as they were');
    t.equal((await rules(['remove', '--backend', backend])).code, 0, 'remove again is fine');
    const after = await rules(['status', '--backend', backend]);
    t.equal(after.code, 1, 'status: not installed (exit 1)');
    t.match(after.stdout, /absent/);
    t.ok(plain(await connect(base + 2)), 'after remove, connections are forwarded plainly again');
  });
}

t.test('which connections are intercepted', async (t) => {
  const iface = ['--interface', lab.clientIf];
  await install(t, [...iface, '--ports', '7007,7008-7009']);
  t.ok(relayed(await connect(7008)), '--ports 7007,7008-7009: 7008 is intercepted');
  t.ok(plain(await connect(7010)), '--ports 7007,7008-7009: 7010 is not');
  await install(t, [...iface, '--exclude-ports', '7011']);
  t.ok(plain(await connect(7011)), '--exclude-ports 7011: 7011 is not intercepted');
  t.ok(relayed(await connect(7012)), '--exclude-ports 7011: 7012 is');
  await install(t, [...iface, '--exclude-source', `${lab.client.v4}/32`]);
  t.ok(plain(await connect(7013, 'v4')), '--exclude-source: the client IPv4 network is not intercepted');
  t.ok(relayed(await connect(7013, 'v6')), 'its IPv6 address still is');
  await install(t, [...iface, '--exclude-destination', lab.links[1].v6Prefix]);
  t.ok(plain(await connect(7014, 'v6')), '--exclude-destination: the server IPv6 network is not intercepted');
  t.ok(relayed(await connect(7014, 'v4')), 'IPv4 still is');
  await install(t, ['--interface', 'nosuch0']);
  t.ok(plain(await connect(7010)), '--interface elsewhere: nothing arriving here is intercepted');
  t.equal((await rules(['remove'])).code, 0, 'remove');
  t.equal(await snapshot('iptables'), pristineIpt, 'and removed');
});

t.test('--dry-run changes nothing', async (t) => {
  const r = await rules(['install', '--dry-run', '--port', '5000', '--interface', lab.clientIf]);
  t.equal(r.code, 0);
  t.match(r.stdout, /^nft -f - <<'EOF'\ntable inet tcp-intercept\n/m, 'prints the nft transaction');
  t.match(r.stdout, /ip -4 rule add fwmark 0x1\/0x1 lookup 100/);
  t.equal(await snapshot('iptables'), pristineIpt, 'nothing changed');
  const bad = await rules(['install', '--exclude-source', '10.0.0.0/33', '--port', '5000', '--interface', lab.clientIf]);
  t.equal(bad.code, 64, 'a bad network is a usage error');
  t.match(bad.stderr, /--exclude-source: '10\.0\.0\.0\/33' is not an IPv4 or IPv6 network/);
  await env.stopProxy();
});
