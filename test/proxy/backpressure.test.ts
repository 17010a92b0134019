// --buffer-size bounds what the proxy holds: a server writing as fast as it can to a client that
// reads nothing gets only as far as the socket buffers of both legs plus the proxy's buffer;
// a bigger --buffer-size lets more through, the proxy's memory stays flat, and once the client
// reads, every byte arrives intact.
import { readFileSync } from 'node:fs';
import t, { type Test as TapTest } from 'tap';
import { proxyLab, type ProxyLab } from '../helpers/proxy-lab.js';
import type { LabProcess } from '../lab/lab.js';

const env = await proxyLab(t, 'bpress', 59);
const { lab } = env;

const TOTAL = 256 << 20;

// Accepts one connection, writes TOTAL random bytes without blocking, and prints how many the
// kernel has accepted whenever that changes (at most every 100 ms), then the sha256 of all.
const SERVER = `
import socket, select, os, hashlib, time, json, sys
port, total = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('::', port)); s.listen(4)
print('listening', flush=True)
c, _ = s.accept()
c.setblocking(False)
block = os.urandom(1 << 20)
h = hashlib.sha256()
sent = 0; last = -1; lastPrint = 0
while sent < total:
    off = sent % len(block)
    n = min(len(block) - off, total - sent)
    try:
        k = c.send(memoryview(block)[off:off + n])
        h.update(memoryview(block)[off:off + k]); sent += k
    except BlockingIOError:
        select.select([], [c], [], 0.1)
    now = time.monotonic()
    if sent != last and now - lastPrint >= 0.1:
        print(json.dumps({'sent': sent}), flush=True); last = sent; lastPrint = now
print(json.dumps({'sent': sent, 'done': True, 'sha256': h.hexdigest()}), flush=True)
c.close()
`;

// Connects, reads nothing until SIGUSR1, then reads to EOF and prints the count and sha256.
const CLIENT = `
import socket, signal, hashlib, json, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
print('connected', flush=True)
signal.sigwait([signal.SIGUSR1])
h = hashlib.sha256(); n = 0
while True:
    d = c.recv(1 << 20)
    if not d: break
    h.update(d); n += len(d)
print(json.dumps({'received': n, 'sha256': h.hexdigest()}), flush=True)
`;

function lastSent(server: LabProcess): { sent: number; done?: boolean; sha256?: string } {
  const lines = server.stdout().split('\n').filter((l) => l.startsWith('{'));
  return lines.length ? (JSON.parse(lines[lines.length - 1]) as { sent: number }) : { sent: 0 };
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function maxOf(host: string, key: string): Promise<number> {
  const v = (await lab.run(host, 'sysctl', ['-n', key])).trim().split(/\s+/);
  return Number(v[v.length - 1]);
}

/** The most the kernel may hold in socket buffers along the path, the proxy's buffer aside. */
async function socketBufferBound(): Promise<number> {
  const [sw, rr, rw, cr] = await Promise.all([
    maxOf('server', 'net.ipv4.tcp_wmem'), maxOf('router', 'net.ipv4.tcp_rmem'),
    maxOf('router', 'net.ipv4.tcp_wmem'), maxOf('client', 'net.ipv4.tcp_rmem'),
  ]);
  return sw + rr + rw + cr;
}

/** Bytes queued (Recv-Q + Send-Q) in the sockets of <host> to or from <port>. */
async function queued(host: string, port: number): Promise<number> {
  const out = await lab.run(host, 'ss', ['-Htn', 'state', 'established', `( sport = :${port} or dport = :${port} )`]);
  let sum = 0;
  for (const l of out.split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length >= 4) sum += Number(f[0]) + Number(f[1]);
  }
  return sum;
}

interface Run { stalled: number; held: number; rssBefore: number; rssStalled: number; rssLater: number; received: number; sha: string; serverSha: string }

