// The snoop lab of the issue, on a lab with three routers:
//   mobile (client) - r0 lossy hop - r1 base station - r2 wired delay - fixed host (server)
// r0 emulates the last hop (2 ms each way, loss toward the mobile), r2 the wired path (20 ms
// each way), and r1 runs `tcp-intercept snoop` on its interface toward r0. The emulators sit on
// routers of their own: a router holding packets of its own sockets would throttle them (TCP
// Small Queues), and the base station's packets must reach it unheld.
import { withLab, type EmulatedLink, type Lab } from './lab.js';

export const ROUTERS = 3;
const LOSSY = 0;
const BASE = 1;
const WIRED = 2;

export const WIRED_DELAY_MS = 20;
export const LAST_HOP_DELAY_MS = 2;

/** The emulated links of one run; stop() ends them and returns what the lossy one reported. */
export interface ChainLinks {
  stop(): Promise<{ lastHop: string; wired: string }>;
}

export class SnoopChain {
  constructor(readonly lab: Lab) {}

  /** The base station's namespace. */
  get base(): string {
    return this.lab.ns.routers[BASE];
  }

  /** The base station's interface toward the lossy hop and the mobile. */
  get lossyInterface(): string {
    return this.lab.links[BASE].right.ifname;
  }

  /**
   * Starts the wired delay and the last hop, whose link toward the mobile also takes <lossArgs>
   * (`--loss P`, `--burst ENTER,EXIT`, or nothing); <wired> false leaves the wired path as a bare
   * veth. Whatever started is stopped again if a later one fails.
   */
  async links(lossArgs: string[], wired = true): Promise<ChainLinks> {
    const started: EmulatedLink[] = [];
    const start = async (router: number, toward: 'client' | 'server', args: string[]): Promise<EmulatedLink> => {
      const link = await this.lab.emulate({ router, toward, args });
      started.push(link);
      return link;
    };
    try {
      const wiredLinks = wired
        ? [await start(WIRED, 'server', ['--delay', `${WIRED_DELAY_MS}`]), await start(WIRED, 'client', ['--delay', `${WIRED_DELAY_MS}`])]
        : [];
      await start(LOSSY, 'server', ['--delay', `${LAST_HOP_DELAY_MS}`]);
      const lossy = await start(LOSSY, 'client', ['--delay', `${LAST_HOP_DELAY_MS}`, ...lossArgs]);
      return {
        stop: async () => {
          const out = new Map<EmulatedLink, string>();
          for (const link of started) out.set(link, await link.stop());
          return { lastHop: out.get(lossy) ?? '', wired: wiredLinks.map((l) => out.get(l)).join('') };
        },
      };
    } catch (err) {
      for (const link of started) await link.stop();
      throw err;
    }
  }

  /**
   * Makes the fixed host's TCP use <cc> toward the mobile: a `congctl` route metric, which the
   * kernel applies to sockets of either end of a connection. A namespace cannot take cubic as its
   * default (only tcp_allowed_congestion_control may be), and Node cannot set TCP_CONGESTION on
   * its own sockets; iperf3 can (-C) and does so in the benchmark.
   */
  async senderCongestion(cc: string): Promise<void> {
    const gateway = this.lab.links[this.lab.links.length - 1].left;
    const mobileNet = this.lab.links[0];
    for (const [prefix, via] of [[mobileNet.v4Prefix, gateway.v4], [mobileNet.v6Prefix, gateway.v6]]) {
      await this.lab.run('server', 'ip', ['route', 'replace', prefix, 'via', via, 'congctl', 'lock', cc]);
    }
  }
}

/** A lab with the snoop chain, destroyed when fn ends however it ends. */
export function withSnoopChain<T>(tag: string, id: number, fn: (chain: SnoopChain) => Promise<T>): Promise<T> {
  return withLab({ tag, id, routers: ROUTERS }, (lab) => fn(new SnoopChain(lab)));
}
