import t from 'tap';
import { earlyDemuxCheck, forwardingChecks, rpFilterChecks } from '../../src/doctor/sysctl-checks.js';
import { fakeSystem, GOOD_SYSCTLS, settings } from './fake-system.js';

const withSysctls = (over: Record<string, string | undefined>) => {
  const s: Record<string, string> = { ...GOOD_SYSCTLS };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete s[k]; else s[k] = v;
  return fakeSystem({ sysctls: s });
};

t.test('forwarding: on is ok, off fails with the sysctl that turns it on', async (t) => {
  t.same(forwardingChecks(fakeSystem()).map((f) => f.level), ['ok', 'ok']);
  const [v4, v6] = forwardingChecks(withSysctls({ 'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': '0' }));
  t.equal(v4.level, 'fail');
  t.equal(v4.id, 'forwarding.ipv4');
  t.match(v4.fix, /^sysctl -w net\.ipv4\.ip_forward=1 \(and the same in \/etc\/sysctl\.d\//);
  t.equal(v6.level, 'fail');
  t.match(v6.fix, /net\.ipv6\.conf\.all\.forwarding=1/);
});

t.test('forwarding: a kernel or namespace without IPv6 is not a failure', async (t) => {
  const [, v6] = forwardingChecks(withSysctls({ 'net.ipv6.conf.all.forwarding': undefined }));
  t.equal(v6.level, 'ok');
  t.match(v6.message, /IPv6 is off/);
});

t.test('rp_filter: the larger of all and the interface counts', async (t) => {
  t.equal(rpFilterChecks(fakeSystem(), settings())[0].level, 'ok', 'off');
  t.equal(rpFilterChecks(withSysctls({ 'net.ipv4.conf.eth1.rp_filter': '2' }), settings())[0].level, 'ok', 'loose');
  const strict = rpFilterChecks(withSysctls({ 'net.ipv4.conf.all.rp_filter': '1' }), settings())[0];
  t.equal(strict.level, 'warn', 'strict through conf.all');
  t.equal(strict.id, 'rp-filter.eth1');
  t.match(strict.message, /strict \(all 1, eth1 0\)/);
  t.match(strict.fix, /net\.ipv4\.conf\.all\.rp_filter=2 net\.ipv4\.conf\.eth1\.rp_filter=2/);
});

t.test('rp_filter with src_valid_mark fails: the mark routes the reverse lookup to lo', async (t) => {
  const f = rpFilterChecks(withSysctls({ 'net.ipv4.conf.eth1.rp_filter': '2', 'net.ipv4.conf.eth1.src_valid_mark': '1' }), settings())[0];
  t.equal(f.level, 'fail');
  t.match(f.message, /martian/);
  t.match(f.fix, /src_valid_mark=0/);
  t.equal(rpFilterChecks(withSysctls({ 'net.ipv4.conf.eth1.src_valid_mark': '1' }), settings())[0].level, 'ok', 'no reverse-path filter, no lookup');
});

t.test('rp_filter: an interface name with a dot, every interface when none is named, an unknown one', async (t) => {
  const sys = withSysctls({ 'net.ipv4.conf.lo.rp_filter': '0', 'net.ipv4.conf.default.rp_filter': '1' });
  const files = { '/proc/sys/net/ipv4/conf/eth0.100/rp_filter': '1\n' };
  const dotted = fakeSystem({ sysctls: GOOD_SYSCTLS, files });
  t.equal(rpFilterChecks(dotted, settings({ interfaces: ['eth0.100'] }))[0].level, 'warn');
  t.same(rpFilterChecks(sys, settings({ interfaces: [] })).map((f) => f.id), ['rp-filter.eth1'], 'all but lo, all and default');
  const missing = rpFilterChecks(fakeSystem(), settings({ interfaces: ['wan9'] }))[0];
  t.equal(missing.level, 'fail');
  t.match(missing.message, /wan9: no such interface/);
});

t.test('early demux: a warning when both are on, with the sysctls that turn it off', async (t) => {
  t.equal(earlyDemuxCheck(fakeSystem(), settings())[0].level, 'ok', 'ip_early_demux 0 turns TCP early demux off');
  const [f] = earlyDemuxCheck(withSysctls({ 'net.ipv4.ip_early_demux': '1' }), settings());
  t.equal(f.level, 'warn');
  t.equal(f.id, 'early-demux');
  t.match(f.message, /TIME_WAIT/);
  t.match(f.fix, /^sysctl -w net\.ipv4\.ip_early_demux=0 net\.ipv4\.tcp_early_demux=0 \(and the same in \/etc\/sysctl\.d\//);
  t.same(earlyDemuxCheck(withSysctls({ 'net.ipv4.ip_early_demux': '1' }), settings({ proxy: null })), [], 'no proxy, no TIME_WAIT sockets of its own');
});
