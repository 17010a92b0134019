import t from 'tap';
import { FEATURES, presence } from '../../src/doctor/kernel-features.js';
import { netfilterChecks } from '../../src/doctor/netfilter-checks.js';
import { fakeSystem, settings } from './fake-system.js';

const CONFIG = 'CONFIG_NFT_TPROXY=y\nCONFIG_NFT_SOCKET=m\n# CONFIG_NFT_QUEUE is not set\nCONFIG_NETFILTER_XT_TARGET_TPROXY=m\nCONFIG_NETFILTER_XT_MATCH_SOCKET=m\nCONFIG_NETFILTER_XT_TARGET_NFQUEUE=m\nCONFIG_NETFILTER_NETLINK_QUEUE=m\n';

t.test('presence: loaded, then the kernel configuration, then the module tree', async (t) => {
  t.equal(presence(fakeSystem({ files: { '/sys/module/nft_socket/refcnt': '1' }, kernelConfig: CONFIG }), FEATURES.nftSocket), 'loaded');
  t.equal(presence(fakeSystem({ files: { '/proc/net/ip_tables_targets': 'MARK\nTPROXY\n' } }), FEATURES.xtTproxy), 'loaded', 'listed by ip_tables');
  t.equal(presence(fakeSystem({ kernelConfig: CONFIG }), FEATURES.nftTproxy), 'built in');
  t.equal(presence(fakeSystem({ kernelConfig: CONFIG }), FEATURES.nftSocket), 'module');
  t.equal(presence(fakeSystem({ kernelConfig: CONFIG }), FEATURES.nftQueue), 'absent', 'is not set');
  const tree = '/lib/modules/6.1.0-test';
  const files = { [`${tree}/modules.builtin`]: 'kernel/net/netfilter/nft_tproxy.ko\n', [`${tree}/modules.dep`]: 'kernel/net/netfilter/xt_socket.ko.xz: \n' };
  t.equal(presence(fakeSystem({ files }), FEATURES.nftTproxy), 'built in');
  t.equal(presence(fakeSystem({ files }), FEATURES.xtSocket), 'module');
  t.equal(presence(fakeSystem({ files }), FEATURES.nftQueue), 'absent');
  t.equal(presence(fakeSystem(), FEATURES.nftQueue), 'unknown', 'nothing to read');
});

t.test('the nft backend needs nft tproxy and socket; iptables its xt ones', async (t) => {
  const nft = await netfilterChecks(fakeSystem({ kernelConfig: CONFIG }), settings());
  t.same(nft.map((f) => [f.id, f.level]), [['netfilter.tproxy', 'ok'], ['netfilter.socket', 'ok'], ['netfilter.queue', 'info']]);
  t.match(nft[1].message, /nft socket match: nft_socket a module/);
  const rules = { ...settings().rules, backend: 'iptables' as const };
  const none = await netfilterChecks(fakeSystem({ kernelConfig: '' }), settings({ rules }));
  t.same(none.map((f) => f.level), ['fail', 'fail', 'info']);
  t.match(none[0].message, /iptables TPROXY: xt_TPROXY not in this kernel \(CONFIG_NETFILTER_XT_TARGET_TPROXY\)/);
  t.match(none[0].fix, /CONFIG_NETFILTER_XT_TARGET_TPROXY=m/);
});

t.test('nothing on disk: nft is asked with a scratch ruleset it checks only', async (t) => {
  t.same((await netfilterChecks(fakeSystem({ nftAccepts: true }), settings())).slice(0, 2).map((f) => f.level), ['ok', 'ok']);
  const refused = await netfilterChecks(fakeSystem({ nftAccepts: false }), settings());
  t.equal(refused[0].level, 'fail');
  t.match(refused[0].message, /the kernel refuses a rule using it/);
  t.match(refused[0].fix, /--backend iptables/);
});

t.test('snoop: its queue by nft, else iptables NFQUEUE, and nfnetlink_queue in any case', async (t) => {
  const snoop = { interfaces: ['wlan0'] };
  const fallback = await netfilterChecks(fakeSystem({ kernelConfig: CONFIG }), settings({ snoop, proxy: null }));
  t.same(fallback.map((f) => [f.id, f.level]), [['netfilter.queue', 'ok']], 'no proxy: no TPROXY checks');
  t.match(fallback[0].message, /iptables NFQUEUE .* as nft has no queue here/);
  const withNft = await netfilterChecks(fakeSystem({ kernelConfig: `${CONFIG}CONFIG_NFT_QUEUE=m\n` }), settings({ snoop, proxy: null }));
  t.match(withNft[0].message, /nft queue \(nft_queue a module/);
  const noNfnl = await netfilterChecks(fakeSystem({ kernelConfig: CONFIG.replace('CONFIG_NETFILTER_NETLINK_QUEUE=m', '') }), settings({ snoop, proxy: null }));
  t.equal(noNfnl[0].level, 'fail');
  t.match(noNfnl[0].message, /nfnetlink_queue not in this kernel/);
  const neither = await netfilterChecks(fakeSystem({ kernelConfig: 'CONFIG_NETFILTER_NETLINK_QUEUE=y\n' }), settings({ snoop, proxy: null }));
  t.equal(neither[0].level, 'fail');
});
