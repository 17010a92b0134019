// The command line contract: every mistake exits 64 with one line that says what is wrong.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { TCP_INTERCEPT_BIN } from '../helpers/proxy-lab.js';

function run(args: string[]) {
  const r = spawnSync(TCP_INTERCEPT_BIN, args, { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const usageErrors: Array<[string[], RegExp]> = [
  [['--bogus-flag'], /Unknown argument: bogus-flag/],
  [['--no-such-flag'], /Unknown argument: such-flag/],
  [['extra-word'], /Unknown argument: extra-word/],
  [['-b'], /Not enough arguments following: b/],
  [['-b', '1.2.3.4'], /needs a port/],
  [['-b', 'example.com:80'], /'example\.com' is not a numeric IPv4 or IPv6 address/],
  [['-b', '1.2.3.4:99999'], /'99999' is not a port number/],
  [['-b', '[::1]:0'], /'0' is not a port number/],
  [['-b', '[::]:5000', '-b', '[::]:5000'], /given twice/],
  [['-B', 'nowhere'], /'nowhere' is not a numeric IPv4 or IPv6 address/],
  [['-B', '10.0.0.1:80'], /a fixed outgoing port cannot serve more than one connection/],
  [['--cc', 'no-such-cc'], /unknown congestion control 'no-such-cc' \(available: .*cubic/],
  [['--cc-client', 'bogus'], /--cc-client: unknown congestion control 'bogus'/],
  [['--cc-server', 'x y'], /--cc-server: 'x y' is not a congestion control name/],
  [['--buffer-size', '12 parsecs'], /--buffer-size: '12 parsecs' is not a size/],
  [['--buffer-size', '100'], /--buffer-size: '100' is not a size from 4096/],
  [['--max-connections', '-1'], /--max-connections: '-1' is not a whole number/],
  [['--connect-timeout', '0'], /--connect-timeout: '0' is not a whole number from 1/],
  [['--idle-timeout', 'soon'], /--idle-timeout: 'soon'/],
  [['--mark', '0x1ffffffff'], /--mark: '0x1ffffffff' is not a whole number from 0 to 4294967295/],
  [['--no-keepalive', '--keepalive-idle', '10'], /--keepalive-idle: needs -k\/--keepalive/],
  [['-k', '--keepalive-count', '1000'], /--keepalive-count: '1000'/],
  [['--log-level', 'loud'], /--log-level: 'loud' is not one of error, warn, info, debug/],
  [['--log-format', 'xml'], /--log-format: 'xml' is not one of text, json/],
  [['--log-level', 'debug', '--log-level', 'loud'], /--log-level: 'loud' is not one of/],   // the last value wins
  [['-b', '127.0.0.1:7101', '-b'], /Not enough arguments following: b/],
  [['-b', ''], /--bind-listen: no listen address, no --snoop-interface and no --trace: nothing to run/],
  [['--snoop-interface', 'eth0:1'], /--snoop-interface: 'eth0:1' is not a Linux interface name/],
  [['--snoop-interface', 'a-very-long-ifname'], /--snoop-interface: 'a-very-long-ifname' is not a Linux interface name/],
  [['--snoop-interface', '..'], /--snoop-interface: '\.\.' is not a Linux interface name/],
  [['--snoop-interface', 'wlan0', '--snoop-interface', 'wlan1,wlan0'], /--snoop-interface: wlan0 is given twice/],
  [['--snoop-interface', 'wlan0', '--snoop-min-rto', '0'], /--snoop-min-rto: '0' is not a whole number from 1 to 10000/],
  [['--snoop-interface', 'wlan0', '--snoop-min-rto', '10001'], /--snoop-min-rto: '10001' is not a whole number from 1 to 10000/],
  [['--snoop-interface', 'wlan0', '--snoop-min-rto', '2.5'], /--snoop-min-rto: '2\.5' is not a whole number/],
  [['--snoop-interface', 'wlan0', '--snoop-max-retransmits', '21'], /--snoop-max-retransmits: '21' is not a whole number from 0 to 20/],
  [['--snoop-interface', 'wlan0', '--snoop-max-retransmits', 'many'], /--snoop-max-retransmits: 'many' is not a whole number/],
  [['--snoop-interface', 'wlan0', '--snoop-cache-size', '12 parsecs'], /--snoop-cache-size: '12 parsecs' is not a size/],
  [['--snoop-interface', 'wlan0', '--snoop-flow-cache', '1k'], /--snoop-flow-cache: '1k' is not a size from 65536/],
  [['--snoop-interface', 'wlan0', '--snoop-flow-cache', '8M', '--snoop-cache-size', '4M'], /--snoop-flow-cache: the per-flow cache \(8M\) is larger than the whole cache \(4M\)/],
  [['--snoop-interface', 'wlan0', '--snoop-cache-size', '1M'], /--snoop-cache-size: the per-flow cache \(4M\) is larger than the whole cache \(1M\)/],
  [['--snoop-interface', 'wlan0', '--queue', '70000'], /--queue: '70000' is not a whole number from 0 to 65535/],
  [['--snoop-min-rto', '50'], /--snoop-min-rto: needs --snoop-interface/],
  [['--queue', '3'], /--queue: needs --snoop-interface/],
  [['snoop'], /snoop: --snoop-interface IF is required.*\(see 'tcp-intercept snoop --help'\)/],
  [['snoop', '--snoop-interface', 'bad/name'], /--snoop-interface: 'bad\/name' is not a Linux interface name/],
  [['snoop', '--snoop-interface', 'wlan0', '--queue', '5:3'], /--queue: '5:3' is a range whose end comes before its start/],
  [['snoop', '--snoop-interface', 'wlan0', '--queue-maxlen', '0'], /--queue-maxlen: '0' is not a whole number from 1/],
  [['snoop', '--snoop-interface', 'wlan0', '--snoop-max-retransmits', '-1'], /--snoop-max-retransmits: '-1' is not a whole number from 0 to 20/],
  [['snoop', '--snoop-interface', 'wlan0', '--workers', '2'], /Unknown argument: workers/],
  [['snoop', '--snoop-interface', 'wlan0', 'extra-word'], /Unknown argument: extra-word/],
  [['snoop', '--metrics', 'nowhere', '--snoop-interface', 'wlan0'], /--metrics: /],
  [['doctor', '--path', 'nonsense'], /--path: 'nonsense' is not RTT,RATE \(milliseconds, Mbit\/s\).*\(see 'tcp-intercept doctor --help'\)/],
  [['doctor', '--path', '300,fast'], /--path \(RATE\): 'fast' is not a number/],
  [['doctor', '--interface', 'bad/name'], /--interface: 'bad\/name' is not an interface name/],
  [['doctor', '--backend', 'pf'], /--backend: 'pf' is not one of nft, iptables/],
  [['doctor', '--sndbuf-server', 'huge'], /--sndbuf-server: 'huge' is not a size/],
  [['doctor', 'extra-word'], /Unknown argument: extra-word/],
  [['--control-socket', 'control.sock'], /--control-socket: 'control\.sock' is not an absolute path \(or 'off', 'auto'\)/],
  [['--control-socket', `/tmp/${'x'.repeat(120)}.sock`], /--control-socket: '.*' is longer than a Unix socket path may be \(107 bytes\)/],
  [['snoop', '--snoop-interface', 'wlan0', '--control-socket', '/tmp/c.sock'], /Unknown arguments?: control-socket/],
  [['status', '--control-socket', 'relative.sock'], /--control-socket: 'relative\.sock' is not an absolute path.*\(see 'tcp-intercept status --help'\)/],
  [['status', 'extra-word'], /Unknown argument: extra-word/],
  [['status', '--bogus'], /Unknown argument: bogus/],
];

for (const [args, message] of usageErrors) {
  t.test(`${args.join(' ')} is a usage error`, async (t) => {
    const r = run(args);
    t.equal(r.code, 64, 'exit status 64 (EX_USAGE)');
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.equal(r.stdout, '', 'nothing on stdout');
  });
}

t.test('-V and --version print the version', async (t) => {
  for (const flag of ['-V', '--version']) {
    const r = run([flag]);
    t.equal(r.code, 0);
    t.match(r.stdout, /^tcp-intercept \d+\.\d+\.\d+/);
  }
});

t.test('--help lists every option of the contract', async (t) => {
  const r = run(['--help']);
  t.equal(r.code, 0);
  for (const opt of [
    '-b, --bind-listen', '-B, --bind-outgoing', '-k, --keepalive', '--keepalive-idle', '--keepalive-interval',
    '--keepalive-count', '-n, --tcp-nodelay, --tcp_nodelay', '--cc ', '--cc-client', '--cc-server', '--mptcp',
    '--buffer-size', '--max-connections', '--connect-timeout', '--idle-timeout', '--mark', '--drain-timeout',
    '--control-socket', '-f, --foreground', '-p, --pid-file', '-l, --log', '--log-level', '--log-format', '-V, --version', '-h, --help',
  ]) {
    t.match(r.stdout, opt, `mentions ${opt.trim()}`);
  }
  const fds = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'))?.[1]);
  t.match(r.stdout.replace(/\s+/g, ' '), `here ${Math.floor((fds - 64 - 32) / 6)} `, 'the derived max-connections of this machine');
  t.match(r.stdout.replace(/\s+/g, ' '), /--keepalive-idle .*\[default: "300"\]/, 'the keepalive default');
});

t.test('--help shows snoop: its options, their defaults and the subcommand', async (t) => {
  const r = run(['--help']);
  t.equal(r.code, 0);
  const text = r.stdout.replace(/\s+/g, ' ');
  for (const opt of ['--snoop-interface', '--snoop-cache-size', '--snoop-flow-cache', '--snoop-min-rto', '--snoop-max-retransmits', '--queue ', '--queue-maxlen']) {
    t.match(r.stdout, opt, `mentions ${opt.trim()}`);
  }
  t.match(text, /--snoop-cache-size .*\[default: "64M"\]/, 'the cache default');
  t.match(text, /--queue .*\[default: "16"\]/, "snoop's queue default");
  t.match(text, /tcp-intercept snoop --snoop-interface IF/, 'the snoop subcommand');
});

t.test('snoop --help lists its options, with no metrics endpoint and warn by default', async (t) => {
  const r = run(['snoop', '--help']);
  t.equal(r.code, 0);
  const text = r.stdout.replace(/\s+/g, ' ');
  for (const opt of ['--snoop-interface', '--snoop-cache-size', '--snoop-flow-cache', '--snoop-min-rto', '--snoop-max-retransmits', '--queue ', '--queue-maxlen', '--metrics', '--log-level', '--config']) {
    t.match(r.stdout, opt, `mentions ${opt.trim()}`);
  }
  t.notMatch(r.stdout, /--workers|--bind-listen/, 'only its own options');
  t.match(text, /--metrics .*\[default: "off"\]/);
  t.match(text, /--log-level .*\[default: "warn"\]/);
  t.match(text, /default 16/, 'the queue it uses unless told');
});

t.test('doctor --help lists its own options and the service options it checks', async (t) => {
  const r = run(['doctor', '--help']);
  t.equal(r.code, 0);
  for (const opt of ['--path', '-i, --interface', '--json', '--backend', '--fwmark', '--table', '--config', '--cc-server', '--sndbuf-server', '--rcvbuf-client']) {
    t.match(r.stdout, opt, `mentions ${opt}`);
  }
  t.match(run(['--help']).stdout, /tcp-intercept doctor \[--path RTT,RATE\]/, 'the service help names the subcommand');
});

t.test('an unwritable log file stops startup with a clear error', async (t) => {
  const r = run(['-b', '127.0.0.1:5999', '-l', '/nonexistent-dir/x.log']);
  t.not(r.code, 0);
  t.not(r.code, 64, 'not a usage error');
  t.match(r.stderr, /-l\/--log: cannot open '\/nonexistent-dir\/x\.log'/);
});
