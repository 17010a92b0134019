// Per-leg TCP options, checked from outside the process (ss in the router) and by getsockopt
// (the open event's read-back, logged at debug).
import t from 'tap';
import { nodeScript, proxyLab } from '../helpers/proxy-lab.js';

const env = await proxyLab(t, 'legopt', 4);
const { lab } = env;
await env.serve(7001);

/** Keeps one connection through the proxy open for <ms>; resolves once both legs are up. */
async function holdConnection(ms: number): Promise<{ done: Promise<unknown> }> {
  const done = nodeScript(lab, 'client', `
    import net from 'node:net';
    const s = net.connect(7001, '${lab.server.v4}', () => { console.log('up', s.localPort); setTimeout(() => s.destroy(), ${ms}); });
    s.on('error', () => {});`);
  await env.waitEstablished();
  return { done };
}

/** ss prints timers as [Nmin][S(sec|.)][MMMms]: "119min", "6.968ms" (6.968 s), "7sec", "950ms". */
function ssTimerSeconds(text: string): number {
  const m = /^(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?$/.exec(text);
  if (!m) return NaN;
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 1000;
}

/** `ss -tioe` lines in the router for one leg, found by its peer address. */
async function legInfo(peer: string): Promise<string> {
  const out = await lab.run('router', 'ss', ['-Htinoe', 'state', 'established', 'dst', peer]);
  return out.replace(/\s+/g, ' ');
}

t.test('congestion control, keepalive and nodelay per leg', async (t) => {
  await env.startProxy([
    '--cc-client', 'reno', '--cc-server', 'cubic', '-n',
    '-k', '--keepalive-idle', '7', '--keepalive-interval', '3', '--keepalive-count', '4',
    '--log-level', 'debug',
  ]);
  const { done } = await holdConnection(1500);
  const clientLeg = await legInfo(lab.client.v4);
  const serverLeg = await legInfo(lab.server.v4);
  t.match(clientLeg, / reno /, `client leg runs reno: ${clientLeg}`);
  t.match(serverLeg, / cubic /, `server leg runs cubic: ${serverLeg}`);
  for (const [name, info] of [['client', clientLeg], ['server', serverLeg]]) {
    const m = /timer:\(keepalive,([^,]+),/.exec(info);
    t.ok(m, `${name} leg has a keepalive timer`);
    const seconds = m ? ssTimerSeconds(m[1]) : NaN;
    // The kernel default would be 7200 s; 7 s minus the time since the leg came up is ours.
    t.ok(seconds > 4 && seconds <= 7, `${name} leg's first probe is due per --keepalive-idle 7 (${seconds} s)`);
  }
  await done;
  const open = env.logs().find((l) => String(l.message).startsWith('open '));
  t.match(open, {
    clientLeg: { cc: 'reno', nodelay: true, keepalive: true, keepIdle: 7, keepInterval: 3, keepCount: 4 },
    serverLeg: { cc: 'cubic', nodelay: true, keepalive: true, keepIdle: 7, keepInterval: 3, keepCount: 4, mptcp: false },
  }, 'getsockopt on both legs reads back what was asked');
});

t.test('--cc sets both legs; by default nodelay is off and keepalive on (300/30/4), --no-keepalive turns it off', async (t) => {
  await env.startProxy(['--cc', 'reno', '--log-level', 'debug']);
  const { done } = await holdConnection(500);
  t.match(await legInfo(lab.client.v4), / reno /, 'client leg runs reno');
  t.match(await legInfo(lab.server.v4), / reno /, 'server leg runs reno');
  const due = /timer:\(keepalive,(\d+)min(\d+)sec,/.exec(await legInfo(lab.server.v4));
  t.ok(due && Number(due[1]) * 60 + Number(due[2]) > 290, `the server leg's first keepalive probe is due in about 300 s (${due?.[0]})`);
  await done;
  const open = env.logs().find((l) => String(l.message).startsWith('open '));
  const defaults = { nodelay: false, keepalive: true, keepIdle: 300, keepInterval: 30, keepCount: 4 };
  t.match(open, { clientLeg: defaults, serverLeg: defaults });

  await env.startProxy(['--no-keepalive', '--log-level', 'debug']);
  const off = await holdConnection(500);
  t.notMatch(await legInfo(lab.server.v4), /keepalive/, 'no keepalive timer with --no-keepalive');
  await off.done;
  const opens = env.logs().filter((l) => String(l.message).startsWith('open '));
  t.match(opens[opens.length - 1], { clientLeg: { keepalive: false }, serverLeg: { keepalive: false } });
});

t.test('--mark sets SO_MARK on the server leg', async (t) => {
  await env.startProxy(['--mark', '0x20', '--log-level', 'debug']);
  const { done } = await holdConnection(300);
  await done;
  const open = env.logs().find((l) => String(l.message).startsWith('open '));
  t.match(open, { serverLeg: { mark: 0x20 }, clientLeg: { mark: 0 } });
  await env.stopProxy();
});
