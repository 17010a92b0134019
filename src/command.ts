// Running a command and collecting its output: exit status (never a rejection for a non-zero
// one), a timeout, input on stdin; shared by the lab and `tcp-intercept rules`.
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string | Buffer;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function exitCode(status: number | null, signal: NodeJS.Signals | null): number {
  if (status !== null) return status;
  return signal ? 128 + constants.signals[signal] : -1;
}

function describe(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].join(' ');
}

/** Runs a command; resolves with its exit code (never rejects on non-zero), rejects on timeout or spawn failure. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<CmdResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    // The child may exit before reading its input; that is not our error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${describe(cmd, args)}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${describe(cmd, args)}: ${e.message}`));
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({
        code: exitCode(status, signal),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
  });
}

/** Synchronous variant for cleanup paths (exit and signal handlers): never throws. */
export function runSync(cmd: string, args: readonly string[], timeoutMs = 10_000): CmdResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return {
    code: exitCode(r.status, r.signal),
    stdout: r.stdout ?? '',
    stderr: (r.stderr ?? '') + (r.error ? r.error.message : ''),
  };
}

export class CommandError extends Error {
  constructor(
    readonly cmd: string,
    readonly args: readonly string[],
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`${describe(cmd, args)} exited with code ${code}: ${stderr.trim()}`);
    this.name = 'CommandError';
  }
}

/** Runs a command and returns its stdout; throws CommandError on non-zero exit. */
export async function runChecked(cmd: string, args: readonly string[], opts?: RunOptions): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new CommandError(cmd, args, r.code, r.stderr);
  return r.stdout;
}
