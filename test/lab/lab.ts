// A chain of network namespaces: client "c" - router "r" [- "r2" .. "rN"] - server "s".
//
// Namespace names are `ti-<tag>-<pid>-<host>` (pid = owning process), so a later
// Lab.create() can sweep namespaces left behind by a process that was SIGKILLed.
//
// Addressing for lab id k (1..60): link i (0-based, i <= routers) joins hop i and
// hop i+1 (hop 0 is the client, the last hop the server) and is
//   IPv4 198.18.0.0 + (k*8 + i)*256 /24   (RFC 2544 benchmarking range)
//   IPv6 fd54:6943:<k hex>:<i hex>::/64   (ULA)
// Host numbers: on link 0 the router is .1/::1 and the client .2/::2; on every
// other link the client-side host is .1/::1 and the server-side host .2/::2.
// So with one router: client .2 -> router .1 | router .1 -> server .2.
// The interface for link i is named `veth<i>` in both namespaces it joins.
// Nothing is created in the root namespace; deleting the namespaces removes
// every link, route and rule the lab made.
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { INJECTION_MARK } from '../../src/config/marks.js';
import {
  NetnsProcess,
  addAddress,
  addNetns,
  addRoute,
  addVeth,
  deleteNetns,
  deleteNetnsSync,
  execArgs,
  linkUp,
  listNetns,
  pidAlive,
  run,
  runChecked,
  sysctl,
  type CmdResult,
  type LabProcess,
  type RunOptions,
} from './netns.js';
import { installEmulatorRule, removeEmulatorRule, type EmulatorRuleOptions } from '../../src/rules/emulator-rule.js';
import { Exec } from '../../src/rules/exec.js';
import type { PacketRuleOptions } from '../../src/rules/packet-rule-options.js';
import { installPacketRules, removePacketRules } from '../../src/rules/packet-rules.js';
import type { QueueTarget } from '../../src/rules/queue-target.js';
import type { Divert, RuleOptions } from '../../src/rules/rule-options.js';
import { defaultBackend, installRules, removeRules } from '../../src/rules/rules.js';

export type { CmdResult, LabProcess, RunOptions } from './netns.js';

export interface LabOptions {
  tag: string;
  id: number;
  /** number of routers in the chain, default 1 */
  routers?: number;
}

export interface HostAddrs {
  v4: string;
  v6: string;
}

export interface LinkEnd extends HostAddrs {
  ns: string;
  ifname: string;
}

export interface LabLink {
  index: number;
  v4Prefix: string;
  v6Prefix: string;
  /** the end towards the client */
  left: LinkEnd;
  /** the end towards the server */
  right: LinkEnd;
}

export interface InterceptOptions {
  /** the router (0-based, default 0) */
  router?: number;
  port?: number;
  /** several listeners side by side; replaces <port> */
  diverts?: Divert[];
  mark?: number;
  table?: number;
}

export interface EmulateOptions {
  /** emulate the link out of router <router> (0-based, default 0) toward this side */
  toward: 'server' | 'client';
  router?: number;
  /** NFQUEUE queue number or balanced range, distinct per instance in one router (default 0
   *  toward the server, 1 toward the client) */
  queue?: QueueTarget;
  /** tcp-intercept emulate flags: --delay, --jitter, --loss, --burst, --rate, ... */
  args: string[];
}

export interface QueueRulesOptions extends PacketRuleOptions {
  /** the router to install them in (0-based, default 0) */
  router?: number;
}

export interface EmulatedLink {
  process: LabProcess;
  stop(): Promise<string>;
}

/** 'client', 'router', 'server', or the name of one of the lab's namespaces */
export type Host = string;

const MAX_ID = 60;
const LINKS_PER_LAB = 8;
const NAME_RE = /^ti-[a-z0-9]{1,8}-(\d+)-[a-z0-9]+$/;
/** The mark of packets the lab's tests inject on raw sockets: no queue rule of the lab takes them. */
/** The tcp-intercept command of this checkout, from the sources or from dist/. */
export const TCP_INTERCEPT_BIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../bin/tcp-intercept' : '../../../bin/tcp-intercept', import.meta.url));

/** Network parts of link i, written so that addresses come out in canonical form. */
function linkNets(id: number, i: number): { v4: string; v6: string } {
  const n = id * LINKS_PER_LAB + i;
  const v6 = i === 0 ? `fd54:6943:${id.toString(16)}:` : `fd54:6943:${id.toString(16)}:${i.toString(16)}:`;
  return { v4: `198.${18 + Math.floor(n / 256)}.${n % 256}`, v6 };
}

