// Low-level helpers for network namespaces: namespace, veth, address, route and sysctl setup,
// and processes spawned inside a namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CommandError, run, runChecked, runSync } from '../../src/command.js';

export { run, runChecked, type CmdResult, type RunOptions } from '../../src/command.js';

export function execArgs(ns: string, cmd: string, args: readonly string[]): string[] {
  return ['netns', 'exec', ns, cmd, ...args];
}

export async function listNetns(): Promise<string[]> {
  const out = await runChecked('ip', ['netns', 'list']);
  return out.split('\n').map((l) => l.split(' ')[0]).filter((n) => n !== '');
}

export async function addNetns(name: string): Promise<void> {
  await runChecked('ip', ['netns', 'add', name]);
}

function parsePids(out: string): number[] {
  return out.split('\n').filter((l) => l !== '').map(Number);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** True if the process exists and is not a zombie (orphans may never be reaped here). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (comm) STATE ...": comm may itself contain ')'
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** SIGKILLs every process inside the namespace, waits for them to leave it, then deletes it. */
export async function deleteNetns(name: string): Promise<void> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const r = await run('ip', ['netns', 'pids', name]);
    const pids = r.code === 0 ? parsePids(r.stdout) : [];
    if (pids.length === 0 || Date.now() > deadline) break;
    for (const pid of pids) killQuietly(pid, 'SIGKILL');
    await new Promise((res) => setTimeout(res, 20));
  }
  const r = await run('ip', ['netns', 'del', name]);
  if (r.code !== 0 && (await listNetns()).includes(name)) {
    throw new CommandError('ip', ['netns', 'del', name], r.code, r.stderr);
  }
}

export function deleteNetnsSync(name: string): void {
  const r = runSync('ip', ['netns', 'pids', name]);
  if (r.code === 0) for (const pid of parsePids(r.stdout)) killQuietly(pid, 'SIGKILL');
  runSync('ip', ['netns', 'del', name]);
}

/** Creates a veth pair whose ends are created directly inside the two namespaces. */
export async function addVeth(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
  await runChecked('ip', ['-n', nsA, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
}

export async function linkUp(ns: string, ifname: string): Promise<void> {
  await runChecked('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
}

/** Adds `addr/prefixLen`; IPv6 addresses skip duplicate address detection so they are usable at once. */
export async function addAddress(ns: string, ifname: string, cidr: string): Promise<void> {
  const nodad = cidr.includes(':') ? ['nodad'] : [];
  await runChecked('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', ifname, ...nodad]);
}

export async function addRoute(ns: string, dst: string, via: string): Promise<void> {
  const family = via.includes(':') ? '-6' : '-4';
  await runChecked('ip', ['-n', ns, family, 'route', 'add', dst, 'via', via]);
}

export async function sysctl(ns: string, settings: Record<string, string | number>): Promise<void> {
  const assignments = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  await runChecked('ip', execArgs(ns, 'sysctl', ['-q', '-w', ...assignments]));
}

export interface LabProcess {
  child: ChildProcess;
  /** stdout and stderr interleaved in arrival order */
  output(): string;
  stdout(): string;
  stderr(): string;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** A long-running `ip netns exec NS cmd args` child with its output captured. */
export class NetnsProcess implements LabProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #out = '';
  #stdout = '';
  #stderr = '';
  #done = false;
  readonly #onChange = new Set<() => void>();

  constructor(ns: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv) {
    this.child = spawn('ip', execArgs(ns, cmd, args), { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => this.#append(d, false));
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => this.#append(d, true));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.#append(`${e.message}\n`, true);
        this.#finish();
        resolve({ code: null, signal: null });
      });
      this.child.on('close', (code, signal) => {
        this.#finish();
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return !this.#done;
  }

  output(): string {
    return this.#out;
  }

  stdout(): string {
    return this.#stdout;
  }

  stderr(): string {
    return this.#stderr;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.#done) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if still running after graceMs. */
  async stop(graceMs = 1500): Promise<void> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  waitForOutput(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.#out.match(re);
        if (m) {
          cleanup();
          resolve(m);
        } else if (this.#done) {
          cleanup();
          reject(new Error(`process exited before printing ${re}; output:\n${this.#out}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; output:\n${this.#out}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#onChange.delete(check);
      };
      this.#onChange.add(check);
      check();
    });
  }

  #append(data: string, isErr: boolean): void {
    this.#out += data;
    if (isErr) this.#stderr += data;
    else this.#stdout += data;
    for (const fn of [...this.#onChange]) fn();
  }

  #finish(): void {
    this.#done = true;
    for (const fn of [...this.#onChange]) fn();
  }
}