async function run(t: TapTest, p: ProxyLab, bufferSize: string, port: number): Promise<Run> {
  const proxy = await p.startProxy(['--buffer-size', bufferSize]);
  const pid = proxy.child.pid!;
  t.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /tcp-intercept|main\.js/, 'the pid is the proxy');
  const server = lab.spawn('server', 'python3', ['-c', SERVER, String(port), String(TOTAL)]);
  let client: LabProcess | null = null;
  try {
    await server.waitForOutput(/listening/);
    const rssBefore = rssKiB(pid);
    client = lab.spawn('client', 'python3', ['-c', CLIENT, lab.server.v4, String(port)]);
    await client.waitForOutput(/connected/);
    // Stalled: the count has not moved for 2 s (and something was sent at all).
    let prev = -1;
    let since = Date.now();
    const deadline = Date.now() + 60_000;
    for (;;) {
      await sleep(200);
      const { sent } = lastSent(server);
      if (sent !== prev) { prev = sent; since = Date.now(); }
      else if (sent > 0 && Date.now() - since >= 2000) break;
      if (Date.now() > deadline) throw new Error(`the server never stalled (${sent} B sent)`);
    }
    const stalled = lastSent(server).sent;
    const rssStalled = rssKiB(pid);
    // What the proxy itself holds (its pipe): all that was sent, less what the sockets queue.
    const [qs, qr, qc] = await Promise.all([queued('server', port), queued('router', port), queued('client', port)]);
    const held = stalled - qs - qr - qc;
    const metrics = await lab.run('router', 'curl', ['-s', 'http://127.0.0.1:5099/metrics']);
    const pipeBytes = Number(/^tcp_intercept_pipe_bytes\{state="in_use"\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
    t.comment(`${bufferSize}: queued server ${qs} router ${qr} client ${qc}; pipe capacity in use ${pipeBytes}`);

    await sleep(2000);
    t.equal(lastSent(server).sent, stalled, `${bufferSize}: still stalled 2 s later`);
    const rssLater = rssKiB(pid);
    client.kill('SIGUSR1');
    const [line] = (await client.waitForOutput(/^\{.*\}$/m, 120_000));
    const r = JSON.parse(line) as { received: number; sha256: string };
    await server.waitForOutput(/"done"/, 10_000);
    const serverSha = lastSent(server).sha256 ?? '';
    return { stalled, held, rssBefore, rssStalled, rssLater, received: r.received, sha: r.sha256, serverSha };
  } finally {
    server.kill();
    client?.kill();
    await Promise.all([server.exited, client?.exited]);
    await p.stopProxy();
  }
}

t.test('--buffer-size bounds what a non-reading client lets the server write', async (t) => {
  const bound = await socketBufferBound();
  const small = await run(t, env, '64k', 7101);
  const large = await run(t, env, '1M', 7102);
  const huge = await run(t, env, '4M', 7103);
  for (const [name, r, buf] of [['64k', small, 64 << 10], ['1M', large, 1 << 20], ['4M', huge, 4 << 20]] as const) {
    t.ok(r.stalled < TOTAL, `${name}: the server stalled at ${r.stalled} B of ${TOTAL}`);
    t.ok(r.stalled <= bound + buf, `${name}: within the socket buffers (${bound} B) + the proxy's ${buf} B`);
    t.ok(r.held >= 0 && r.held <= buf, `${name}: the proxy holds ${r.held} B, at most --buffer-size`);
    t.ok(r.rssStalled - r.rssBefore < 32 << 10, `${name}: proxy RSS ${r.rssBefore} -> ${r.rssStalled} KiB while holding the stream`);
    t.ok(r.rssLater - r.rssStalled < 8 << 10, `${name}: and flat while stalled (${r.rssStalled} -> ${r.rssLater} KiB)`);
    t.equal(r.received, TOTAL, `${name}: once reading, the client got every byte`);
    t.equal(r.sha, r.serverSha, `${name}: byte-exact`);
  }
  // The proxy's share is measured exactly (what was sent less what the sockets queue); the
  // socket buffers' own autotuning varies by more than a few hundred KiB between runs.
  t.ok(large.held > small.held + (256 << 10), `a 1M buffer holds more than 64k (${large.held} B vs ${small.held} B)`);
  // Without CAP_SYS_RESOURCE (a container's root may have CAP_SYS_ADMIN only) 4M is clamped to
  // fs.pipe-max-size with a note; pipes must still not fall back to 64 KiB (they did before).
  t.ok(huge.held > small.held + (256 << 10), `a 4M buffer holds more than 64k (${huge.held} B vs ${small.held} B)`);
});
