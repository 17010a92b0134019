// A server that answers and then dies with a reset (an HTTP 413 closing on an upload it never
// read): without the proxy the client reads the whole answer, then sees the reset. Through the
// proxy it must get the same, although the proxy acknowledged the answer long before the client
// read it: the bytes it holds are delivered before the client leg is reset.
import t from 'tap';
import { nodeScript, proxyLab } from '../helpers/proxy-lab.js';

const PROXIED = 7101;
const DIRECT = 7102;
const ANSWER = 256 * 1024;

const env = await proxyLab(t, 'salvage', 20);
const { lab } = env;
await lab.intercept({ diverts: [{ ports: [String(PROXIED)], port: 5000 }] });
// A small receive window on the client: the answer waits in the proxy (or, without it, in the
// server's send queue) until the client reads.
await lab.run('client', 'sysctl', ['-qw', 'net.ipv4.tcp_rmem=4096 4096 4096']);

// Never reads its upload; answers, waits until the kernel says every byte of the answer is
// acknowledged (tx_queue in /proc/net/tcp), then closes: the unread upload makes it a reset.
const server = lab.spawn('server', process.execPath, ['--input-type=module', '-e', `
  import net from 'node:net';
  import { readFileSync } from 'node:fs';
  const hex = (n) => n.toString(16).toUpperCase().padStart(4, '0');
  const unacked = (local, remote) => {
    const row = readFileSync('/proc/net/tcp', 'latin1').split('\\n').map((l) => l.trim().split(/\\s+/))
      .find((f) => f[1]?.endsWith(':' + hex(local)) && f[2]?.endsWith(':' + hex(remote)) && f[3] === '01');
    return row ? parseInt(row[4].split(':')[0], 16) : 0;
  };
  for (const port of [${PROXIED}, ${DIRECT}]) {
    net.createServer({ pauseOnConnect: true }, (s) => {
      s.write(Buffer.alloc(${ANSWER}, 7));
      const poll = setInterval(() => {
        if (unacked(s.localPort, s.remotePort) > 0) return;
        clearInterval(poll);
        s.destroy();
      }, 10);
    }).listen(port, '0.0.0.0', () => console.log('listening', port));
  }`]);
await server.waitForOutput(new RegExp(`listening ${DIRECT}`));

interface Outcome { received: number; code: string | null; ms: number }

/** Uploads without end, reads only after 500 ms, and reports what it got before the connection died. */
async function client(port: number): Promise<Outcome> {
  const r = await nodeScript(lab, 'client', `
    import net from 'node:net';
    const t0 = Date.now();
    let received = 0, code = null;
    const s = net.connect(${port}, '${lab.server.v4}', () => s.write(Buffer.alloc(16 << 20)));
    s.pause();
    setTimeout(() => s.resume(), 500);
    s.on('data', (d) => { received += d.length; });
    s.on('error', (e) => { code = e.code; });
    s.on('close', () => console.log(JSON.stringify({ received, code, ms: Date.now() - t0 })));`);
  return JSON.parse(r.stdout.trim()) as Outcome;
}

t.test('the answer before a server reset reaches the client, then the reset', async (t) => {
  await env.startProxy();
  const direct = await client(DIRECT);
  t.equal(direct.received, ANSWER, `without the proxy the client reads the whole answer (${direct.received} B)`);
  t.match(direct.code, /^(ECONNRESET|EPIPE)$/, `then the reset (${direct.code})`);

  const proxied = await client(PROXIED);
  t.equal(proxied.received, ANSWER, `through the proxy too (${proxied.received} B)`);
  t.match(proxied.code, /^(ECONNRESET|EPIPE)$/, `then the reset (${proxied.code})`);
  const [close] = await env.waitForCloses(1);
  t.match(close, { message: /server-reset$/, s2c: ANSWER }, 'logged as server-reset with the answer delivered');
  await env.stopProxy();
});