function hostAddrs(id: number, i: number, host: number): HostAddrs {
  const net = linkNets(id, i);
  return { v4: `${net.v4}.${host}`, v6: `${net.v6}:${host}` };
}

function validate(opts: LabOptions): number {
  const routers = opts.routers ?? 1;
  if (!/^[a-z0-9]{1,8}$/.test(opts.tag)) throw new Error(`lab tag must be 1-8 chars [a-z0-9], got ${JSON.stringify(opts.tag)}`);
  if (!Number.isInteger(opts.id) || opts.id < 1 || opts.id > MAX_ID) {
    throw new Error(`lab id must be an integer in 1..${MAX_ID}, got ${opts.id}`);
  }
  if (!Number.isInteger(routers) || routers < 1 || routers > LINKS_PER_LAB - 1) {
    throw new Error(`lab routers must be an integer in 1..${LINKS_PER_LAB - 1}, got ${routers}`);
  }
  return routers;
}

/** Deletes `ti-*` namespaces whose owner process no longer exists. */
async function sweepStale(): Promise<void> {
  for (const name of await listNetns()) {
    const m = NAME_RE.exec(name);
    if (m && !pidAlive(Number(m[1]))) await deleteNetns(name).catch(() => undefined);
  }
}

// Labs not yet fully destroyed; exit and signal handlers clean them synchronously.
const live = new Set<Lab>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let handlersInstalled = false;

function cleanupAllSync(): void {
  for (const lab of live) lab.destroySync();
}

function onSignal(sig: NodeJS.Signals): void {
  cleanupAllSync();
  uninstallHandlers();
  // Re-raise so the default action (or another handler) sees the signal.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  else process.exit(128 + constants.signals[sig]);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupAllSync);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstallHandlers(): void {
  handlersInstalled = false;
  process.off('exit', cleanupAllSync);
  for (const s of SIGNALS) process.off(s, onSignal);
}

export class Lab {
  readonly ns: { client: string; router: string; routers: string[]; server: string };
  readonly links: readonly LabLink[];
  readonly client: HostAddrs;
  readonly server: HostAddrs;
  readonly routerClientSide: HostAddrs;
  readonly routerServerSide: HostAddrs;
  readonly clientIf: string;
  readonly serverIf: string;

  /** namespaces this lab created (only these are ever deleted) */
  readonly #created: string[] = [];
  readonly #procs = new Set<NetnsProcess>();
  #intercept: { exec: Exec; rules: RuleOptions } | null = null;
  #destroying: Promise<void> | null = null;

  private constructor(opts: LabOptions, routers: number) {
    const name = (host: string): string => `ti-${opts.tag}-${process.pid}-${host}`;
    const routerNs = Array.from({ length: routers }, (_, j) => name(j === 0 ? 'r' : `r${j + 1}`));
    const hops = [name('c'), ...routerNs, name('s')];
    this.ns = { client: hops[0], router: routerNs[0], routers: routerNs, server: hops[hops.length - 1] };
    this.links = Array.from({ length: routers + 1 }, (_, i) => {
      const [leftHost, rightHost] = i === 0 ? [2, 1] : [1, 2];
      const net = linkNets(opts.id, i);
      return {
        index: i,
        v4Prefix: `${net.v4}.0/24`,
        v6Prefix: `${net.v6}:/64`,
        left: { ns: hops[i], ifname: `veth${i}`, ...hostAddrs(opts.id, i, leftHost) },
        right: { ns: hops[i + 1], ifname: `veth${i}`, ...hostAddrs(opts.id, i, rightHost) },
      };
    });
    const [first, second] = this.links;
    const last = this.links[this.links.length - 1];
    this.client = pick(first.left);
    this.server = pick(last.right);
    this.routerClientSide = pick(first.right);
    this.routerServerSide = pick(second.left);
    this.clientIf = first.right.ifname;
    this.serverIf = second.left.ifname;
  }

