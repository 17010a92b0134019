// Random configuration files, TCP_INTERCEPT_* variables and command lines: each is either
// accepted or refused with one clear line and its exit status; nothing crashes (an exception
// that is not a TiError, or exit 70 from the binary, is a bug).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadServiceOptions } from '../../src/config/load-options.js';
import { ALL_OPTIONS, SERVICE_OPTIONS } from '../../src/config/option-table.js';
import { envName } from '../../src/config/sources.js';
import { seededRandom } from '../../src/emulate/seeded-random.js';
import { TiError } from '../../src/errors.js';
import { TCP_INTERCEPT_BIN } from '../helpers/proxy-lab.js';

const random = seededRandom(Number(process.env.FUZZ_SEED ?? 20261129));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
const probes = { probeCongestion: (name: string) => (['cubic', 'reno', 'bbr'].includes(name) ? null : 'unknown'), probeMptcp: () => null };

const KEYS = [...SERVICE_OPTIONS.map((o) => o.key), ...ALL_OPTIONS.map((o) => o.key), 'config', 'bufer-size', 'x', '', '-b', 'bind_listen'];
const VALUES = [
  '0', '1', '-1', '65535', '65536', '0x10', '1e3', '1.5', 'NaN', 'true', 'false', 'yes', '', ' ', '[::]:5000', '[::1]:0',
  '127.0.0.1:5099', '10.0.0.1', 'example.com:80', 'bbr', 'cubic', 'off', 'auto', '1M', '12 parsecs', '4294967296',
  'debug', 'json', '../etc/passwd', '\u0000', '\u00e9\u00e8', 'a'.repeat(300), '{}', '[]', '- a\n- b', '&anchor x', '*alias', '!!binary AAAA',
  '"quoted"', "'single'", '~', 'null', '::', '0:0', '5%', '%s%n',
];

function yamlValue(): string {
  switch (Math.floor(random() * 4)) {
    case 0: return pick(VALUES);
    case 1: return `[${pick(VALUES)}, ${pick(VALUES)}]`;
    case 2: return `\n  - ${pick(VALUES)}\n  - ${pick(VALUES)}`;
    default: return `{ ${pick(VALUES)}: ${pick(VALUES)} }`;
  }
}

/** Three lines in four are a service option with its default value (so that some files pass), the rest noise. */
function yamlLine(): string {
  if (random() < 0.75) {
    const o = pick(SERVICE_OPTIONS);
    if (o.default !== undefined) return `${o.key}: ${JSON.stringify(o.default)}`;
  }
  return `${pick(KEYS)}: ${yamlValue()}`;
}

function randomYaml(): string {
  const lines = Array.from({ length: 1 + Math.floor(random() * 5) }, yamlLine);
  if (random() < 0.1) lines.push(pick(['---', '...', '%YAML 1.2', '? complex', ': x', '\t- tab', 'key: [unclosed']));
  return lines.join('\n') + '\n';
}

function randomEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (let i = Math.floor(random() * 2.5); i > 0; i--) env[random() < 0.9 ? envName(pick(KEYS) || 'x') : `TCP_INTERCEPT_${pick(VALUES)}`] = pick(VALUES);
  return env;
}

t.test('2000 random files and environments: accepted, or a TiError with one line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ti-fuzz-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tcp-intercept.yaml');
  let accepted = 0, refused = 0;
  const crashes: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const yaml = randomYaml(), env = randomEnv();
    writeFileSync(file, yaml);
    try {
      loadServiceOptions({}, file, env, probes);
      accepted++;
    } catch (err) {
      if (err instanceof TiError && !err.message.includes('\n') && err.message.length > 0) refused++;
      else crashes.push(`${(err as Error).stack ?? String(err)}\n--- file:\n${yaml}--- env: ${JSON.stringify(env)}`);
    }
  }
  t.same(crashes.slice(0, 3), [], `no crash (${accepted} accepted, ${refused} refused with one line)`);
  t.ok(accepted > 0 && refused > 0, 'both outcomes were reached');
});

t.test('random command lines: exit 0, 64 or 78 with one line, never an internal error', async (t) => {
  const values = VALUES.filter((v) => !v.includes('\u0000'));   // argv cannot carry a NUL
  const FLAGS = [...new Set(ALL_OPTIONS.map((o) => `--${o.key}`)), '-b', '-B', '-k', '-n', '-p', '-l', '-f', '-V', '--bogus', '-'];
  const lines: string[][] = [];
  for (let i = 0; i < 30; i++) {
    const args = Array.from({ length: 1 + Math.floor(random() * 4) }, () => (random() < 0.6 ? pick(FLAGS) : pick(values)));
    if (random() < 0.3) args.unshift(...pick(['emulate', 'rules', 'rules install', 'rules status']).split(' '));
    lines.push(args);
  }
  for (const args of lines) {
    // In a network namespace of its own (unshare), so that a line that starts the service, binds a
    // queue or installs rules touches nothing of this machine; stopped after 3 s if it started.
    const r = spawnSync('unshare', ['--net', TCP_INTERCEPT_BIN, ...args], {
      encoding: 'utf8', timeout: 3000, killSignal: 'SIGTERM',
      env: { ...process.env, TCP_INTERCEPT_CONFIG: '/dev/null', TCP_INTERCEPT_METRICS: 'off', TCP_INTERCEPT_BIND_LISTEN: '127.0.0.1:0' },
    });
    const what = `${JSON.stringify(args)} -> ${r.status ?? r.signal}: ${r.stderr.trim().split('\n')[0] ?? ''}`;
    t.not(r.status, 70, `no internal error: ${what}`);
    if (r.status !== 0 && r.status !== null) t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${what}`);
  }
});
