// ICMP errors about the server leg reset the client at once (IPv6 and IPv4), and --mptcp goes
// together with per-leg options: the server leg is MPTCP while each leg keeps its own congestion
// control.
import t from 'tap';
import { nodeScript, proxyLab } from '../helpers/proxy-lab.js';
import { MPTCP_SERVER } from '../helpers/mptcp-server.js';
import type { LabProcess } from '../lab/lab.js';

const env = await proxyLab(t, 'icmpmp', 60);
const { lab } = env;

// In the server: port 7998 answers a SYN with ICMP (addr-unreachable for IPv6, host-unreachable
// for IPv4); nothing listens there, so without the ICMP the client would see a refusal instead.
await lab.run('server', 'nft', ['-f', '-'], {
  input: `table inet unreach {
    chain input { type filter hook input priority 0; policy accept;
      meta nfproto ipv6 tcp dport 7998 reject with icmpv6 type addr-unreachable
      meta nfproto ipv4 tcp dport 7998 reject with icmp type host-unreachable
    }
  }\n`,
});

interface Outcome { event: string; code?: string; ms: number }

/** Connects through the proxy and reports the first thing that ends the connection. */
async function observe(host: string, port: number): Promise<Outcome> {
  const r = await nodeScript(lab, 'client', `
    import net from 'node:net';
    const t0 = Date.now();
    let reported = false;
    const report = (event, code) => {
      if (reported) return;
      reported = true;
      console.log(JSON.stringify({ event, code, ms: Date.now() - t0 }));
      setImmediate(() => process.exit(0));
    };
    const s = net.connect(${port}, '${host}', () => s.write('hello'));
    s.on('error', (e) => report('error', e.code));
    s.on('end', () => report('end'));
    s.on('close', () => report('close'));
    setTimeout(() => report('still-open'), 8000);`);
  return JSON.parse(r.stdout.trim().split('\n')[0]) as Outcome;
}

t.test('an ICMP-unreachable server resets the client at once', async (t) => {
  // A connect timeout far beyond the test's patience: only the ICMP can end these in time.
  await env.startProxy(['--connect-timeout', '30000']);
  for (const family of ['v6', 'v4'] as const) {
    const since = env.closeLogs().length;
    const o = await observe(lab.server[family], 7998);
    t.equal(o.code, 'ECONNRESET', `IPv${family[1]}: the client got a reset (${JSON.stringify(o)})`);
    t.ok(o.ms < 5000, `IPv${family[1]}: well before --connect-timeout (${o.ms} ms)`);
    t.match(await env.closeLine(7998, since), { message: /unreachable$/, error: /EHOSTUNREACH/ },
      `IPv${family[1]}: logged as unreachable`);
  }
  await env.stopProxy();
});


// Connects, sends 100 kB, then holds the connection until SIGUSR1; then FIN and the reply.
const CLIENT = `
import socket, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
c = socket.create_connection((sys.argv[1], 7002))
c.sendall(b'x' * 100000)
print('sent', flush=True)
signal.sigwait([signal.SIGUSR1])
c.shutdown(socket.SHUT_WR)
print(c.makefile().read().strip(), flush=True)
`;

/** `ss -tin` lines (each socket's two lines joined) in the router matching <filter>. */
async function sockets(filter: string): Promise<string[]> {
  const out = await lab.run('router', 'ss', ['-Htin', 'state', 'established', filter]);
  const joined: string[] = [];
  for (const l of out.split('\n')) {
    if (!l.trim()) continue;
    if (/^\s/.test(l) && joined.length) joined[joined.length - 1] += ` ${l.trim()}`;
    else joined.push(l.trim());
  }
  return joined;
}

t.test('--mptcp with per-leg options: MPTCP server leg, reno toward the client, cubic toward the server', async (t) => {
  const server = lab.spawn('server', 'python3', ['-c', MPTCP_SERVER]);
  let client: LabProcess | null = null;
  try {
    await server.waitForOutput(/listening/);
    await env.startProxy(['--mptcp', '--cc-client', 'reno', '--cc-server', 'cubic', '-n', '--log-level', 'debug']);
    for (const family of ['v4', 'v6'] as const) {
      const v = `IPv${family[1]}`;
      client = lab.spawn('client', 'python3', ['-c', CLIENT, lab.server[family]]);
      await client.waitForOutput(/^sent$/m);
      // The client leg is the proxy's socket with the server's port as its own; the server
      // leg's subflow has it as the peer's.
      const clientLeg = await sockets('sport = :7002');
      const serverLeg = await sockets('dport = :7002');
      t.equal(clientLeg.length, 1, `${v}: one client leg (${clientLeg.join(' / ')})`);
      t.equal(serverLeg.length, 1, `${v}: one server-leg subflow (${serverLeg.join(' / ')})`);
      t.match(clientLeg[0] ?? '', /\breno\b/, `${v}: the client leg runs reno`);
      t.notMatch(clientLeg[0] ?? '', /tcp-ulp-mptcp/, `${v}: the client leg is plain TCP`);
      t.match(serverLeg[0] ?? '', /\bcubic\b/, `${v}: the server leg's subflow runs cubic`);
      t.match(serverLeg[0] ?? '', /tcp-ulp-mptcp flags:\S*M/, `${v}: the server leg's subflow is an MPTCP subflow, MP_CAPABLE (ss flag M)`);
      const msk = await lab.run('router', 'ss', ['-HMn', 'state', 'established']);
      t.ok(msk.split('\n').some((l) => l.includes(':7002')), `${v}: ss -M lists the MPTCP connection in the router`);
      client.kill('SIGUSR1');
      const [reply] = (await client.waitForOutput(/^mptcp=.*$/m, 10_000));
      t.match(reply, /^mptcp=1 bytes=100000 peer=/, `${v}: the server saw an MPTCP connection and every byte`);
      await client.exited;
      client = null;
    }
    const open = env.logs().find((l) => String(l.message).startsWith('open '));
    t.match(open, {
      serverLeg: { mptcp: true, nodelay: true, cc: 'cubic' },
      clientLeg: { mptcp: false, nodelay: true, cc: 'reno' },
    }, 'the debug open line reads both legs back');
  } finally {
    client?.kill();
    server.kill();
    await Promise.all([server.exited, client?.exited]);
    await env.stopProxy();
  }
});
