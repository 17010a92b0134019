// What the checks need to know about the service: its options as it reads them (file, environment,
// flags), and what the operator tells the doctor besides (the diverted interfaces, a path).
import type { RuleOptions } from '../rules/rule-options.js';

export type Leg = 'client' | 'server';

/** A buffer size fixed by an option, with the option that set it (--sndbuf-server, a file line). */
export interface SizedOption {
  bytes: number;
  what: string;
}

/** A long path the operator names: round-trip time and bottleneck rate. */
export interface NetworkPath {
  rttMs: number;
  rateMbit: number;
}

export interface DoctorSettings {
  /** null: the service runs no proxy (snoop only) */
  proxy: {
    /** per leg, '' for the kernel's default */
    cc: Record<Leg, string>;
    sndbuf: Record<Leg, SizedOption | null>;
    rcvbuf: Record<Leg, SizedOption | null>;
    /** buffer-size as asked for, before fs.pipe-max-size caps it */
    bufferSize: number;
    /** per process; 'auto' derives it from the open-file limit */
    maxConnections: number | 'auto';
  } | null;
  /** null: no snoop */
  snoop: { interfaces: string[] } | null;
  workers: number;
  pidFile: string | null;
  /** the interfaces connections are diverted on (--interface); empty: every one here */
  interfaces: string[];
  path: NetworkPath | null;
  /** what `rules status` is asked about: backend, fwmark, table */
  rules: RuleOptions;
  /** what could not be read from the configuration, reported as a failure; the checks ran on the defaults */
  configError: string | null;
}
