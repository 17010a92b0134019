// Option sources: precedence (command line, environment, file, default), source labels, and the
// exact one-line errors for bad files and TCP_INTERCEPT_* variables.
import fs from 'node:fs';
import os from 'node:os';
import t, { type Test } from 'tap';
import { ConfigError } from '../../src/errors.js';
import {
  ENV_PREFIX,
  envName,
  mergeSources,
  readConfigFile,
  type OptionSpec,
  type OptionValue,
  type SourcedValue,
} from '../../src/config/sources.js';

const SPECS: readonly OptionSpec[] = [
  { key: 'bind-listen', kind: 'list', default: ['[::]:5000'] },
  { key: 'buffer-size', kind: 'string', default: '1M' },
  { key: 'tcp-nodelay', kind: 'boolean', default: false },
  { key: 'cc', kind: 'string' },
  { key: 'log-level', kind: 'string', default: 'info' },
  { key: 'mark', kind: 'string' },
];
const PATH = '/etc/tcp-intercept/tcp-intercept.yaml';

const DEFAULTS = {
  'bind-listen': { value: ['[::]:5000'], source: 'default' },
  'buffer-size': { value: '1M', source: 'default' },
  'tcp-nodelay': { value: false, source: 'default' },
  'log-level': { value: 'info', source: 'default' },
};

function merge(cli: Record<string, OptionValue>, env: NodeJS.ProcessEnv, text: string | null): Record<string, SourcedValue> {
  return Object.fromEntries(mergeSources(SPECS, cli, env, text === null ? null : { path: PATH, text }));
}
const fromFile = (text: string) => merge({}, {}, text);
const fromEnv = (env: NodeJS.ProcessEnv) => merge({}, env, null);

/** The message of the ConfigError that <fn> throws; fails the test if it throws nothing or something else. */
function configError(t: Test, fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    t.type(err, ConfigError);
    t.equal((err as ConfigError).code, 'TI_ERR_CONFIG');
    t.notMatch((err as Error).message, /\n/, 'one line');
    return (err as Error).message;
  }
  t.fail('expected a ConfigError');
  return '';
}
const fileError = (t: Test, text: string) => configError(t, () => fromFile(text));
const envError = (t: Test, env: NodeJS.ProcessEnv) => configError(t, () => fromEnv(env));

void t.test('envName', async (t) => {
  t.equal(ENV_PREFIX, 'TCP_INTERCEPT_');
  t.equal(envName('buffer-size'), 'TCP_INTERCEPT_BUFFER_SIZE');
  t.equal(envName('cc'), 'TCP_INTERCEPT_CC');
  t.equal(envName('bind-listen-v6-only'), 'TCP_INTERCEPT_BIND_LISTEN_V6_ONLY');
});

