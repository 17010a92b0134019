// The proxy's closed connections leave TIME_WAIT sockets in the router under both ends' addresses
// (the client leg under the server's, the server leg under the client's). A later connection with
// the same addresses and ports that is not diverted (the proxy draining or stopped) is forwarded;
// the kernel's early demux must not match its packets to those sockets, or ip_forward() drops
// them for up to 60 s. CI saw it once: a connection just after the service stopped timed out.
import t from 'tap';
import { Lab, TCP_INTERCEPT_BIN } from '../lab/lab.js';

const PORT = 7040;
const lab = await Lab.create({ tag: 'twreuse', id: 42 });
t.teardown(() => lab.destroy());
const node = (host: string, source: string) => lab.spawn(host, process.execPath, ['--input-type=module', '-e', `import net from 'node:net';\n${source}`]);

// Echoes; a client that sends 'close' is closed by the server first.
const echo = node('server', `net.createServer((s) => s.on('error', () => {}).on('data', (d) => String(d) === 'close' ? s.end() : s.write(d))).listen(${PORT}, '::', () => console.log('listening'));`);
await echo.waitForOutput(/listening/);

/** One connection to the server from <localPort> (0: any) that sends <what>; its outcome. */
async function connect(host: string, what: 'x' | 'close', localPort = 0): Promise<{ result: string; port: number }> {
  const client = node('client', `
    const s = net.connect({ host: '${host}', port: ${PORT}${localPort ? `, localPort: ${localPort}` : ''} }, () => s.write('${what}'));
    const done = (result) => { console.log(JSON.stringify({ result, port: s.localPort })); s.destroy(); };
    s.setTimeout(4000, () => done('timeout'));
    s.once('data', () => done('echoed')).once('end', () => done('closed by server')).on('error', (e) => done(e.code));`);
  await client.exited;
  return JSON.parse(client.stdout().trim()) as { result: string; port: number };
}

/** Local ports of the router's TIME_WAIT sockets of one family whose peer is the server's <PORT>
 *  (server legs), and peer ports of those whose local address is it (client legs). */
async function timeWaitPorts(family: 'v4' | 'v6'): Promise<{ serverLegs: number[]; clientLegs: number[] }> {
  const out = await lab.run('router', 'ss', ['-Htan', 'state', 'time-wait']);
  const serverLegs: number[] = [], clientLegs: number[] = [];
  for (const line of out.split('\n')) {
    const [local, peer] = line.trim().split(/\s+/).slice(2);
    // The dual-stack listener's IPv4 client legs show as [::ffff:a.b.c.d].
    if (!local || !peer || local.includes('.') !== (family === 'v4')) continue;
    const port = (a: string) => Number(a.slice(a.lastIndexOf(':') + 1));
    if (port(peer) === PORT) serverLegs.push(port(local));
    else if (port(local) === PORT) clientLegs.push(port(peer));
  }
  return { serverLegs, clientLegs };
}

for (const family of ['v4', 'v6'] as const) {
  t.test(`IPv${family[1]}: after the proxy, connections on the ports of its closed ones open at once`, async (t) => {
    const host = lab.server[family];
    await lab.intercept({ port: 5000 });
    const proxy = lab.spawn('router', TCP_INTERCEPT_BIN, ['-b', '[::]:5000', '--metrics', 'off']);
    t.teardown(async () => {
      proxy.kill('SIGTERM');
      await proxy.exited;
      await lab.removeIntercept();
    });
    await proxy.waitForOutput(/listening on/);
    const early = (await lab.run('router', 'sysctl', ['-n', 'net.ipv4.ip_early_demux'])).trim();
    t.comment(`router: net.ipv4.ip_early_demux = ${early} after rules install`);

    t.equal((await connect(host, 'x')).result, 'echoed', 'relayed; the client closed first');
    const byServer = await connect(host, 'close');
    t.equal(byServer.result, 'closed by server', 'relayed; the server closed first');
    // The legs reach TIME_WAIT once the last FIN is acknowledged, a moment after the client saw the end.
    let tw = await timeWaitPorts(family);
    for (let i = 0; i < 30 && !(tw.serverLegs.length && tw.clientLegs.includes(byServer.port)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      tw = await timeWaitPorts(family);
    }
    t.ok(tw.serverLegs.length >= 1, `a server leg in TIME_WAIT (ports ${tw.serverLegs})`);
    t.ok(tw.clientLegs.includes(byServer.port), `the client leg of the one the server closed in TIME_WAIT (port ${byServer.port})`);

    await lab.removeIntercept();   // new connections pass straight to the server from now on
    for (const port of [tw.serverLegs[0], byServer.port]) {
      const direct = await connect(host, 'x', port);
      t.equal(direct.result, 'echoed', `a direct connection from port ${port} opens and is echoed (${direct.result})`);
    }
  });
}