  static async create(opts: LabOptions): Promise<Lab> {
    const lab = new Lab(opts, validate(opts));
    await sweepStale();
    live.add(lab);
    installHandlers();
    try {
      await lab.#setup();
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  async #setup(): Promise<void> {
    for (const ns of [this.ns.client, ...this.ns.routers, this.ns.server]) {
      // Tracked before it exists so a signal arriving mid-command still removes it.
      this.#created.push(ns);
      try {
        await addNetns(ns);
      } catch (e) {
        this.#created.pop();
        throw e;
      }
      await linkUp(ns, 'lo');
      // Without this the kernel's link-local addresses stay tentative for ~1 s
      // and the first IPv6 packets through a fresh lab are lost.
      await sysctl(ns, { 'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0 });
    }
    for (const link of this.links) {
      await addVeth(link.left.ns, link.left.ifname, link.right.ns, link.right.ifname);
      for (const end of [link.left, link.right]) {
        await addAddress(end.ns, end.ifname, `${end.v4}/24`);
        await addAddress(end.ns, end.ifname, `${end.v6}/64`);
        await linkUp(end.ns, end.ifname);
      }
    }
    const first = this.links[0];
    const last = this.links[this.links.length - 1];
    for (const via of [first.right.v4, first.right.v6]) await addRoute(this.ns.client, 'default', via);
    for (const via of [last.left.v4, last.left.v6]) await addRoute(this.ns.server, 'default', via);
    for (let j = 1; j < this.links.length; j++) await this.#setupRouter(j);
  }

  /** Router at hop j sits between link j-1 and link j. */
  async #setupRouter(j: number): Promise<void> {
    const ns = this.links[j].left.ns;
    const leftLink = this.links[j - 1];
    const rightLink = this.links[j];
    const settings: Record<string, number> = {
      'net.ipv4.ip_forward': 1,
      'net.ipv6.conf.all.forwarding': 1,
      'net.ipv4.conf.all.rp_filter': 0,
      'net.ipv4.conf.default.rp_filter': 0,
    };
    for (const ifname of new Set([leftLink.right.ifname, rightLink.left.ifname])) {
      settings[`net.ipv4.conf.${ifname}.rp_filter`] = 0;
    }
    await sysctl(ns, settings);
    for (const link of this.links) {
      if (link.index === j - 1 || link.index === j) continue;
      const hop = link.index < j ? leftLink.left : rightLink.right;
      await addRoute(ns, link.v4Prefix, hop.v4);
      await addRoute(ns, link.v6Prefix, hop.v6);
    }
  }

  /** Resolves 'client' | 'router' | 'server' or one of this lab's namespace names. */
  nsOf(host: Host): string {
    if (host === 'client') return this.ns.client;
    if (host === 'router') return this.ns.router;
    if (host === 'server') return this.ns.server;
    if (this.#created.includes(host)) return host;
    throw new Error(`unknown lab host ${JSON.stringify(host)}`);
  }

  /** Runs a command inside a lab namespace; does not throw on non-zero exit. */
  exec(host: Host, cmd: string, args: string[], opts?: RunOptions): Promise<CmdResult> {
    return run('ip', execArgs(this.nsOf(host), cmd, args), opts);
  }

  /** Runs a command inside a lab namespace and returns stdout; throws CommandError on non-zero exit. */
  run(host: Host, cmd: string, args: string[], opts?: RunOptions): Promise<string> {
    return runChecked('ip', execArgs(this.nsOf(host), cmd, args), opts);
  }

  /** Starts a long-running process inside a lab namespace; destroy() stops it. */
  spawn(host: Host, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): LabProcess {
    if (this.#destroying) throw new Error('lab is destroyed');
    const p = new NetnsProcess(this.nsOf(host), cmd, args, opts.env);
    this.#procs.add(p);
    void p.exited.then(() => this.#procs.delete(p));
    return p;
  }

  /** Commands that run in router r (0-based). */
  #routerExec(r: number): Exec {
    const ns = this.ns.routers[r];
    if (ns === undefined) throw new Error(`lab has no router ${r}`);
    return new Exec(false, ns);
  }

  /** Installs the shipped TPROXY rules (src/rules) in a router (the first by default) for TCP
   *  arriving from the client's side. */
  async intercept(opts: InterceptOptions = {}): Promise<void> {
    if (this.#intercept) await this.removeIntercept();
    const r = opts.router ?? 0;
    const exec = this.#routerExec(r);
    const rules: RuleOptions = {
      backend: await defaultBackend(exec),
      port: opts.port ?? 5000,
      interfaces: [this.links[r].right.ifname],
      ports: [],
      diverts: opts.diverts,
      excludePorts: [],
      excludeSources: [],
      excludeDestinations: [],
      fwmark: opts.mark ?? 1,
      table: opts.table ?? 100,
    };
    this.#intercept = { exec, rules };
    await installRules(exec, rules);
  }

  /** Removes what intercept() installed; tolerates a partially installed state. */
  async removeIntercept(): Promise<void> {
    const installed = this.#intercept;
    if (!installed) return;
    this.#intercept = null;
    await removeRules(installed.exec, installed.rules);
  }

  /** Installs the packet pipeline's queue rules (src/rules) in a router; resolves to their remover. */
  async queue(opts: QueueRulesOptions): Promise<() => Promise<void>> {
    const exec = this.#routerExec(opts.router ?? 0);
    const remove = (): Promise<void> => removePacketRules(exec);
    await installPacketRules(exec, opts).catch(async (err: unknown) => {
      await remove();
      throw err;
    });
    return remove;
  }

  /**
   * Starts `tcp-intercept emulate` in a router on the packets leaving it toward one side, the
   * way netem sits on an egress interface. Use a router that only forwards: the packets of its
   * own TCP sockets (a proxy's legs) would be throttled by TCP Small Queues while held.
   * stop() ends it, removes its rules and returns what it printed.
   */
  async emulate(opts: EmulateOptions): Promise<EmulatedLink> {
    const r = opts.router ?? 0;
    const exec = this.#routerExec(r);
    const q = opts.queue ?? (opts.toward === 'server' ? 0 : 1);
    const rule: EmulatorRuleOptions = {
      interface: opts.toward === 'server' ? this.links[r + 1].left.ifname : this.links[r].right.ifname,
      queue: q,
      injectionMark: INJECTION_MARK,
    };
    await installEmulatorRule(exec, rule);
    const queue = typeof q === 'number' ? `${q}` : `${q.first}:${q.last}`;
    const p = this.spawn(this.ns.routers[r], TCP_INTERCEPT_BIN, ['emulate', '--queue', queue, ...opts.args]);
    const abandon = async (err: unknown): Promise<never> => {
      p.kill('SIGKILL');
      await p.exited;
      await removeEmulatorRule(exec, rule);
      throw err;
    };
    await Promise.race([
      p.waitForOutput(/^tcp-intercept emulate: queues? /m, 20_000),
      p.exited.then(() => {
        throw new Error(`tcp-intercept emulate exited at startup:\n${p.output()}`);
      }),
    ]).catch(abandon);
    // Real-time priority, as a wire has: a link emulator that waits its turn behind busy
    // processes delays packets by their scheduling latency (several ms on a loaded machine).
    // Its event loop's thread only: V8's helper threads at SCHED_FIFO livelocked two emulators
    // (a helper spinning on each CPU, the runnable loop threads of the same priority never run).
    await this.run(this.ns.routers[r], 'chrt', ['--fifo', '-p', '20', String(p.child.pid)]).catch(abandon);
    return {
      process: p,
      stop: async () => {
        p.kill('SIGTERM');
        await p.exited;
        await removeEmulatorRule(exec, rule);
        return p.output();
      },
    };
  }

  /** Polls `ss -Hltn` in the namespace until a TCP socket listens on port. */
  async waitForListen(host: Host, port: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = await this.run(host, 'ss', ['-Hltn', 'sport', '=', `:${port}`]);
      if (out.trim() !== '') return;
      if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} in ${this.nsOf(host)} after ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  /** Stops tracked processes (SIGTERM, then SIGKILL), kills anything left inside and deletes the namespaces. */
  destroy(): Promise<void> {
    this.#destroying ??= (async () => {
      await Promise.all([...this.#procs].map((p) => p.stop()));
      for (const ns of [...this.#created].reverse()) await deleteNetns(ns);
      this.#created.length = 0;
      live.delete(this);
      if (live.size === 0) uninstallHandlers();
    })();
    return this.#destroying;
  }

  /** For exit and signal handlers: everything at once with SIGKILL and synchronous commands. */
  destroySync(): void {
    for (const p of this.#procs) p.kill('SIGKILL');
    for (const ns of [...this.#created].reverse()) deleteNetnsSync(ns);
    this.#created.length = 0;
    live.delete(this);
  }
}

function pick(a: HostAddrs): HostAddrs {
  return { v4: a.v4, v6: a.v6 };
}

/** Creates a lab, runs fn with it and always destroys it. */
export async function withLab<T>(opts: LabOptions, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.create(opts);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}

/**
 * Command line that runs the tcp-peer program with the same node binary and
 * loader flags as this process (like child_process.fork), so it works both
 * from dist/ and from the TypeScript sources under a loader (tap).
 */
export function tcpPeerCommand(args: string[]): [cmd: string, args: string[]] {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const script = fileURLToPath(new URL(`./tcp-peer${ext}`, import.meta.url));
  return [process.execPath, [...process.execArgv, script, ...args]];
}
