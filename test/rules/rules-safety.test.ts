// What `tcp-intercept rules` must refuse or leave alone: no interception without a choice of
// interfaces, and the proxy's own wildcard listeners are not connections to hand over.
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

t.teardown(() => env.stopProxy());