void t.test('precedence', async (t) => {
  t.test('defaults only; an option with no default is absent', async (t) => {
    t.strictSame(merge({}, {}, null), DEFAULTS);
  });

  t.test('every combination of sources for one key', async (t) => {
    const file = '# tuning\n\nbuffer-size: 4M\n';
    const cases: Array<[cli: boolean, env: boolean, file: boolean, expected: SourcedValue]> = [
      [false, false, false, { value: '1M', source: 'default' }],
      [false, false, true, { value: '4M', source: `${PATH}:3: buffer-size` }],
      [false, true, false, { value: '2M', source: 'TCP_INTERCEPT_BUFFER_SIZE' }],
      [false, true, true, { value: '2M', source: 'TCP_INTERCEPT_BUFFER_SIZE' }],
      [true, false, false, { value: '8M', source: '--buffer-size' }],
      [true, false, true, { value: '8M', source: '--buffer-size' }],
      [true, true, false, { value: '8M', source: '--buffer-size' }],
      [true, true, true, { value: '8M', source: '--buffer-size' }],
    ];
    for (const [cli, env, inFile, expected] of cases) {
      const got = merge(
        cli ? { 'buffer-size': '8M' } : {},
        env ? { TCP_INTERCEPT_BUFFER_SIZE: '2M' } : {},
        inFile ? file : null,
      );
      t.strictSame(got['buffer-size'], expected, `cli=${cli} env=${env} file=${inFile}`);
    }
  });

  t.test('each key is decided on its own, with file line numbers', async (t) => {
    const file = [
      '# tcp-intercept configuration', // 1
      'buffer-size: 4M', // 2
      'log-level: debug', // 3
      '', // 4
      'cc: bbr', // 5
      'tcp-nodelay: true', // 6
      'bind-listen:', // 7
      "  - '[::1]:6000'", // 8
    ].join('\n');
    const got = merge(
      { 'buffer-size': '8M', 'tcp-nodelay': false },
      { TCP_INTERCEPT_BUFFER_SIZE: '2M', TCP_INTERCEPT_LOG_LEVEL: 'warn', TCP_INTERCEPT_MARK: '7', PATH: '/usr/bin' },
      file,
    );
    t.strictSame(got, {
      'bind-listen': { value: ['[::1]:6000'], source: `${PATH}:7: bind-listen` },
      'buffer-size': { value: '8M', source: '--buffer-size' },
      // A false from the command line still overrides the file's true.
      'tcp-nodelay': { value: false, source: '--tcp-nodelay' },
      cc: { value: 'bbr', source: `${PATH}:5: cc` },
      'log-level': { value: 'warn', source: 'TCP_INTERCEPT_LOG_LEVEL' },
      mark: { value: '7', source: 'TCP_INTERCEPT_MARK' },
    });
  });

  t.test('lists are never merged across sources', async (t) => {
    const file = "bind-listen: ['10.0.0.1:1', '10.0.0.2:2']\n";
    t.strictSame(merge({}, {}, file)['bind-listen'], {
      value: ['10.0.0.1:1', '10.0.0.2:2'],
      source: `${PATH}:1: bind-listen`,
    });
    t.strictSame(merge({}, { TCP_INTERCEPT_BIND_LISTEN: '10.0.0.3:3' }, file)['bind-listen'], {
      value: ['10.0.0.3:3'],
      source: 'TCP_INTERCEPT_BIND_LISTEN',
    });
    t.strictSame(merge({ 'bind-listen': ['10.0.0.4:4'] }, { TCP_INTERCEPT_BIND_LISTEN: '10.0.0.3:3' }, file)['bind-listen'], {
      value: ['10.0.0.4:4'],
      source: '--bind-listen',
    });
  });

  t.test('a default list is copied, so changing a result does not change the spec', async (t) => {
    (merge({}, {}, null)['bind-listen'].value as string[]).push('x');
    t.strictSame(merge({}, {}, null)['bind-listen'].value, ['[::]:5000']);
  });
});

