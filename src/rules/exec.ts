// Running the system's tools (nft, iptables, ip). With --dry-run the commands that would
// change something are printed instead; queries still run, so the plan fits what is there.
// Given a network namespace, every command runs inside it (`ip netns exec NS cmd ...`).
import { run as runCommand, type CmdResult } from '../command.js';

export class Exec {
  readonly printed: string[] = [];

  constructor(readonly dryRun: boolean, readonly netns?: string) {}

  /** A read-only query: always runs. */
  query(cmd: string, args: string[], input?: string): Promise<CmdResult> {
    return this.#run(cmd, args, input);
  }

  /** A change: runs (and fails with the tool's message), or is printed in a dry run. */
  async change(cmd: string, args: string[], input?: string): Promise<void> {
    if (this.dryRun) {
      this.printed.push(input ? `${this.#describe(cmd, args)} <<'EOF'\n${input}EOF` : this.#describe(cmd, args));
      return;
    }
    const r = await this.#run(cmd, args, input);
    if (r.code !== 0) throw new Error(`${this.#describe(cmd, args)}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  /** A change whose failure is expected when there is nothing to undo. */
  async undo(cmd: string, args: string[]): Promise<boolean> {
    if (this.dryRun) {
      this.printed.push(this.#describe(cmd, args));
      return false;
    }
    return (await this.#run(cmd, args)).code === 0;
  }

  #command(cmd: string, args: string[]): [string, string[]] {
    return this.netns === undefined ? [cmd, args] : ['ip', ['netns', 'exec', this.netns, cmd, ...args]];
  }

  #describe(cmd: string, args: string[]): string {
    return this.#command(cmd, args).flat().join(' ');
  }

  /** Like the system's shell, a tool that cannot be started gives status 127. */
  async #run(cmd: string, args: string[], input?: string): Promise<CmdResult> {
    const [c, a] = this.#command(cmd, args);
    try {
      return await runCommand(c, a, { input });
    } catch (err) {
      return { code: 127, stdout: '', stderr: (err as Error).message };
    }
  }
}
