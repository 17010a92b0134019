// Every option of every command once: its long name (also the config file key and, upper-cased,
// the TCP_INTERCEPT_* variable), short alias, kind, default and help, in groups. A command takes
// the groups of its components; the CLI and the config loader both read this table.
import { SNOOP_DEFAULTS } from '../snoop/snoop-settings.js';
import type { OptionSpec } from './sources.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export const LOG_FORMATS = ['text', 'json'] as const;

export interface OptionDef extends OptionSpec {
  alias?: string | string[];
  describe: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/tcp-intercept/tcp-intercept.yaml';

/** Where the packaged unit's service listens for `tcp-intercept status` and `trace`. */
export const DEFAULT_CONTROL_SOCKET = '/run/tcp-intercept/control.sock';

/** What the host gives every component: metrics, logs, pid file, drain, workers. */
export const HOST_OPTIONS: readonly OptionDef[] = [
  { key: 'drain-timeout', kind: 'string', default: '30', describe: 'seconds open connections may finish after SIGTERM' },
  { key: 'metrics', kind: 'string', default: '127.0.0.1:5099', describe: "Prometheus endpoint ADDR:PORT (/metrics, /healthz), or 'off'" },
  { key: 'control-socket', kind: 'string', default: 'auto', describe: "Unix socket, mode 0660, where `tcp-intercept status` and `trace` reach the running service (the first worker), or 'off'; 'auto': control.sock in systemd's RuntimeDirectory (the unit's /run/tcp-intercept), else off" },
  { key: 'workers', kind: 'string', default: '1', describe: "worker processes sharing the listeners (SO_REUSEPORT), or 'auto' for one per CPU; packet components run in the first" },
  { key: 'foreground', alias: 'f', kind: 'boolean', default: true, describe: 'accepted for compatibility: always runs in the foreground' },
  { key: 'pid-file', alias: 'p', kind: 'string', describe: 'write the process id to FILE' },
  { key: 'log', alias: 'l', kind: 'string', describe: 'append the log to FILE (SIGHUP reopens it)' },
  { key: 'log-level', kind: 'string', default: 'info', describe: `log level: ${LOG_LEVELS.join(', ')}` },
  { key: 'log-format', kind: 'string', default: 'text', describe: `log line format: ${LOG_FORMATS.join(', ')}` },
];

export const PROXY_OPTIONS: readonly OptionDef[] = [
  { key: 'bind-listen', alias: 'b', kind: 'list', default: ['[::]:5000'], describe: "listen address, ADDR:PORT or [IPv6]:PORT (repeatable); empty ('') runs no proxy, only packet components" },
  { key: 'bind-outgoing', alias: 'B', kind: 'string', default: 'client', describe: "source of the server leg: 'client' (client's IP, new port), 'client-port' (client's IP and port) or a local ADDR (no spoofing)" },
  { key: 'backlog', kind: 'string', default: '4096', describe: 'listen backlog' },
  { key: 'keepalive', alias: 'k', kind: 'boolean', default: true, describe: 'TCP keepalive on both legs, so that a vanished peer is noticed (--no-keepalive: off)' },
  { key: 'keepalive-idle', kind: 'string', default: '300', describe: 'seconds idle before the first keepalive probe' },
  { key: 'keepalive-interval', kind: 'string', default: '30', describe: 'seconds between keepalive probes' },
  { key: 'keepalive-count', kind: 'string', default: '4', describe: 'unanswered probes before the leg is reset' },
  { key: 'tcp-nodelay', alias: ['n', 'tcp_nodelay'], kind: 'boolean', default: false, describe: 'TCP_NODELAY on both legs' },
  { key: 'cc', kind: 'string', describe: 'congestion control for both legs (cubic, bbr, reno, ...)' },
  { key: 'cc-client', kind: 'string', describe: 'congestion control of the client leg' },
  { key: 'cc-server', kind: 'string', describe: 'congestion control of the server leg' },
  { key: 'sndbuf', kind: 'string', describe: "send buffer of both legs, bytes (suffixes k, M): fixed, beyond net.core.wmem_max (SO_SNDBUFFORCE); unset: the kernel's autotuning" },
  { key: 'sndbuf-client', kind: 'string', describe: 'send buffer of the client leg' },
  { key: 'sndbuf-server', kind: 'string', describe: 'send buffer of the server leg (a long path needs about twice its bandwidth-delay product)' },
  { key: 'rcvbuf', kind: 'string', describe: "receive buffer of both legs, bytes (suffixes k, M): fixed, beyond net.core.rmem_max (SO_RCVBUFFORCE); unset: the kernel's autotuning" },
  { key: 'rcvbuf-client', kind: 'string', describe: 'receive buffer of the client leg' },
  { key: 'rcvbuf-server', kind: 'string', describe: 'receive buffer of the server leg' },
  { key: 'mptcp', kind: 'boolean', default: false, describe: 'open the server leg with MPTCP' },
  { key: 'buffer-size', kind: 'string', default: '1M', describe: 'bytes in flight per direction (suffixes k, M)' },
  { key: 'max-connections', kind: 'string', default: 'auto', describe: "open connections per process at most; more are reset at accept. 'auto': as many as the open-file limit serves with both pipes of each in use, (limit - 64 - idle pool pipes' fds) / 6; 0: no limit" },
  { key: 'connect-timeout', kind: 'string', default: '10000', describe: 'milliseconds to reach the server before the client is reset' },
  { key: 'idle-timeout', kind: 'string', default: '0', describe: 'seconds without traffic before a connection is reset (0: never)' },
  { key: 'mark', kind: 'string', default: '0', describe: 'SO_MARK of the server leg (0: none)' },
];

/** The NFQUEUE binding that packet components share. */
export const QUEUE_OPTIONS: readonly OptionDef[] = [
  { key: 'queue', kind: 'string', describe: 'NFQUEUE queue number, or a balanced range FIRST:LAST' },
  { key: 'queue-maxlen', kind: 'string', default: '65536', describe: 'packets the kernel may hold for us (those held by a component included)' },
];

/** Snoop's queue when none is given: apart from the 0 and 1 of the emulator's examples and the lab. */
export const SNOOP_QUEUE = 16;

/** The queue options of a command that runs snoop, with snoop's default queue. */
export const SNOOP_QUEUE_OPTIONS: readonly OptionDef[] = withDefaults(QUEUE_OPTIONS, { queue: String(SNOOP_QUEUE) });

const mebibytes = (bytes: number): string => `${bytes / (1 << 20)}M`;

/** Snoop: on when a lossy side is named. */
export const SNOOP_OPTIONS: readonly OptionDef[] = [
  { key: 'snoop-interface', kind: 'list', describe: 'run snoop on the TCP forwarded through IF, the lossy last hop (repeatable)' },
  { key: 'snoop-cache-size', kind: 'string', default: mebibytes(SNOOP_DEFAULTS.cacheBytes), describe: 'bytes snoop caches over all flows at most (suffixes k, M, G)' },
  { key: 'snoop-flow-cache', kind: 'string', default: mebibytes(SNOOP_DEFAULTS.flowCacheBytes), describe: 'bytes snoop caches per flow at most (suffixes k, M, G)' },
  { key: 'snoop-min-rto', kind: 'string', default: String(SNOOP_DEFAULTS.minRtoMs), describe: 'floor of the local retransmission timeout, milliseconds (1-10000)' },
  { key: 'snoop-max-retransmits', kind: 'string', default: String(SNOOP_DEFAULTS.maxRetransmits), describe: "local retransmissions of one segment at most (0-20); then the sender's own recovery takes over" },
];

/** Trace in the service: on request (tcp-intercept trace DEST) whenever a pipeline runs; continuous with --trace. */
export const TRACE_OPTIONS: readonly OptionDef[] = [
  { key: 'trace', kind: 'boolean', default: false, describe: 'trace the paths to the servers the proxy connects to, and to --trace-destination, along live flows: one at a time, each again every --trace-interval' },
  { key: 'trace-destination', kind: 'list', describe: 'an address to trace with --trace besides the proxy\'s servers, e.g. for forwarded flows (repeatable)' },
  { key: 'trace-interval', kind: 'string', default: '300', describe: 'seconds between two traces of one destination (route changes are logged)' },
  { key: 'trace-log', kind: 'string', describe: 'append every trace as JSON lines to FILE (default: one summary line per trace in the log)' },
  { key: 'trace-probes-per-second', kind: 'string', default: '100', describe: 'probes per second over all traces at most' },
];

export const EMULATE_OPTIONS: readonly OptionDef[] = [
  { key: 'delay', kind: 'string', default: '0', describe: 'one-way delay, milliseconds' },
  { key: 'jitter', kind: 'string', default: '0', describe: 'delay varies uniformly by up to ± this, milliseconds' },
  { key: 'loss', kind: 'string', default: '0', describe: 'random loss, percent' },
  { key: 'burst', kind: 'string', describe: 'Gilbert-Elliott burst loss: per-packet probabilities of entering and leaving the bad state (which drops every packet), e.g. 0.01,0.3 or 1%,30%' },
  { key: 'rate', kind: 'string', describe: 'rate limit, Mbit/s' },
  { key: 'limit', kind: 'string', default: '1000', describe: 'packets that may wait for the rate limit before tail drop' },
  { key: 'seed', kind: 'string', describe: 'seed for the random choices, to repeat a run exactly' },
];

/** The service (`tcp-intercept [options]`, what the .deb runs). */
export const SERVICE_OPTIONS: readonly OptionDef[] = [...PROXY_OPTIONS, ...SNOOP_OPTIONS, ...TRACE_OPTIONS, ...SNOOP_QUEUE_OPTIONS, ...HOST_OPTIONS];

/** Every option of every command: keys another command knows are not mistakes in a shared file. */
export const ALL_OPTIONS: readonly OptionDef[] = [...PROXY_OPTIONS, ...QUEUE_OPTIONS, ...EMULATE_OPTIONS, ...SNOOP_OPTIONS, ...TRACE_OPTIONS, ...HOST_OPTIONS];

/** The host options of a standalone subcommand: one process, no control socket. */
export function standaloneHostOptions(defaults: Record<string, string | boolean>): OptionDef[] {
  const serviceOnly = ['workers', 'foreground', 'control-socket'];
  return withDefaults(HOST_OPTIONS, defaults).filter((o) => !serviceOnly.includes(o.key));
}

/** What a client of the running service takes: where its control socket is. */
export const CONTROL_CLIENT_OPTIONS: readonly OptionDef[] = [
  { key: 'control-socket', kind: 'string', default: DEFAULT_CONTROL_SOCKET, describe: "the running service's control socket (as its --control-socket; 'auto': the packaged unit's)" },
];

/** A group with some defaults replaced (a subcommand's own, e.g. no metrics endpoint). */
export function withDefaults(defs: readonly OptionDef[], defaults: Record<string, string | boolean>): OptionDef[] {
  return defs.map((d) => (d.key in defaults ? { ...d, default: defaults[d.key] } : d));
}
