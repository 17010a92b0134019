// The command line of the proxy itself. Names and short flags are a contract (scripts, the
// Debian unit and outside checks use them); numeric values are strings here and validated in
// config/, which gives one clear message per mistake.
import type { Argv } from 'yargs';
import { LOG_FORMATS, LOG_LEVELS } from '../config/proxy-options.js';

export function defineRunOptions<T>(y: Argv<T>) {
  return y
    .option('bind-listen', { alias: 'b', type: 'string', default: '[::]:5000', describe: 'listen address, ADDR:PORT or [IPv6]:PORT (repeatable)', requiresArg: true })
    .option('bind-outgoing', { alias: 'B', type: 'string', default: 'client', describe: "source of the server leg: 'client' (client's IP, new port), 'client-port' (client's IP and port) or a local ADDR (no spoofing)", requiresArg: true })
    .option('backlog', { type: 'string', default: '4096', describe: 'listen backlog', requiresArg: true })
    .option('keepalive', { alias: 'k', type: 'boolean', default: false, describe: 'TCP keepalive on both legs' })
    .option('keepalive-idle', { type: 'string', describe: 'seconds idle before the first keepalive probe', requiresArg: true })
    .option('keepalive-interval', { type: 'string', describe: 'seconds between keepalive probes', requiresArg: true })
    .option('keepalive-count', { type: 'string', describe: 'unanswered probes before the leg is dropped', requiresArg: true })
    .option('tcp-nodelay', { alias: ['n', 'tcp_nodelay'], type: 'boolean', default: false, describe: 'TCP_NODELAY on both legs' })
    .option('cc', { type: 'string', describe: 'congestion control for both legs (cubic, bbr, reno, ...)', requiresArg: true })
    .option('cc-client', { type: 'string', describe: 'congestion control of the client leg', requiresArg: true })
    .option('cc-server', { type: 'string', describe: 'congestion control of the server leg', requiresArg: true })
    .option('mptcp', { type: 'boolean', default: false, describe: 'open the server leg with MPTCP' })
    .option('buffer-size', { type: 'string', default: '1M', describe: 'bytes in flight per direction (suffixes k, M)', requiresArg: true })
    .option('max-connections', { type: 'string', default: '0', describe: 'open connections at most; more are reset (0: no limit)', requiresArg: true })
    .option('connect-timeout', { type: 'string', default: '10000', describe: 'milliseconds to reach the server before the client is reset', requiresArg: true })
    .option('idle-timeout', { type: 'string', default: '0', describe: 'seconds without traffic before a connection is reset (0: never)', requiresArg: true })
    .option('mark', { type: 'string', default: '0', describe: 'SO_MARK of the server leg (0: none)', requiresArg: true })
    .option('drain-timeout', { type: 'string', default: '30', describe: 'seconds open connections may finish after SIGTERM', requiresArg: true })
    .option('workers', { type: 'string', default: '1', describe: "worker processes sharing the listeners (SO_REUSEPORT), or 'auto' for one per CPU", requiresArg: true })
    .option('foreground', { alias: 'f', type: 'boolean', default: true, describe: 'accepted for compatibility: always runs in the foreground' })
    .option('pid-file', { alias: 'p', type: 'string', describe: 'write the process id to FILE', requiresArg: true })
    .option('log', { alias: 'l', type: 'string', describe: 'append the log to FILE (SIGHUP reopens it)', requiresArg: true })
    .option('log-level', { type: 'string', default: 'info', describe: `log level: ${LOG_LEVELS.join(', ')}`, requiresArg: true })
    .option('log-format', { type: 'string', default: 'text', describe: `log line format: ${LOG_FORMATS.join(', ')}`, requiresArg: true })
    .option('version', { alias: 'V', type: 'boolean', describe: 'print the version and exit' });
}
