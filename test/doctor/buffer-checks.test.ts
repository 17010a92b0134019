import t from 'tap';
import { bandwidthDelayProduct, bufferChecks, bufferFor, formatBytes } from '../../src/doctor/buffer-checks.js';
import { fakeSystem, settings } from './fake-system.js';

t.test('BDP: RTT ms x rate Mbit/s, and twice that for a buffer', async (t) => {
  t.equal(bandwidthDelayProduct({ rttMs: 300, rateMbit: 100 }), 3_750_000);
  t.equal(bufferFor({ rttMs: 300, rateMbit: 100 }), 7_500_000);
  t.equal(bandwidthDelayProduct({ rttMs: 0.5, rateMbit: 0.1 }), 7, 'rounded up');
  t.equal(formatBytes(7_500_000), '7.2 MiB');
  t.equal(formatBytes(212992), '208 KiB');
  t.equal(formatBytes(100), '100 bytes');
});

t.test('without a path: what autotuning allows, no warning', async (t) => {
  const findings = bufferChecks(fakeSystem(), settings());
  t.same(findings.map((f) => [f.id, f.level]), [['buffers.send', 'ok'], ['buffers.receive', 'ok']]);
  t.match(findings[0].message, /tcp_wmem\[2\] = 4 MiB: about 2 MiB in flight \(name a path with --path/);
});

t.test('a long path on stock buffers: the send side warns with the sysctl, keeping min and default', async (t) => {
  const [send, receive] = bufferChecks(fakeSystem(), settings({ path: { rttMs: 300, rateMbit: 100 } }));
  t.equal(send.level, 'warn');
  t.match(send.message, /3\.6 MiB in flight, a buffer needs about 7\.2 MiB: such a path runs at about 55 Mbit\/s/);
  t.match(send.fix, /^sysctl -w net\.ipv4\.tcp_wmem='4096 16384 8388608' /);
  t.equal(receive.level, 'warn', 'tcp_rmem 6 MiB is short of 7.2 too');
  t.match(receive.fix, /net\.ipv4\.tcp_rmem='4096 131072 8388608'/);
  const edge = bufferChecks(fakeSystem(), settings({ path: { rttMs: 4194304 / 2 / 125 / 100, rateMbit: 100 } }));
  t.equal(edge[0].level, 'ok', 'exactly twice the BDP is enough');
});

t.test('fixed buffers: compared with the path and with *mem_max (FORCE passes it)', async (t) => {
  const proxy = { sndbuf: { client: null, server: { bytes: 32 << 20, what: '--sndbuf-server' } }, rcvbuf: { client: { bytes: 1 << 20, what: '/etc/x.yaml:3: rcvbuf-client' }, server: { bytes: 1 << 20, what: '--rcvbuf' } } };
  const findings = bufferChecks(fakeSystem(), settings({ path: { rttMs: 300, rateMbit: 100 } }, proxy));
  t.same(findings.map((f) => [f.id, f.level]), [
    ['buffers.send', 'warn'], ['buffers.sndbuf-server', 'ok'], ['buffers.rcvbuf-client', 'warn'], ['buffers.rcvbuf-server', 'warn'],
  ], 'the autotuned client leg, then each fixed buffer');
  t.match(findings[0].message, /the client leg autotunes the send buffer/);
  t.match(findings[0].fix, /--sndbuf-client 8M/);
  t.match(findings[1].message, /above net\.core\.wmem_max = 208 KiB: SO_SNDBUFFORCE passes it with CAP_NET_ADMIN/);
  t.match(findings[2].message, /by \/etc\/x\.yaml:3: rcvbuf-client/);
  t.equal(findings[3].fix, '--rcvbuf-server 8M (or unset it to autotune)');
});

t.test('no proxy, no buffers', async (t) => {
  t.same(bufferChecks(fakeSystem(), settings({ proxy: null })), []);
});
