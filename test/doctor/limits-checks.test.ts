import t from 'tap';
import type { Finding } from '../../src/doctor/finding.js';
import { limitsChecks } from '../../src/doctor/limits-checks.js';
import { fakeSystem, GOOD_SYSCTLS, settings } from './fake-system.js';

const limits = (files: number) => `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${files}              ${files}              files\n`;
/** The service running as pid 42, without CAP_SYS_RESOURCE (the unit's two capabilities). */
const running = (files: number, sysctls = GOOD_SYSCTLS) =>
  fakeSystem({ sysctls, files: { '/proc/42/limits': limits(files), '/proc/42/status': 'CapEff:\t0000000000003000\n' } });
const byId = (findings: Finding[], id: string): Finding | undefined => findings.find((f) => f.id === id);

t.test('pipes: the quota after the idle pools, in busy connections', async (t) => {
  const f = byId(limitsChecks(running(1048576), settings(), 42), 'pipes.quota');
  t.equal(f?.level, 'ok');
  t.match(f?.message, /64 MiB \(fs\.pipe-user-pages-soft\): 1 worker keeps up to 16 MiB of pipes idle, the rest holds both pipes of 24 busy connections at buffer-size 1 MiB/);
  const four = byId(limitsChecks(running(1048576), settings({ workers: 4 }), 42), 'pipes.quota');
  t.match(four?.message, /4 workers keep up to 16 MiB .* 24 busy connections/, 'the pools share a quarter of the quota');
  const short = byId(limitsChecks(running(1048576), settings({}, { maxConnections: 100 }), 42), 'pipes.quota');
  t.equal(short?.level, 'warn', 'a stated max-connections the quota cannot hold');
  t.equal(short?.fix, 'sysctl -w fs.pipe-user-pages-soft=55296 (and the same in /etc/sysctl.d/90-tcp-intercept.conf)');
});

t.test('pipes: buffer-size over fs.pipe-max-size; no quota with CAP_SYS_RESOURCE', async (t) => {
  const big = byId(limitsChecks(running(1048576), settings({}, { bufferSize: 4 << 20 }), 42), 'pipes.size');
  t.equal(big?.level, 'warn');
  t.match(big?.fix, /fs\.pipe-max-size=4194304 .*--buffer-size 1M/);
  const exempt = fakeSystem({ files: { '/proc/42/limits': limits(1048576), '/proc/42/status': 'CapEff:\t0000000001003000\n' } });
  t.match(byId(limitsChecks(exempt, settings(), 42), 'pipes.quota')?.message, /no pipe quota applies/);
});

t.test('fd limit against max-connections', async (t) => {
  t.equal(byId(limitsChecks(running(1048576), settings(), 42), 'fd-limit')?.level, 'ok', 'auto with the unit limit');
  const low = byId(limitsChecks(running(1024), settings(), 42), 'fd-limit');
  t.equal(low?.level, 'warn');
  t.match(low?.message, /open-file limit 1024 \(the running service's, pid 42\): max-connections auto comes to 154/);
  t.match(low?.fix, /LimitNOFILE=1048576/);
  const explicit = byId(limitsChecks(running(20000), settings({}, { maxConnections: 10000 }), 42), 'fd-limit');
  t.equal(explicit?.level, 'warn');
  t.match(explicit?.message, /max-connections 10000 needs about 60096 open files, the limit is 20000/);
  t.equal(byId(limitsChecks(running(20000), settings({}, { maxConnections: 3000 }), 42), 'fd-limit')?.level, 'ok');
  t.equal(byId(limitsChecks(running(20000), settings({}, { maxConnections: 0 }), 42), 'fd-limit')?.level, 'warn', 'no limit at all');
});

t.test('conntrack: nearly full fails; too small for max-connections warns; absent is fine', async (t) => {
  const full = { ...GOOD_SYSCTLS, 'net.netfilter.nf_conntrack_count': '250000' };
  const f = byId(limitsChecks(running(1048576, full), settings(), 42), 'conntrack');
  t.equal(f?.level, 'fail');
  t.match(f?.fix, /net\.netfilter\.nf_conntrack_max=524288/);
  const many = byId(limitsChecks(running(1048576), settings({ workers: 2 }, { maxConnections: 100000 }), 42), 'conntrack');
  t.equal(many?.level, 'warn');
  t.match(many?.message, /takes 400000, two per connection/);
  const none = { ...GOOD_SYSCTLS };
  delete none['net.netfilter.nf_conntrack_max'];
  t.equal(byId(limitsChecks(running(1048576, none), settings(), 42), 'conntrack')?.level, 'ok');
});
