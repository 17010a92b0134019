import { existsSync, readFileSync } from 'node:fs';

// src/cli when run from source, dist/src/cli when compiled.
const candidates = ['../../package.json', '../../../package.json'].map((p) => new URL(p, import.meta.url));

export function packageVersion(): string {
  const found = candidates.find((u) => existsSync(u));
  return found ? (JSON.parse(readFileSync(found, 'utf8')) as { version: string }).version : 'unknown';
}

export function versionText(): string {
  return `tcp-intercept ${packageVersion()} (node ${process.version}, IPv6: yes, relay: splice)`;
}
