// `tcp-intercept [options]`: the service, as the .deb runs it. Its components (the proxy; the
// packet stages as they arrive) run on one host in one process, or under a --workers supervisor.
import { loadServiceOptions, type ServiceOptions } from '../config/load-options.js';
import { UsageError } from '../errors.js';
import type { Component } from '../host/component.js';
import { runHost } from '../host/run-host.js';
import { runSupervisor, WORKER_ENV } from '../host/supervisor.js';
import { addon } from '../native/addon.js';
import { ProxyComponent } from '../proxy/proxy-component.js';
import { argLast } from './arg-values.js';
import { parseServiceArgs, serviceGiven } from './service-args.js';
import { packageVersion, versionText } from './version.js';

/** In a --workers worker: no pid file, and every log line says which worker. */
function asWorker(o: ServiceOptions, worker: string | undefined): ServiceOptions {
  if (worker === undefined) return o;
  return { ...o, host: { ...o.host, workers: 1, pidFile: null, log: { ...o.host.log, worker: Number(worker) } } };
}

function components(o: ServiceOptions): Component[] {
  return o.proxy ? [new ProxyComponent(o.proxy, addon())] : [];
}

export async function runServiceCommand(argv: string[]): Promise<number> {
  const args = parseServiceArgs(argv);
  if (args.version) {
    process.stdout.write(versionText() + '\n');
    return 0;
  }
  if (args._.length > 0) throw new UsageError(`unexpected argument '${String(args._[0])}'`);
  const given = serviceGiven(args);
  const configFile = argLast(args.config) ?? null;
  const load = () => loadServiceOptions(given, configFile, process.env, addon());
  const worker = process.env[WORKER_ENV];
  const options = asWorker(load().options, worker);
  if (worker === undefined && options.host.workers > 1) {
    await runSupervisor(options.host);
    return 0;
  }
  await runHost({
    options: options.host,
    components: components(options),
    version: packageVersion(),
    reload: () => {
      const { options: o, file } = load();
      const next = asWorker(o, worker);
      return { host: next.host, parts: { proxy: next.proxy }, file };
    },
  });
  return 0;
}
