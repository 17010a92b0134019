// The snoop keys of the service: defaults from SNOOP_DEFAULTS, the same key from the file, a
// TCP_INTERCEPT_* variable and the command line (in that rising order of precedence), and bad
// values as one-line errors naming where they came from (64 from a flag, 78 from a file or variable).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadServiceOptions } from '../../src/config/load-options.js';
import type { OptionValue } from '../../src/config/sources.js';
import { TiError } from '../../src/errors.js';
import { SNOOP_DEFAULTS } from '../../src/snoop/snoop-settings.js';

const probes = { probeCongestion: () => null, probeMptcp: () => null };
const dir = mkdtempSync(join(tmpdir(), 'ti-snoop-config-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'tcp-intercept.yaml');

function load(yaml: string, env: NodeJS.ProcessEnv = {}, cli: Record<string, OptionValue> = {}) {
  writeFileSync(file, yaml);
  return loadServiceOptions(cli, file, env, probes).options;
}

/** The one-line TiError that loading throws, with its exit status. */
function refused(t: Test, yaml: string, env: NodeJS.ProcessEnv = {}, cli: Record<string, OptionValue> = {}): { message: string; exit: number } {
  try {
    load(yaml, env, cli);
  } catch (err) {
    t.type(err, TiError);
    t.notMatch((err as Error).message, /\n/, 'one line');
    return { message: (err as Error).message, exit: (err as TiError).exitCode };
  }
  t.fail('expected a TiError');
  return { message: '', exit: 0 };
}

t.test('no snoop-interface: no snoop, the proxy alone', async (t) => {
  const o = load('');
  t.equal(o.snoop, null);
  t.ok(o.proxy);
});

t.test('a snoop-interface alone: the defaults of the contract, queue 16', async (t) => {
  const o = load('snoop-interface: wlan0\n');
  t.same(o.snoop, { settings: { interfaces: ['wlan0'], ...SNOOP_DEFAULTS }, queue: { first: 16, last: 16 }, maxLen: 65536 });
  t.ok(o.proxy, 'beside the proxy');
});

t.test('snoop without a proxy runs; neither is nothing to run', async (t) => {
  const o = load('bind-listen: []\nsnoop-interface: [wlan0, wlan1]\nqueue: "20:23"\nqueue-maxlen: 4096\n');
  t.equal(o.proxy, null);
  t.same(o.snoop?.settings.interfaces, ['wlan0', 'wlan1']);
  t.same(o.snoop?.queue, { first: 20, last: 23 });
  t.equal(o.snoop?.maxLen, 4096);
  const r = refused(t, 'bind-listen: []\n');
  t.match(r.message, /bind-listen: no listen address, no --snoop-interface and no --trace: nothing to run/);
  t.equal(r.exit, 78);
});

t.test('file, environment and command line: the command line wins, then the environment', async (t) => {
  const yaml = [
    'snoop-interface: wlan0',
    'snoop-cache-size: 128M',
    'snoop-flow-cache: 2M',
    'snoop-min-rto: 40',
    'snoop-max-retransmits: 5',
  ].join('\n') + '\n';
  t.same(load(yaml).snoop?.settings, { interfaces: ['wlan0'], cacheBytes: 128 << 20, flowCacheBytes: 2 << 20, minRtoMs: 40, maxRetransmits: 5 }, 'the file');
  const env = { TCP_INTERCEPT_SNOOP_INTERFACE: 'wlan1, wlan2', TCP_INTERCEPT_SNOOP_MIN_RTO: '30', TCP_INTERCEPT_SNOOP_CACHE_SIZE: '1G' };
  t.same(load(yaml, env).snoop?.settings, { interfaces: ['wlan1', 'wlan2'], cacheBytes: 1 << 30, flowCacheBytes: 2 << 20, minRtoMs: 30, maxRetransmits: 5 }, 'the environment over the file');
  const cli = { 'snoop-interface': ['wlan3'], 'snoop-min-rto': '25', 'snoop-flow-cache': '512k' };
  t.same(load(yaml, env, cli).snoop?.settings, { interfaces: ['wlan3'], cacheBytes: 1 << 30, flowCacheBytes: 512 << 10, minRtoMs: 25, maxRetransmits: 5 }, 'the command line over both');
});

t.test('bad values: one line naming the flag (64), the file line or the variable (78)', async (t) => {
  const cases: Array<[yaml: string, env: NodeJS.ProcessEnv, cli: Record<string, OptionValue>, message: RegExp, exit: number]> = [
    ['snoop-interface: wlan0\nsnoop-min-rto: 0\n', {}, {}, /tcp-intercept\.yaml:2: snoop-min-rto: '0' is not a whole number from 1 to 10000/, 78],
    ['snoop-interface: wlan0\n', { TCP_INTERCEPT_SNOOP_MAX_RETRANSMITS: '99' }, {}, /^TCP_INTERCEPT_SNOOP_MAX_RETRANSMITS: '99' is not a whole number from 0 to 20/, 78],
    ['snoop-interface: wlan0\n', {}, { 'snoop-cache-size': 'lots' }, /^--snoop-cache-size: 'lots' is not a size/, 64],
    ['snoop-interface: wlan0\nsnoop-flow-cache: 128M\n', {}, {}, /yaml:2: snoop-flow-cache: the per-flow cache \(128M\) is larger than the whole cache \(64M\)/, 78],
    ['snoop-interface: "wl an0"\n', {}, {}, /yaml:1: snoop-interface: 'wl an0' is not a Linux interface name/, 78],
    ['snoop-interface: [wlan0, wlan0]\n', {}, {}, /snoop-interface: wlan0 is given twice/, 78],
    ['', { TCP_INTERCEPT_SNOOP_INTERFACE: 'eth0:1' }, {}, /^TCP_INTERCEPT_SNOOP_INTERFACE: 'eth0:1' is not a Linux interface name/, 78],
    ['snoop-min-rto: 30\n', {}, {}, /yaml:1: snoop-min-rto: needs --snoop-interface/, 78],
    ['queue-maxlen: 10\n', {}, {}, /yaml:1: queue-maxlen: needs --snoop-interface/, 78],
    ['snoop-interface: wlan0\n', {}, { queue: '1:x' }, /^--queue: 'x' is not a whole number from 0 to 65535/, 64],
    ['snoop-interface: {a: b}\n', {}, {}, /yaml:1: snoop-interface: expected a value or a list of values/, 78],
  ];
  for (const [yaml, env, cli, message, exit] of cases) {
    const r = refused(t, yaml, env, cli);
    t.match(r.message, message);
    t.equal(r.exit, exit, `exit ${exit}: ${r.message}`);
  }
});
