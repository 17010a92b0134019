// What is measured: plain kernel forwarding, tcp-intercept and (when installed) HAProxy, side by
// side in one router. Each subject owns a range of server ports, so TIME_WAIT legs one leaves
// in the router never meet another's connections.
import { existsSync, writeFileSync } from 'node:fs';
import { TCP_INTERCEPT_BIN, type Lab, type LabProcess } from '../test/lab/lab.js';

export type SubjectName = 'plain' | 'tcp-intercept' | 'haproxy';

export const PORT_BASE: Record<SubjectName, number> = { plain: 20000, 'tcp-intercept': 21000, haproxy: 22000 };
export const LISTEN_PORT = { 'tcp-intercept': 5000, haproxy: 5001 } as const;

// HAProxy wants 2.5 fds per connection of maxconn, and the hard fd limit here is 20,000.
export const HAPROXY_MAXCONN = 7900;

export const haproxyInstalled = (): boolean => ['/usr/sbin/haproxy', '/usr/bin/haproxy'].some((p) => existsSync(p));

/** tcp-intercept in the router, quiet (no line per connection), with room for 20,000 fds. */
export async function startTcpIntercept(lab: Lab, extra: string[] = []): Promise<LabProcess> {
  const args = ['-b', `[::]:${LISTEN_PORT['tcp-intercept']}`, '--log-level', 'warn', ...extra];
  const p = lab.spawn('router', 'sh', ['-c', `ulimit -n 20000 && exec ${TCP_INTERCEPT_BIN} ${args.join(' ')}`]);
  await lab.waitForListen('router', LISTEN_PORT['tcp-intercept']);
  return p;
}

/** HAProxy in transparent mode with splice, spoofing the client's address like -B client. */
export async function startHaproxy(lab: Lab, threads: number): Promise<LabProcess> {
  const cfg = `/tmp/ti-bench-haproxy-${process.pid}.cfg`;
  writeFileSync(cfg, [
    'global',
    `  maxconn ${HAPROXY_MAXCONN}`,
    '  ulimit-n 20000',
    `  nbthread ${threads}`,
    'defaults',
    '  mode tcp',
    '  timeout connect 10s',
    '  timeout client 5m',
    '  timeout server 5m',
    '  option splice-auto',
    'frontend intercepted',
    `  bind :::${LISTEN_PORT.haproxy} v4v6 transparent`,
    '  default_backend original_destination',
    'backend original_destination',
    '  source 0.0.0.0 usesrc clientip',
    '  server original 0.0.0.0',
    '',
  ].join('\n'));
  const p = lab.spawn('router', 'sh', ['-c', `ulimit -n 65536 2>/dev/null || ulimit -n 20000; exec haproxy -db -f ${cfg}`]);
  await lab.waitForListen('router', LISTEN_PORT.haproxy);
  return p;
}
