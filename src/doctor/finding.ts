// One thing the doctor found: what it is, how bad, and what to change. fail: something will not
// work; warn: it will work badly (slow, or broken in some cases); info: worth knowing, nothing to
// change; ok: as it should be.
export type Level = 'ok' | 'info' | 'warn' | 'fail';

export interface Finding {
  /** stable, for scripts: forwarding.ipv4, rp-filter.eth1, buffers.send, ... */
  id: string;
  level: Level;
  message: string;
  /** the change that would make it ok: a command or a setting */
  fix?: string;
}

export const ok = (id: string, message: string): Finding => ({ id, level: 'ok', message });
export const info = (id: string, message: string, fix?: string): Finding => ({ id, level: 'info', message, ...(fix ? { fix } : {}) });
export const warn = (id: string, message: string, fix: string): Finding => ({ id, level: 'warn', message, fix });
export const fail = (id: string, message: string, fix: string): Finding => ({ id, level: 'fail', message, fix });

/** 0 when nothing needs changing; 1 when something will not work or will be slow. */
export const exitStatus = (findings: readonly Finding[]): number => (findings.some((f) => f.level === 'warn' || f.level === 'fail') ? 1 : 0);
