// The package's systemd unit, run in a lab router the way systemd runs it: ExecStartPre, then
// ExecStart until READY=1 on $NOTIFY_SOCKET, then ExecStartPost; to stop, ExecStop, then SIGTERM
// to the main process, then ExecStopPost once it has exited. The commands are the unit's own
// lines, with its variables expanded as systemd does: a `$VAR` word splits at whitespace, a
// `${VAR}` inside a word leaves one word.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TCP_INTERCEPT_BIN, type Lab, type LabProcess } from '../lab/lab.js';
import { notifySocket, until } from './notify-socket.js';

const UNIT = fileURLToPath(new URL('../../debian/tcp-intercept.service', import.meta.url));
const INSTALLED_BIN = '/usr/sbin/tcp-intercept';

type ExecKey = 'ExecStartPre' | 'ExecStart' | 'ExecStartPost' | 'ExecStop' | 'ExecStopPost';

/** The unit's command lines by key, in order. */
export function unitCommands(text = readFileSync(UNIT, 'utf8')): Record<ExecKey, string[]> {
  const out: Record<ExecKey, string[]> = { ExecStartPre: [], ExecStart: [], ExecStartPost: [], ExecStop: [], ExecStopPost: [] };
  for (const m of text.matchAll(/^(Exec(?:StartPre|Start|StartPost|Stop|StopPost))=(.*)$/gm)) out[m[1] as ExecKey].push(m[2]);
  return out;
}

/** One command line as systemd expands it with <env>; the installed binary becomes this checkout's. */
export function expand(line: string, env: Record<string, string>): string[] {
  return line.trim().split(/\s+/).flatMap((word) => {
    const whole = /^\$(\w+)$/.exec(word);
    if (whole) return (env[whole[1]] ?? '').split(/\s+/).filter(Boolean);
    const w = word.replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? '');
    return [w === INSTALLED_BIN ? TCP_INTERCEPT_BIN : w];
  });
}

export class ServiceUnit {
  readonly commands = unitCommands();
  main: LabProcess | null = null;
  readonly #dir = mkdtempSync(join(tmpdir(), 'ti-unit-'));

  /** <env>: what /etc/default/tcp-intercept sets (RULES_OPTS, DAEMON_OPTS). */
  constructor(readonly lab: Lab, readonly env: Record<string, string>) {}

  async #run(key: ExecKey): Promise<void> {
    for (const line of this.commands[key]) {
      // systemd's prefixes: '-' ignores a failure; '+' (no sandbox) is how every line runs here.
      const [, prefix, command] = /^([-+@:!]*)(.*)$/.exec(line) ?? ['', '', line];
      const vars = Object.entries(this.env).map(([k, v]) => `${k}=${v}`);
      const r = await this.lab.exec('router', 'env', [...vars, ...expand(command, this.env)]);
      if (r.code !== 0 && !prefix.includes('-')) throw new Error(`${key}=${line}: exit ${r.code}: ${r.stdout}${r.stderr}`);
    }
  }

  async start(): Promise<void> {
    await this.#run('ExecStartPre');
    const socket = join(this.#dir, 'notify.sock');
    const listener = await notifySocket(this.lab, socket);
    const [cmd, ...args] = expand(this.commands.ExecStart[0], this.env);
    this.main = this.lab.spawn('router', cmd, args, { env: { ...process.env, ...this.env, NOTIFY_SOCKET: socket } });
    await until(listener, (m) => m.some((x) => x.startsWith('READY=1')), 'READY=1', 30_000);
    listener.kill();
    await this.#run('ExecStartPost');
  }

  async stop(): Promise<void> {
    await this.#run('ExecStop');
    this.main?.kill('SIGTERM');
    await this.main?.exited;
    await this.#run('ExecStopPost');
  }

  /** Removes the notify socket's directory (the lab stops the processes). */
  cleanup(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