void t.test('configuration file', async (t) => {
  t.test('empty, comment-only and bare-document files give no values', async (t) => {
    t.strictSame(fromFile(''), DEFAULTS);
    t.strictSame(fromFile('# nothing set here\n\n   # still nothing\n'), DEFAULTS);
    t.strictSame(fromFile('---\n'), DEFAULTS);
  });

  t.test('the top level must be a mapping', async (t) => {
    const message = `${PATH}: the configuration must be a mapping of option names to values`;
    t.equal(fileError(t, '- buffer-size\n- cc\n'), message);
    t.equal(fileError(t, 'buffer-size\n'), message);
  });

  t.test('syntax errors give the line and yaml first message line', async (t) => {
    t.equal(fileError(t, 'buffer-size: 1M\ncc: bbr: cubic\n'), `${PATH}:2: Nested mappings are not allowed in compact mappings`);
    t.equal(fileError(t, 'log-level: info\n\ncc: "bbr\n'), `${PATH}:4: Missing closing "quote`);
  });

  t.test('duplicate keys', async (t) => {
    t.equal(fileError(t, 'cc: bbr\nlog-level: info\ncc: cubic\n'), `${PATH}:3: Map keys must be unique`);
  });

  t.test('unknown keys, with a suggestion only when close', async (t) => {
    t.equal(
      fileError(t, 'log-level: info\nbufer-size: 1M\n'),
      `${PATH}:2: unknown option 'bufer-size' (did you mean 'buffer-size'?)`,
    );
    // Two edits away: still suggested.
    t.equal(fileError(t, 'bufer-siz: 1M\n'), `${PATH}:1: unknown option 'bufer-siz' (did you mean 'buffer-size'?)`);
    // Three edits away: no suggestion.
    t.equal(fileError(t, 'bufe-siz: 1M\n'), `${PATH}:1: unknown option 'bufe-siz'`);
    t.equal(fileError(t, '\ncolour: blue\n'), `${PATH}:2: unknown option 'colour'`);
    // Keys are the kebab-case long names only.
    t.equal(fileError(t, 'buffer_size: 1M\n'), `${PATH}:1: unknown option 'buffer_size' (did you mean 'buffer-size'?)`);
  });

  t.test("'config' cannot be set in the file", async (t) => {
    t.equal(
      fileError(t, 'cc: bbr\nconfig: /etc/other.yaml\n'),
      `${PATH}:2: 'config' cannot be set inside the configuration file`,
    );
  });

  t.test('boolean options take YAML booleans only', async (t) => {
    t.strictSame(fromFile('tcp-nodelay: true\n')['tcp-nodelay'], { value: true, source: `${PATH}:1: tcp-nodelay` });
    t.strictSame(fromFile('tcp-nodelay: false\n')['tcp-nodelay'], { value: false, source: `${PATH}:1: tcp-nodelay` });
    const bad = `${PATH}:1: tcp-nodelay: expected true or false, got`;
    t.equal(fileError(t, 'tcp-nodelay: yes\n'), `${bad} yes`);
    t.equal(fileError(t, 'tcp-nodelay: "true" # quoted\n'), `${bad} "true"`);
    t.equal(fileError(t, 'tcp-nodelay: 1\n'), `${bad} 1`);
    t.equal(fileError(t, 'tcp-nodelay:\n'), `${bad} nothing`);
    t.equal(fileError(t, 'tcp-nodelay: [true]\n'), `${bad} a list`);
    t.equal(fileError(t, 'tcp-nodelay:\n  on: true\n'), `${bad} a mapping`);
    t.equal(fileError(t, 'tcp-nodelay: |\n  yes\n  no\n'), `${bad} |\\n  yes\\n  no`);
  });

  t.test('string options take one scalar; numbers are kept as written', async (t) => {
    const got = fromFile('mark: 0x10\nbuffer-size: 1M\nlog-level: 1.50\ncc: "bbr"\n');
    t.strictSame(got.mark, { value: '0x10', source: `${PATH}:1: mark` });
    t.strictSame(got['buffer-size'], { value: '1M', source: `${PATH}:2: buffer-size` });
    t.strictSame(got['log-level'], { value: '1.50', source: `${PATH}:3: log-level` });
    t.strictSame(got.cc, { value: 'bbr', source: `${PATH}:4: cc` });
    t.strictSame(fromFile('buffer-size: 1048576\n')['buffer-size'].value, '1048576');
  });

  t.test('string options reject null, mappings and lists', async (t) => {
    t.equal(fileError(t, 'buffer-size:\n  value: 1M\n'), `${PATH}:1: buffer-size: expected a single value`);
    t.equal(fileError(t, 'cc: [bbr, cubic]\n'), `${PATH}:1: cc: expected a single value`);
    t.equal(fileError(t, 'log-level: info\ncc: ~\n'), `${PATH}:2: cc: expected a single value`);
    t.equal(fileError(t, 'cc: null\n'), `${PATH}:1: cc: expected a single value`);
    t.equal(fileError(t, 'cc:\n'), `${PATH}:1: cc: expected a single value`);
  });

  t.test('list options take a scalar or a sequence of scalars', async (t) => {
    t.strictSame(fromFile('bind-listen: 127.0.0.1:5001\n')['bind-listen'], {
      value: ['127.0.0.1:5001'],
      source: `${PATH}:1: bind-listen`,
    });
    t.strictSame(fromFile("# listeners\nbind-listen:\n  - '[::1]:5002'\n  - 127.0.0.1:5003\n  - 5004\n")['bind-listen'], {
      value: ['[::1]:5002', '127.0.0.1:5003', '5004'],
      source: `${PATH}:2: bind-listen`,
    });
    t.strictSame(fromFile('bind-listen: []\n')['bind-listen'].value, []);
    const bad = `${PATH}:1: bind-listen: expected a value or a list of values`;
    t.equal(fileError(t, 'bind-listen:\n'), bad);
    t.equal(fileError(t, 'bind-listen:\n  address: 127.0.0.1:5001\n'), bad);
    t.equal(fileError(t, 'bind-listen:\n  - 127.0.0.1:5001\n  - [127.0.0.1:5002]\n'), bad);
    t.equal(fileError(t, 'bind-listen:\n  - 127.0.0.1:5001\n  -\n'), bad);
  });

  t.test('aliases are followed', async (t) => {
    const got = fromFile('cc: &cc bbr\nmark: *cc\nbind-listen: [*cc, x]\n');
    t.strictSame(got.mark, { value: 'bbr', source: `${PATH}:2: mark` });
    t.strictSame(got['bind-listen'].value, ['bbr', 'x']);
  });
});

