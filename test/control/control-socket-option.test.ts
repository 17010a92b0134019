// --control-socket: a path, off, or auto (systemd's runtime directory for the service, the
// packaged path for a client); its mistakes name where the value came from.
import t from 'tap';
import { controlSocketPath, runtimeControlSocket } from '../../src/config/control-socket.js';
import { buildHostOptions } from '../../src/config/host-options.js';
import { HOST_OPTIONS } from '../../src/config/option-table.js';
import { mergeSources } from '../../src/config/sources.js';
import { Values } from '../../src/config/values.js';

t.test('auto for the service: control.sock in the first RuntimeDirectory, else none', async (t) => {
  t.equal(runtimeControlSocket({ RUNTIME_DIRECTORY: '/run/tcp-intercept' }), '/run/tcp-intercept/control.sock');
  t.equal(runtimeControlSocket({ RUNTIME_DIRECTORY: '/run/a:/run/b' }), '/run/a/control.sock');
  t.equal(runtimeControlSocket({}), null);
  t.equal(controlSocketPath('auto', '--control-socket', '/run/x/control.sock'), '/run/x/control.sock');
  t.equal(controlSocketPath('auto', '--control-socket', null), null);
  t.equal(controlSocketPath('off', '--control-socket', '/run/x/control.sock'), null);
  t.equal(controlSocketPath('/tmp/c.sock', '--control-socket', null), '/tmp/c.sock');
});

t.test('a bad path names its source: usage from a flag, configuration from a variable', async (t) => {
  t.throws(() => controlSocketPath('rel.sock', '--control-socket', null), { code: 'TI_ERR_USAGE', message: /not an absolute path/ });
  t.throws(() => controlSocketPath('rel.sock', 'TCP_INTERCEPT_CONTROL_SOCKET', null), { code: 'TI_ERR_CONFIG', message: /^TCP_INTERCEPT_CONTROL_SOCKET: / });
  t.throws(() => controlSocketPath(`/${'x'.repeat(107)}`, '--control-socket', null), { message: /longer than a Unix socket path may be/ });
  t.equal(controlSocketPath(`/${'x'.repeat(106)}`, '--control-socket', null)?.length, 107, '107 bytes fit');
});

t.test('the host options carry it, from the environment too', async (t) => {
  const host = (env: NodeJS.ProcessEnv) => buildHostOptions(new Values(mergeSources(HOST_OPTIONS, {}, env, null)));
  t.equal(host({ TCP_INTERCEPT_CONTROL_SOCKET: '/tmp/ctl.sock' }).control, '/tmp/ctl.sock');
  t.equal(host({ TCP_INTERCEPT_CONTROL_SOCKET: 'off' }).control, null);
});
