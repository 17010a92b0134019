// Running the system's tools (nft, iptables, ip). With --dry-run the commands that would
// change something are printed instead; queries still run, so the plan fits what is there.
import { run as runCommand, type CmdResult } from '../command.js';

export class Exec {
  readonly printed: string[] = [];

  constructor(readonly dryRun: boolean) {}

  /** A read-only query: always runs. */
  query(cmd: string, args: string[]): Promise<CmdResult> {
    return run(cmd, args);
  }

  /** A change: runs (and fails with the tool's message), or is printed in a dry run. */
  async change(cmd: string, args: string[], input?: string): Promise<void> {
    if (this.dryRun) {
      this.printed.push(input ? `${cmd} ${args.join(' ')} <<'EOF'\n${input}EOF` : `${cmd} ${args.join(' ')}`);
      return;
    }
    const r = await run(cmd, args, input);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  /** A change whose failure is expected when there is nothing to undo. */
  async undo(cmd: string, args: string[]): Promise<boolean> {
    if (this.dryRun) {
      this.printed.push(`${cmd} ${args.join(' ')}`);
      return false;
    }
    return (await run(cmd, args)).code === 0;
  }
}

/** Like the system's shell, a tool that cannot be started gives status 127. */
async function run(cmd: string, args: string[], input?: string): Promise<CmdResult> {
  try {
    return await runCommand(cmd, args, { input });
  } catch (err) {
    return { code: 127, stdout: '', stderr: (err as Error).message };
  }
}