void t.test('environment', async (t) => {
  t.test('variables without the prefix are ignored; TCP_INTERCEPT_CONFIG is left to the caller', async (t) => {
    t.strictSame(
      fromEnv({ PATH: '/usr/bin', tcp_intercept_cc: 'bbr', TCP_INTERCEPTOR: 'x', TCP_INTERCEPT_CONFIG: '/tmp/x.yaml' }),
      DEFAULTS,
    );
    t.strictSame(fromEnv({ TCP_INTERCEPT_CC: undefined }), DEFAULTS);
  });

  t.test('unknown variables, with a suggestion only when close', async (t) => {
    t.equal(
      envError(t, { TCP_INTERCEPT_BUFER_SIZE: '1M' }),
      'environment: unknown variable TCP_INTERCEPT_BUFER_SIZE (did you mean TCP_INTERCEPT_BUFFER_SIZE?)',
    );
    t.equal(
      envError(t, { TCP_INTERCEPT_CONFG: '/x' }),
      'environment: unknown variable TCP_INTERCEPT_CONFG (did you mean TCP_INTERCEPT_CONFIG?)',
    );
    t.equal(envError(t, { TCP_INTERCEPT_COLOUR: 'blue' }), 'environment: unknown variable TCP_INTERCEPT_COLOUR');
  });

  t.test('booleans in every accepted spelling', async (t) => {
    const spellings: Array<[string, boolean]> = [
      ['1', true], ['true', true], ['TRUE', true], ['yes', true], ['Yes', true], ['on', true], ['ON', true],
      ['0', false], ['false', false], ['False', false], ['no', false], ['NO', false], ['off', false], ['Off', false],
    ];
    for (const [text, value] of spellings) {
      t.strictSame(fromEnv({ TCP_INTERCEPT_TCP_NODELAY: text })['tcp-nodelay'], { value, source: 'TCP_INTERCEPT_TCP_NODELAY' }, text);
    }
    t.equal(envError(t, { TCP_INTERCEPT_TCP_NODELAY: 'maybe' }), "TCP_INTERCEPT_TCP_NODELAY: expected true or false, got 'maybe'");
    t.equal(envError(t, { TCP_INTERCEPT_TCP_NODELAY: '2' }), "TCP_INTERCEPT_TCP_NODELAY: expected true or false, got '2'");
    t.equal(envError(t, { TCP_INTERCEPT_TCP_NODELAY: '' }), "TCP_INTERCEPT_TCP_NODELAY: expected true or false, got ''");
    t.equal(envError(t, { TCP_INTERCEPT_TCP_NODELAY: 'y\nes' }), "TCP_INTERCEPT_TCP_NODELAY: expected true or false, got 'y\\nes'");
  });

  t.test('lists split on commas and whitespace', async (t) => {
    t.strictSame(fromEnv({ TCP_INTERCEPT_BIND_LISTEN: ' 10.0.0.1:80, [::1]:81 ,,\t127.0.0.1:82\n10.0.0.2:83 ' })['bind-listen'], {
      value: ['10.0.0.1:80', '[::1]:81', '127.0.0.1:82', '10.0.0.2:83'],
      source: 'TCP_INTERCEPT_BIND_LISTEN',
    });
    t.strictSame(fromEnv({ TCP_INTERCEPT_BIND_LISTEN: '[::]:6000' })['bind-listen'].value, ['[::]:6000']);
  });

  t.test('strings are taken as is', async (t) => {
    t.strictSame(fromEnv({ TCP_INTERCEPT_CC: 'bbr' }).cc, { value: 'bbr', source: 'TCP_INTERCEPT_CC' });
    t.strictSame(fromEnv({ TCP_INTERCEPT_LOG_LEVEL: ' debug, x ' })['log-level'].value, ' debug, x ');
  });

  t.test('empty values', async (t) => {
    t.equal(envError(t, { TCP_INTERCEPT_CC: '' }), 'TCP_INTERCEPT_CC: empty value');
    // An empty list is a value: no listener (packet components only).
    t.same(mergeSources(SPECS, {}, { TCP_INTERCEPT_BIND_LISTEN: ' , \t,' }, null).get('bind-listen'), { value: [], source: 'TCP_INTERCEPT_BIND_LISTEN' });
  });

  t.test('a bad variable is an error even when the command line sets the option', async (t) => {
    t.equal(
      configError(t, () => merge({ 'tcp-nodelay': true }, { TCP_INTERCEPT_TCP_NODELAY: 'maybe' }, null)),
      "TCP_INTERCEPT_TCP_NODELAY: expected true or false, got 'maybe'",
    );
  });
});

