import t from 'tap';
import { capabilityCheck, findService, rulesChecks } from '../../src/doctor/service-checks.js';
import { fakeSystem, settings } from './fake-system.js';

const MAIN = '/usr/lib/tcp-intercept/dist/src/cli/main.js';
const cmdline = (...args: string[]) => ['node', MAIN, ...args].join('\0') + '\0';

/** Processes by pid: command line, parent, capabilities, network namespace. */
function processes(list: Array<{ pid: number; args: string[]; ppid?: number; caps?: string; net?: string }>) {
  const files: Record<string, string> = {}, links: Record<string, string> = {};
  for (const p of list) {
    files[`/proc/${p.pid}/cmdline`] = cmdline(...p.args);
    files[`/proc/${p.pid}/status`] = `PPid:\t${p.ppid ?? 1}\nCapEff:\t${p.caps ?? '0000000000003000'}\n`;
    links[`/proc/${p.pid}/ns/net`] = p.net ?? 'net:[1]';
  }
  return { files, links };
}

t.test('the service: by its command line in this namespace, the supervisor rather than its workers', async (t) => {
  const sys = fakeSystem(processes([
    { pid: 10, args: ['rules', 'status'] },
    { pid: 20, args: ['-b', '[::]:5000'], net: 'net:[2]' },
    { pid: 30, args: ['--workers', '2'] },
    { pid: 31, args: ['--workers', '2'], ppid: 30 },
    { pid: 999, args: ['doctor'] },
  ]));
  t.equal(findService(sys, settings()), 30);
  t.equal(findService(fakeSystem(processes([{ pid: 10, args: ['snoop', '--snoop-interface', 'x'] }])), settings()), null, 'a subcommand is not the service');
});

t.test('the service: by its pid file first', async (t) => {
  const { files, links } = processes([{ pid: 77, args: [] }]);
  const sys = fakeSystem({ files: { ...files, '/run/ti.pid': '77\n' }, links });
  t.equal(findService(sys, settings({ pidFile: '/run/ti.pid' })), 77);
});

t.test('capabilities: both needed; not running is information', async (t) => {
  const sys = fakeSystem(processes([{ pid: 5, args: [] }, { pid: 6, args: [], caps: '0000000000001000' }]));
  t.equal(capabilityCheck(sys, 5).level, 'ok');
  const short = capabilityCheck(sys, 6);
  t.equal(short.level, 'fail');
  t.match(short.message, /without CAP_NET_RAW/);
  t.match(short.fix, /AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW/);
  t.equal(capabilityCheck(sys, null).level, 'info');
});

t.test('rules: installed is ok; absent fails while the service runs, is information before', async (t) => {
  t.same((await rulesChecks(fakeSystem(), settings(), null)).map((f) => [f.id, f.level]), [['rules', 'ok']]);
  const absent = { installed: false, lines: ['nft table inet tcp-intercept: absent', 'ip -4 rule fwmark 0x1 lookup 100: present'] };
  const [before] = await rulesChecks(fakeSystem({ rules: absent }), settings(), null);
  t.equal(before.level, 'info');
  t.match(before.message, /not installed \(absent: nft table inet tcp-intercept\); the unit installs them when it starts/);
  t.equal(before.fix, 'tcp-intercept rules install --interface eth1');
  t.equal((await rulesChecks(fakeSystem({ rules: absent }), settings(), 42))[0].level, 'fail');
  const snoop = await rulesChecks(fakeSystem({ queueRules: { installed: false, lines: ['nft table inet tcp-intercept-queue: absent'] } }), settings({ snoop: { interfaces: ['wlan0'] } }), 42);
  t.same(snoop.map((f) => [f.id, f.level]), [['rules', 'ok'], ['rules.snoop', 'fail']]);
});
