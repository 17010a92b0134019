// `tcp-intercept doctor` as an operator runs it, in the router of a lab: the real binary reading
// that namespace's sysctls and rules. Sysctls change inside the namespace only.
import t from 'tap';
import { Lab, TCP_INTERCEPT_BIN } from '../lab/lab.js';

interface Line {
  type: string;
  id?: string;
  level?: string;
  message?: string;
  fix?: string | null;
  status?: number;
}

t.test('doctor in a lab router', async (t) => {
  const lab = await Lab.create({ tag: 'doc', id: 22 });
  t.teardown(() => lab.destroy());
  const doctor = (...args: string[]) => lab.exec('router', TCP_INTERCEPT_BIN, ['doctor', ...args], { timeoutMs: 60_000 });
  const findings = async (...args: string[]) => {
    const r = await doctor('--json', '--interface', lab.clientIf, ...args);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Line);
    return { code: r.code, lines, byId: (id: string) => lines.find((l) => l.id === id) };
  };

  await t.test('--json: a finding per line, the summary last with the exit status', async (t) => {
    const { code, lines, byId } = await findings();
    t.ok(lines.length > 10, `${lines.length} lines`);
    t.ok(lines.slice(0, -1).every((l) => l.type === 'finding' && l.id && ['ok', 'info', 'warn', 'fail'].includes(l.level ?? '')));
    const summary = lines[lines.length - 1];
    t.equal(summary.type, 'summary');
    t.equal(summary.status, code);
    t.equal(byId(`rp-filter.${lab.clientIf}`)?.level, 'ok', 'the lab turns rp_filter off');
  });

  await t.test('forwarding off in the namespace: exit 1 and the finding with its fix; on: ok', async (t) => {
    await lab.run('router', 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
    const off = await findings();
    t.equal(off.code, 1);
    t.equal(off.byId('forwarding.ipv4')?.level, 'fail');
    t.match(off.byId('forwarding.ipv4')?.fix, /sysctl -w net\.ipv4\.ip_forward=1/);
    const text = await doctor('--interface', lab.clientIf);
    t.match(text.stdout, /^FAIL {2}IPv4 forwarding is off .*\n {6}fix: sysctl -w net\.ipv4\.ip_forward=1/m, 'the text report');
    await lab.run('router', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    t.equal((await findings()).byId('forwarding.ipv4')?.level, 'ok');
  });

  await t.test('early demux: a namespace starts with it on; off in the namespace is ok', async (t) => {
    t.equal((await findings()).byId('early-demux')?.level, 'warn');
    await lab.run('router', 'sysctl', ['-qw', 'net.ipv4.ip_early_demux=0']);
    t.equal((await findings()).byId('early-demux')?.level, 'ok');
  });

  await t.test('--path 300,100 on stock buffers: the send buffer is short, with a fix', async (t) => {
    const { code, byId } = await findings('--path', '300,100');
    t.equal(code, 1);
    const send = byId('buffers.send');
    t.equal(send?.level, 'warn');
    t.match(send?.message, /3\.6 MiB in flight, a buffer needs about 7\.2 MiB/);
    t.match(send?.fix, /net\.ipv4\.tcp_wmem='\d+ \d+ 8388608'/);
    const fixed = await findings('--path', '300,100', '--sndbuf-server', '16M', '--cc-server', 'cubic');
    t.equal(fixed.byId('buffers.sndbuf-server')?.level, 'ok', 'a fixed buffer the service is given here');
    t.match(fixed.byId('congestion.server')?.message, /cubic is available/);
  });

  await t.test('bad flags: exit 64 with one line', async (t) => {
    for (const args of [['--path', 'nonsense'], ['--path', '300'], ['--buffer-size', 'lots'], ['--no-such-flag']]) {
      const r = await doctor(...args);
      t.equal(r.code, 64, args.join(' '));
      t.equal(r.stderr.trim().split('\n').length, 1);
      t.equal(r.stdout, '');
    }
  });

  await t.test('the rules: not installed, then installed by the lab', async (t) => {
    const before = (await findings()).byId('rules');
    t.equal(before?.level, 'info', 'no service running: the unit would install them');
    t.match(before?.message, /are not installed/);
    t.equal(before?.fix, `tcp-intercept rules install --interface ${lab.clientIf}`);
    await lab.intercept();
    const after = (await findings()).byId('rules');
    t.equal(after?.level, 'ok');
    t.match(after?.message, /are installed/);
  });
});
