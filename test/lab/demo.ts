// `npm run demo`: a client, a router running tcp-intercept behind TPROXY, and a server, in
// network namespaces; real traffic through the proxy and, for comparison, through plain
// kernel forwarding on the same router; then a long lossy path beyond the router, end to end
// and split, and a lossy last hop with and without snoop. Prints what happened.
import { cubicIperf, type Goodput } from './cubic-iperf.js';
import { longPathSection } from './demo-long-path.js';
import { median, senderCongestion } from './demo-rounds.js';
import { snoopSection } from './demo-snoop.js';
import { Lab, TCP_INTERCEPT_BIN, tcpPeerCommand } from './lab.js';

const ROUNDS = 3;
const SECONDS = 3;

const gbit = (mbps: number): string => `${(mbps / 1e3).toFixed(2)} Gbit/s`;

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
    console.log(`1. iperf3 -C cubic, one stream, ${SECONDS} s, ${ROUNDS} rounds each, interleaved`);
    const plain: Goodput[] = [];
    const proxied: Goodput[] = [];
    let legs = { client: '?', server: '?' };
    for (let r = 0; r < ROUNDS; r++) {
      await lab.removeIntercept();
      plain.push(await cubicIperf(lab, 5301, SECONDS));
      await lab.intercept({ port: 5000 });
      const run = cubicIperf(lab, 5302, SECONDS);
      await new Promise((res) => setTimeout(res, 1000));
      if (r === 0) legs = await legAlgorithms(lab);
      proxied.push(await run);
      console.log(`   round ${r + 1}: plain forwarding ${gbit(plain[r].mbit)}, through tcp-intercept ${gbit(proxied[r].mbit)}`);
    }
    const [p, x] = [median(plain.map((g) => g.mbit)), median(proxied.map((g) => g.mbit))];
    console.log(`   median: plain ${gbit(p)}, tcp-intercept ${gbit(x)}, ratio ${(x / p).toFixed(2)}`);
    console.log(`client congestion control: ${senderCongestion([plain, proxied])}`);
    console.log(`   congestion control seen by ss in the router: client leg ${legs.client}, server leg ${legs.server}\n`);

    console.log('2. 64 MiB each way through tcp-intercept, checked with sha256');
    for (const family of ['v4', 'v6'] as const) {
      const [cmd, args] = tcpPeerCommand(['xfer', '--host', lab.server[family], '--port', '7001', '--bytes', '64m', '--back', '64m']);
      const summary = JSON.parse(await lab.run('client', cmd, args, { timeoutMs: 120_000 })) as { ok: number; bytesSent: number; bytesReceived: number; elapsedMs: number };
      const seen = peer.stdout().trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { remote: string; received: number; sha256: string }).pop();
      console.log(`   IPv${family[1]}: sent ${summary.bytesSent} B, received ${summary.bytesReceived} B in ${summary.elapsedMs} ms, ${summary.ok === 1 ? 'byte-exact' : 'FAILED'}`);
      console.log(`         the server saw the connection coming from ${seen?.remote} (the client's own address)`);
    }

    proxy.kill('SIGTERM');
    await proxy.exited;
    const closes = proxy.stdout().split('\n').filter((l) => / info close /.test(l));
    console.log(`\n3. tcp-intercept logged ${closes.length} connections; the last two:`);
    for (const line of closes.slice(-2)) console.log(`   ${line}`);

    console.log('');
    await longPathSection(lab, 4);
  } finally {
    await lab.destroy();
  }
  console.log('');
  await snoopSection(5);
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
