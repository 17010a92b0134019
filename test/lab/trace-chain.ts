// The trace lab of issue 12, on a lab with three routers:
//   client - r1 tracing router - r2 - r3 - server
// r1 (the first router) runs the trace; the hops after it can be made slow (an emulator adding
// delay each way), silent (no ICMP time-exceeded) or translating (SNAT of the client's traffic,
// so ICMP from beyond it quotes the translated source).
import { withLab, type EmulatedLink, type HostAddrs, type Lab } from './lab.js';
import type { QueueTarget } from '../../src/rules/queue-target.js';

export const ROUTERS = 3;
/** The tracing router's index in lab.ns.routers. */
export const TRACER = 0;

export type Family = 'v4' | 'v6';

/** Undoes one hop change. */
export type Undo = () => Promise<void>;

export class TraceChain {
  constructor(readonly lab: Lab) {}

  /** The tracing router's namespace. */
  get tracer(): string {
    return this.lab.ns.routers[TRACER];
  }

  /**
   * Who answers each TTL of a trace toward the server from router <from> (default the tracer; -1:
   * the client): each later router, from its interface toward the client, then the server.
   */
  hops(family: Family, from = TRACER): string[] {
    const routers = this.lab.ns.routers.map((_, k) => this.lab.links[k].right[family]);
    return [...routers.slice(from + 1), this.lab.server[family]];
  }

  /**
   * Adds <ms> of one-way delay each way at router <router> (an emulator per direction, on the
   * queues given: distinct from any other queue user in that router). stop() ends both.
   */
  async delayHop(router: number, ms: number, queues: { server: QueueTarget; client: QueueTarget } = { server: 0, client: 1 }): Promise<{ stop: Undo }> {
    const started: EmulatedLink[] = [];
    const stop = async (): Promise<void> => {
      for (const link of started.splice(0)) await link.stop();
    };
    try {
      for (const toward of ['server', 'client'] as const) {
        started.push(await this.lab.emulate({ router, toward, queue: queues[toward], args: ['--delay', String(ms)] }));
      }
    } catch (err) {
      await stop();
      throw err;
    }
    return { stop };
  }

  /** Router <router> sends no ICMP/ICMPv6 time-exceeded from now on. */
  async silentHop(router: number): Promise<Undo> {
    const table = 'ti-silent-hop';
    const ns = this.#router(router);
    const rules = 'icmp type time-exceeded drop\n\t\ticmpv6 type time-exceeded drop';
    await this.lab.run(ns, 'nft', ['-f', '-'], { input: `table inet ${table} {\n\tchain output {\n\t\ttype filter hook output priority 0; policy accept;\n\t\t${rules}\n\t}\n}\n` });
    return () => this.lab.run(ns, 'nft', ['delete', 'table', 'inet', table]).then(() => undefined);
  }

  /**
   * Router <router> masquerades the client's connections toward the server behind its own
   * server-side address, which it returns. Only connections opened afterwards are translated.
   */
  async snatHop(router: number): Promise<{ translated: HostAddrs; undo: Undo }> {
    const table = 'ti-snat-hop';
    const ns = this.#router(router);
    const out = this.lab.links[router + 1].left;
    const clientNet = this.lab.links[0];
    const rules = [`ip saddr ${clientNet.v4Prefix}`, `ip6 saddr ${clientNet.v6Prefix}`].map((m) => `oifname "${out.ifname}" ${m} masquerade`);
    const chain = ['type nat hook postrouting priority srcnat; policy accept;', ...rules].map((l) => `\t\t${l}\n`).join('');
    await this.lab.run(ns, 'nft', ['-f', '-'], { input: `table inet ${table} {\n\tchain postrouting {\n${chain}\t}\n}\n` });
    return {
      translated: { v4: out.v4, v6: out.v6 },
      undo: () => this.lab.run(ns, 'nft', ['delete', 'table', 'inet', table]).then(() => undefined),
    };
  }

  #router(router: number): string {
    const ns = this.lab.ns.routers[router];
    if (ns === undefined) throw new Error(`the trace chain has no router ${router}`);
    return ns;
  }
}

/** A lab with the trace chain (<routers> routers, the first tracing), destroyed when fn ends however it ends. */
export function withTraceChain<T>(tag: string, id: number, fn: (chain: TraceChain) => Promise<T>, routers = ROUTERS): Promise<T> {
  return withLab({ tag, id, routers }, (lab) => fn(new TraceChain(lab)));
}
