import { rmSync, writeFileSync } from 'node:fs';
import { StartupError } from '../errors.js';

export function writePidFile(path: string): void {
  try {
    writeFileSync(path, `${process.pid}\n`, { mode: 0o644 });
  } catch (err) {
    throw new StartupError(`-p/--pid-file: cannot write '${path}': ${(err as Error).message}`, 'TI_ERR_PID_FILE');
  }
}

export function removePidFile(path: string): void {
  rmSync(path, { force: true });
}
