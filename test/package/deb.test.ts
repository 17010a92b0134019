// The Debian package: builds offline, is lintian-clean, installs its files, conffiles, user and
// unit, runs as the service user with only CAP_NET_ADMIN and CAP_NET_RAW against the lab with
// real traffic, and purges without a trace.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Lab } from '../lab/lab.js';
import { ProxyLab, waitServed } from '../helpers/proxy-lab.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const sh = (cmd: string, opts: { cwd?: string } = {}) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8', ...opts });

const skip = has('dpkg-buildpackage') && has('dh')
  ? false
  : 'dpkg-buildpackage or debhelper is not installed here: the package test needs them (test/ensure-deps.sh installs them on Debian)';

t.test('Debian package', { skip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ti-deb-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // Whatever happens, the package does not stay installed.
  t.teardown(() => void sh('dpkg -s tcp-intercept >/dev/null 2>&1 && dpkg --purge tcp-intercept'));

  const PATHS = [
    '/usr/sbin/tcp-intercept',
    '/usr/lib/tcp-intercept/dist/src/cli/main.js',
    '/usr/lib/tcp-intercept/build/Release/tcp_intercept.node',
    '/usr/lib/tcp-intercept/node_modules/yargs/package.json',
    '/lib/systemd/system/tcp-intercept.service',
    '/usr/lib/sysusers.d/tcp-intercept.conf',
    '/usr/lib/sysctl.d/60-tcp-intercept.conf',
    '/etc/default/tcp-intercept',
    '/etc/tcp-intercept/tcp-intercept.yaml',
    '/etc/logrotate.d/tcp-intercept',
    '/usr/share/man/man8/tcp-intercept.8.gz',
    '/usr/share/tcp-intercept/grafana/tcp-intercept.json',
    '/usr/share/tcp-intercept/prometheus/tcp-intercept.rules.yml',
    '/usr/share/tcp-intercept/prometheus/tcp-intercept.rules.test.yml',
  ];

  t.test('builds offline and is lintian-clean', async (t) => {
    const copy = sh(`mkdir -p ${work}/src && tar --exclude=./.git --exclude=./build --exclude=./dist --exclude=./.tap --exclude=./bench/build --exclude='./bench/results/*.json' -cf - . | tar -xf - -C ${work}/src`, { cwd: root });
    t.equal(copy.status, 0, 'copied the checkout');
    const build = spawnSync('dpkg-buildpackage', ['-us', '-uc', '-b'], { cwd: `${work}/src`, encoding: 'utf8', env: { ...process.env, http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' } });
    t.equal(build.status, 0, `dpkg-buildpackage -us -uc -b, with any network access pointed nowhere${build.status ? `:\n${build.stdout.slice(-2000)}${build.stderr.slice(-2000)}` : ''}`);
    const deb = readdirSync(work).find((f) => /^tcp-intercept_.*\.deb$/.test(f));
    t.ok(deb, `built ${deb}`);
    const contents = sh(`dpkg-deb -c ${work}/${deb}`);
    t.equal(contents.status, 0, 'dpkg-deb -c lists the package');
    t.match(contents.stdout, /\/usr\/lib\/tcp-intercept\/dist\/src\/cli\/main\.js$/m, 'the listing has the shipped code');
    for (const f of ['grafana/tcp-intercept.json', 'prometheus/tcp-intercept.rules.yml', 'prometheus/tcp-intercept.rules.test.yml']) {
      t.match(contents.stdout, new RegExp(`^-rw-r--r-- .* \\./usr/share/tcp-intercept/${f.replaceAll('.', '\\.')}$`, 'm'), `the listing has ${f}, mode 0644`);
    }
    const labFiles = contents.stdout.split('\n').filter((l) => /\/(lab|netns|tcp-peer|demo)(\/|\.[jt]s|$)/.test(l));
    t.same(labFiles, [], 'the package carries no lab code (lab, netns, tcp-peer, demo)');
    const lintian = sh(`lintian ${work}/${deb}`);
    const tags = lintian.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
    t.same(tags, [], 'lintian: no errors and no warnings (overrides carry their reasons)');
    t.comment(`lintian: ${lintian.stdout.trim() || 'no output'}`);
  });

  t.test('installs its files, conffiles, user and unit', async (t) => {
    const deb = readdirSync(work).find((f) => /^tcp-intercept_.*\.deb$/.test(f));
    const install = sh(`dpkg -i ${work}/${deb}`);
    t.equal(install.status, 0, `dpkg -i ${install.status ? install.stderr : ''}`);
    for (const path of PATHS) t.ok(existsSync(path), path);
    const rules = sh('promtool test rules /usr/share/tcp-intercept/prometheus/tcp-intercept.rules.test.yml');
    t.equal(rules.status, 0, `the installed alert rules pass their unit tests where they are: ${rules.stdout}${rules.stderr}`);
    const conffiles = execFileSync('dpkg-query', ['-W', '-f=${Conffiles}', 'tcp-intercept'], { encoding: 'utf8' });
    for (const f of ['/etc/default/tcp-intercept', '/etc/tcp-intercept/tcp-intercept.yaml', '/etc/logrotate.d/tcp-intercept']) {
      t.match(conffiles, f, `conffile ${f}`);
    }
    t.match(sh('getent passwd _tcp-intercept').stdout, /^_tcp-intercept:x:\d+:\d+:[^:]*:\/nonexistent:\/usr\/sbin\/nologin$/m, 'system user _tcp-intercept');
    const verify = sh('systemd-analyze verify /lib/systemd/system/tcp-intercept.service');
    t.equal(verify.status, 0, `systemd-analyze verify ${verify.stderr}`);
    const unit = readFileSync('/lib/systemd/system/tcp-intercept.service', 'utf8');
    t.match(unit, /^Type=notify$/m);
    t.match(unit, /^AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW$/m);
    t.match(unit, /^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW$/m);
    t.match(unit, /^ExecStartPost=\/usr\/sbin\/tcp-intercept rules install \$RULES_OPTS --service-options=\$\{DAEMON_OPTS\}$/m);
    t.match(unit, /^ExecStartPre=-\+\/usr\/lib\/systemd\/systemd-sysctl \/usr\/lib\/sysctl\.d\/60-tcp-intercept\.conf$/m, 'the unit applies the package sysctls outside its sandbox');
    t.match(readFileSync('/usr/lib/sysctl.d/60-tcp-intercept.conf', 'utf8'), /^net\.ipv4\.ip_early_demux = 0$/m);
    t.match(unit, /^ExecStop=\/usr\/sbin\/tcp-intercept rules drain/m);
    t.match(unit, /^ExecStopPost=\/usr\/sbin\/tcp-intercept rules remove/m);
    t.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    t.match(unit, /^RuntimeDirectory=tcp-intercept$/m, 'systemd makes /run/tcp-intercept for the control socket');
    t.match(unit, /^RuntimeDirectoryMode=0750$/m, 'which the service group may enter, and no one else');
    t.match(sh('/usr/sbin/tcp-intercept --version').stdout, /^tcp-intercept \d/, 'the installed binary runs');
    t.match(sh('man -P cat tcp-intercept 2>/dev/null || zcat /usr/share/man/man8/tcp-intercept.8.gz').stdout, /bind-listen/, 'the man page lists the options');
  });

  t.test('the installed binary, as the service user with two capabilities, relays real traffic', async (t) => {
    const lab = await Lab.create({ tag: 'pkg', id: 15 });
    t.teardown(() => lab.destroy());
    const caps = '+net_admin,+net_raw';
    const asService = ['setpriv', '--reuid=_tcp-intercept', '--regid=_tcp-intercept', '--init-groups', `--inh-caps=-all,${caps}`, `--ambient-caps=-all,${caps}`, `--bounding-set=-all,${caps}`, '--no-new-privs'];
    const rules = await lab.exec('router', asService[0], [...asService.slice(1), '/usr/sbin/tcp-intercept', 'rules', 'install', '--interface', lab.clientIf]);
    t.equal(rules.code, 0, `rules install as _tcp-intercept: ${rules.stdout}${rules.stderr}`);
    const env = new ProxyLab(lab);
    const server = await env.serve(7001);
    // What RuntimeDirectory= makes: the service's own directory, mode 0750; --control-socket auto finds it.
    const runDir = mkdtempSync(join(tmpdir(), 'ti-deb-run-'));
    t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
    t.equal(sh(`chown _tcp-intercept:_tcp-intercept ${runDir} && chmod 0750 ${runDir}`).status, 0, 'a runtime directory');
    const proxy = lab.spawn('router', asService[0], [...asService.slice(1), '/usr/sbin/tcp-intercept', '--log-format', 'json'], { env: { ...process.env, RUNTIME_DIRECTORY: runDir } });
    env.proxy = proxy;
    await proxy.waitForOutput(/listening on/);
    t.match(sh(`stat -c '%a %U %G' ${runDir}/control.sock`).stdout, /^660 _tcp-intercept _tcp-intercept$/m, "the control socket: mode 0660, the service user's and group's");
    t.match(sh(`/usr/sbin/tcp-intercept status --control-socket ${runDir}/control.sock`).stdout, /^ {2}proxy: relaying on /m, 'root asks the service its status');
    const status = readFileSync(`/proc/${proxy.child.pid}/status`, 'utf8');
    const uid = Number(sh('id -u _tcp-intercept').stdout.trim());
    t.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'), 'runs as _tcp-intercept');
    t.match(status, /^CapEff:\s+0000000000003000$/m, 'effective capabilities: CAP_NET_ADMIN and CAP_NET_RAW only');
    t.match(status, /^CapBnd:\s+0000000000003000$/m, 'and nothing more can be gained');
    const s = await env.xfer(lab.server.v4, 7001, ['--bytes', '8m', '--back', '8m']);
    t.equal(s.ok, 1, '8 MiB each way, byte-exact');
    const [conn] = await waitServed(server, 1);
    t.equal(conn.remote, lab.client.v4, "the server sees the client's address");
    t.ok(env.closeLogs().length === 1, 'relayed by the installed proxy');
    proxy.kill('SIGTERM');
    t.equal((await proxy.exited).code, 0);
    const removed = await lab.exec('router', asService[0], [...asService.slice(1), '/usr/sbin/tcp-intercept', 'rules', 'remove']);
    t.equal(removed.code, 0, 'rules remove as _tcp-intercept');
    t.notMatch(await lab.run('router', 'nft', ['list', 'tables']), /tcp-intercept/, 'no table left');
  });

  t.test('purge leaves nothing behind', async (t) => {
    t.equal(sh('dpkg --purge tcp-intercept').status, 0, 'dpkg --purge');
    for (const path of [...PATHS, '/usr/lib/tcp-intercept', '/etc/tcp-intercept', '/var/log/tcp-intercept']) {
      t.notOk(existsSync(path), `${path} is gone`);
    }
    t.match(sh('dpkg-query -W -f=\'${Status}\' tcp-intercept 2>&1').stdout, /not-installed|no packages found/, 'dpkg knows it as not installed');
  });
});
