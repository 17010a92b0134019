// The long path of issue 14, on a lab with two routers:
//   client - r0 tcp-intercept (or plain forwarding) - r1 emulated long link - server
// r1 emulates the link beyond the proxy: RTT/2 each way, a rate limit both ways, loss toward the
// server only. The emulator has a router of its own: a router holding packets of its own sockets
// (the proxy's legs) would throttle them (TCP Small Queues).
//
// The client always sends with cubic set on its socket (test/lab/cubic-iperf.ts).
import { SENDER_CC, cubicIperf, type Goodput } from './cubic-iperf.js';
import { TCP_INTERCEPT_BIN, type EmulatedLink, type Lab, type LabProcess } from './lab.js';

export const ROUTERS = 2;
export const PROXY_ROUTER = 0;
export const LINK_ROUTER = 1;
export const PROXY_PORT = 5000;

export interface PathConditions {
  rttMs: number;
  /** random loss toward the server, percent */
  lossPercent: number;
  rateMbit: number;
}

/** One way through the router: no proxy (the rules removed), or tcp-intercept with these flags. */
export interface Variant {
  name: string;
  /** tcp-intercept's flags; null: end to end, plain forwarding */
  proxyArgs: string[] | null;
}

/** Starts both directions of the long link; stop() ends them and returns their reports. */
export async function longLink(lab: Lab, c: PathConditions): Promise<{ stop(): Promise<string[]> }> {
  const oneWay = ['--delay', `${c.rttMs / 2}`, '--rate', `${c.rateMbit}`];
  const loss = c.lossPercent > 0 ? ['--loss', `${c.lossPercent}`] : [];
  const toServer = await lab.emulate({ router: LINK_ROUTER, toward: 'server', args: [...oneWay, ...loss] });
  let toClient: EmulatedLink;
  try {
    toClient = await lab.emulate({ router: LINK_ROUTER, toward: 'client', args: oneWay });
  } catch (err) {
    await toServer.stop();
    throw err;
  }
  return { stop: async () => [await toServer.stop(), await toClient.stop()] };
}

/** The proxy for a split variant, listening behind the TPROXY rules; null for end to end. */
export async function startVariant(lab: Lab, v: Variant): Promise<LabProcess | null> {
  if (v.proxyArgs === null) {
    await lab.removeIntercept();
    return null;
  }
  // --drain-timeout: after a run over a slow leg the proxy may still hold megabytes the server has
  // not taken; the run is over, so the next one need not wait for them.
  const args = ['--bind-listen', `[::]:${PROXY_PORT}`, '-n', '--drain-timeout', '1', '--log-format', 'text', ...v.proxyArgs];
  const proxy = lab.spawn('router', TCP_INTERCEPT_BIN, args);
  try {
    await Promise.race([
      lab.waitForListen('router', PROXY_PORT, 20_000),
      proxy.exited.then(() => {
        throw new Error(`tcp-intercept ${v.proxyArgs?.join(' ')} exited at startup:\n${proxy.output()}`);
      }),
    ]);
    await lab.intercept({ router: PROXY_ROUTER, port: PROXY_PORT });
  } catch (err) {
    await stopVariant(lab, proxy);
    throw err;
  }
  return proxy;
}

export async function stopVariant(lab: Lab, proxy: LabProcess | null): Promise<void> {
  await lab.removeIntercept();
  if (!proxy) return;
  proxy.kill('SIGTERM');
  await proxy.exited;
}

/** Measures one variant: starts it, runs one upload on its own server port, stops it. */
export async function measureVariant(lab: Lab, v: Variant, port: number, seconds: number): Promise<Goodput> {
  const proxy = await startVariant(lab, v);
  try {
    return await cubicIperf(lab, port, seconds);
  } finally {
    await stopVariant(lab, proxy);
  }
}

/** Starts one iperf3 server per port and waits until they listen. */
export async function iperfServers(lab: Lab, ports: number[]): Promise<LabProcess[]> {
  const servers = ports.map((p) => lab.spawn('server', 'iperf3', ['-s', '-p', `${p}`]));
  for (const p of ports) await lab.waitForListen('server', p);
  return servers;
}

/** The server leg's fixed buffers of the buffer variants: about twice the bandwidth-delay product
 *  of 100 Mbit/s at 600 ms would be 15 MB; more than enough for every path measured here. */
export const SERVER_LEG_BUFFERS = ['--sndbuf-server', '64M', '--rcvbuf-server', '64M'];

export const END_TO_END: Variant = { name: 'end-to-end cubic', proxyArgs: null };

/** A split through tcp-intercept: the client leg cubic, the server leg <cc>, with <buffers> flags. */
export function splitVariant(cc: string, buffers: string[] = []): Variant {
  return {
    name: `split, server ${cc}${buffers.length ? ' + buffers' : ''}`,
    proxyArgs: ['--cc-client', SENDER_CC, '--cc-server', cc, ...buffers],
  };
}