void t.test('readConfigFile', async (t) => {
  const dir = fs.mkdtempSync(os.tmpdir() + '/ti-cfg-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const present = `${dir}/present.yaml`;
  const other = `${dir}/other.yaml`;
  const missing = `${dir}/missing.yaml`;
  fs.writeFileSync(present, 'cc: bbr\n');
  fs.writeFileSync(other, 'cc: cubic\n');

  t.test('an explicit path that is missing or unreadable is an error naming it', async (t) => {
    t.equal(
      configError(t, () => readConfigFile(missing, present)),
      `${missing}: cannot read the configuration file: ENOENT: no such file or directory`,
    );
    t.equal(
      configError(t, () => readConfigFile(dir, present)),
      `${dir}: cannot read the configuration file: EISDIR: illegal operation on a directory`,
    );
  });

  t.test('an explicit path is read, and the default is not used', async (t) => {
    t.strictSame(readConfigFile(other, present), { path: other, text: 'cc: cubic\n' });
  });

  t.test('a missing default path is skipped', async (t) => {
    t.equal(readConfigFile(null, missing), null);
  });

  t.test('a present default path is read', async (t) => {
    t.strictSame(readConfigFile(null, present), { path: present, text: 'cc: bbr\n' });
  });

  t.test('a default path that exists but cannot be read is an error', async (t) => {
    t.equal(
      configError(t, () => readConfigFile(null, dir)),
      `${dir}: cannot read the configuration file: EISDIR: illegal operation on a directory`,
    );
  });

  t.test('what it reads feeds mergeSources', async (t) => {
    const file = readConfigFile(null, present);
    t.strictSame(mergeSources(SPECS, {}, {}, file).get('cc'), { value: 'bbr', source: `${present}:1: cc` });
  });
});
