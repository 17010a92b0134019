// The doctor's reads of the real host: files under /proc, /sys and /lib/modules, and the rules
// tools run read-only (nft -c checks a ruleset without loading it).
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { run } from '../command.js';
import { Exec } from '../rules/exec.js';
import { packetRulesStatus } from '../rules/packet-rules.js';
import { rulesStatus } from '../rules/rules.js';
import type { DoctorSystem } from './system.js';

function tryRead(read: () => string): string | null {
  try {
    return read();
  } catch {
    return null;
  }
}

export function hostSystem(): DoctorSystem {
  const exec = new Exec(false);
  return {
    read: (path) => tryRead(() => readFileSync(path, 'latin1')),
    exists: (path) => existsSync(path),
    list: (path) => tryRead(() => readdirSync(path).join('\n'))?.split('\n').filter(Boolean) ?? [],
    link: (path) => tryRead(() => readlinkSync(path)),
    kernelConfig: () =>
      tryRead(() => gunzipSync(readFileSync('/proc/config.gz')).toString('latin1')) ??
      tryRead(() => readFileSync(`/boot/config-${release()}`, 'latin1')),
    kernelRelease: () => release(),
    pid: () => process.pid,
    nftAccepts: async (ruleset) => (await run('nft', ['-c', '-f', '-'], { input: ruleset }).catch(() => ({ code: 127 }))).code === 0,
    rulesStatus: (o) => rulesStatus(exec, o),
    queueRulesStatus: () => packetRulesStatus(exec),
  };
}
