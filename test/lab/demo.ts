// `npm run demo`: a client, a router running tcp-intercept behind TPROXY, and a server, in
// network namespaces; real traffic through the proxy and, for comparison, through plain
// kernel forwarding on the same router. Prints what happened.
import { Lab, TCP_INTERCEPT_BIN, tcpPeerCommand } from './lab.js';

const ROUNDS = 3;
const SECONDS = 3;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gbit = (bps: number): string => `${(bps / 1e9).toFixed(2)} Gbit/s`;

async function iperf(lab: Lab, port: number, seconds = SECONDS): Promise<number> {
  const out = await lab.run('client', 'iperf3', ['-c', lab.server.v4, '-p', String(port), '-t', String(seconds), '-J'], { timeoutMs: 60_000 });
  return (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
}

/** Congestion control of each leg, read with ss in the router while a transfer runs. */
async function legAlgorithms(lab: Lab): Promise<{ client: string; server: string }> {
  const find = async (peer: string): Promise<string> => {
    const out = await lab.run('router', 'ss', ['-Htin', 'state', 'established', 'dst', peer]);
    return / (reno|cubic|bbr|[a-z0-9_]+) wscale/.exec(out.replace(/\s+/g, ' '))?.[1] ?? '?';
  };
  return { client: await find(lab.client.v4), server: await find(lab.server.v4) };
}

async function main(): Promise<void> {
  const lab = await Lab.create({ tag: 'demo', id: 40, routers: 2 });
  try {
    console.log('tcp-intercept demo');
    console.log(`  client ${lab.client.v4} / ${lab.client.v6}`);
    console.log(`  router ${lab.routerClientSide.v4} | ${lab.routerServerSide.v4}  (tcp-intercept on :5000 behind TPROXY)`);
    console.log(`  server ${lab.server.v4} / ${lab.server.v6}\n`);

    lab.spawn('server', 'iperf3', ['-s', '-p', '5301']);
    lab.spawn('server', 'iperf3', ['-s', '-p', '5302']);
    const [peerCmd, peerArgs] = tcpPeerCommand(['serve', '--port', '7001']);
    const peer = lab.spawn('server', peerCmd, peerArgs);
    await peer.waitForOutput(/^listening 7001$/m);
    await lab.waitForListen('server', 5302);

    const proxy = lab.spawn('router', TCP_INTERCEPT_BIN, ['--cc-client', 'cubic', '--cc-server', 'bbr', '-n', '--log-format', 'text']);
    await lab.waitForListen('router', 5000);

    // Interleaved rounds; each side on its own server port (TIME_WAIT of the proxy's legs
    // would otherwise disturb plain forwarding of the same address pairs).
    console.log(`1. iperf3, one stream, ${SECONDS} s, ${ROUNDS} rounds each, interleaved`);
    const plain: number[] = [];
    const proxied: number[] = [];
    let legs = { client: '?', server: '?' };
    for (let r = 0; r < ROUNDS; r++) {
      await lab.removeIntercept();
      plain.push(await iperf(lab, 5301));
      await lab.intercept({ port: 5000 });
      const run = iperf(lab, 5302);
      await new Promise((res) => setTimeout(res, 1000));
      if (r === 0) legs = await legAlgorithms(lab);
      proxied.push(await run);
      console.log(`   round ${r + 1}: plain forwarding ${gbit(plain[r])}, through tcp-intercept ${gbit(proxied[r])}`);
    }
    console.log(`   median: plain ${gbit(median(plain))}, tcp-intercept ${gbit(median(proxied))}, ratio ${(median(proxied) / median(plain)).toFixed(2)}`);
    console.log(`   congestion control seen by ss in the router: client leg ${legs.client}, server leg ${legs.server}\n`);

    console.log('2. 64 MiB each way through tcp-intercept, checked with sha256');
    for (const family of ['v4', 'v6'] as const) {
      const [cmd, args] = tcpPeerCommand(['xfer', '--host', lab.server[family], '--port', '7001', '--bytes', '64m', '--back', '64m']);
      const summary = JSON.parse(await lab.run('client', cmd, args, { timeoutMs: 120_000 })) as { ok: number; bytesSent: number; bytesReceived: number; elapsedMs: number };
      const seen = peer.stdout().trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { remote: string; received: number; sha256: string }).pop();
      console.log(`   IPv${family[1]}: sent ${summary.bytesSent} B, received ${summary.bytesReceived} B in ${summary.elapsedMs} ms, ${summary.ok === 1 ? 'byte-exact' : 'FAILED'}`);
      console.log(`         the server saw the connection coming from ${seen?.remote} (the client's own address)`);
    }

    console.log('\n3. A long, lossy link beyond the router: tcp-intercept emulate, in a second router, adds 50 ms');
    console.log('   and 1% loss toward the server. End to end, the client\'s cubic sees the loss; through');
    console.log('   tcp-intercept, only the server leg crosses the bad link, and it runs bbr.');
    const link = await lab.emulate({ router: 1, toward: 'server', args: ['--delay', '50', '--loss', '1', '--seed', '1'] });
    try {
      await lab.removeIntercept();
      const slowPlain = await iperf(lab, 5301, 6);
      await lab.intercept({ port: 5000 });
      const slowProxied = await iperf(lab, 5302, 6);
      console.log(`   iperf3 6 s: plain forwarding ${(slowPlain / 1e6).toFixed(1)} Mbit/s, through tcp-intercept ${(slowProxied / 1e6).toFixed(1)} Mbit/s`);
    } finally {
      const report = await link.stop();
      console.log('   the emulator\'s report:');
      for (const line of report.trim().split('\n').slice(1)) console.log(`     ${line}`);
    }

    proxy.kill('SIGTERM');
    await proxy.exited;
    const closes = proxy.stdout().split('\n').filter((l) => / info close /.test(l));
    console.log(`\n4. tcp-intercept logged ${closes.length} connections; the last two:`);
    for (const line of closes.slice(-2)) console.log(`   ${line}`);
  } finally {
    await lab.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
