// What the host allows a process (this one, or the running service for the doctor), read from
// /proc: its open-file limit and its pipe limits.
// The kernel lifts fs.pipe-max-size only for CAP_SYS_RESOURCE, and the per-user pipe quota for
// CAP_SYS_RESOURCE or CAP_SYS_ADMIN (fs/pipe.c).
import { readFileSync } from 'node:fs';

export interface SystemLimits {
  /** RLIMIT_NOFILE (soft); null: unlimited or unknown */
  openFiles: number | null;
  /** fs.pipe-max-size, the largest pipe this process may make; null: none applies (CAP_SYS_RESOURCE) */
  pipeMaxBytes: number | null;
  /** the user's pipe quota (fs.pipe-user-pages-soft, or -hard when lower); null: none applies */
  pipeQuotaBytes: number | null;
}

const CAP_SYS_ADMIN = 21n;
const CAP_SYS_RESOURCE = 24n;
/** The kernel counts the quota in pages; every Linux this runs on has 4 KiB ones. */
const PAGE = 4096;

function read(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

const positive = (text: string): number | null => (Number(text.trim()) > 0 ? Number(text.trim()) : null);

/** <proc>: the process's /proc directory; <readFile>: a file's text, '' when absent. */
export function readSystemLimits(proc = '/proc/self', readFile: (path: string) => string = read): SystemLimits {
  const files = /^Max open files\s+(\d+)/m.exec(readFile(`${proc}/limits`));
  const caps = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(readFile(`${proc}/status`))?.[1] ?? '0'}`);
  const has = (cap: bigint): boolean => ((caps >> cap) & 1n) === 1n;
  const resource = has(CAP_SYS_RESOURCE), quotaExempt = resource || has(CAP_SYS_ADMIN);
  const quotaPages = [positive(readFile('/proc/sys/fs/pipe-user-pages-soft')), positive(readFile('/proc/sys/fs/pipe-user-pages-hard'))]
    .filter((p): p is number => p !== null);
  return {
    openFiles: files ? Number(files[1]) : null,
    pipeMaxBytes: resource ? null : (positive(readFile('/proc/sys/fs/pipe-max-size')) ?? 1 << 20),
    pipeQuotaBytes: quotaExempt || quotaPages.length === 0 ? null : Math.min(...quotaPages) * PAGE,
  };
}
