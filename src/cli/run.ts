// Runs the proxy until SIGTERM/SIGINT (drain, then exit) with SIGHUP reopening the log file.
import { formatEndpoint } from '../config/address.js';
import type { ProxyOptions } from '../config/proxy-options.js';
import { createLogger } from '../log/logger.js';
import { addon } from '../native/addon.js';
import { Proxy } from '../proxy/proxy.js';
import { removePidFile, writePidFile } from './pid-file.js';

function describe(o: ProxyOptions): string {
  const e = o.engine;
  const bind = e.bindMode === 'fixed' ? (e.fixed4 ?? e.fixed6) : e.bindMode;
  const cc = `${e.clientLeg.cc || 'default'}/${e.serverLeg.cc || 'default'}`;
  return `bind-outgoing=${bind} cc(client/server)=${cc} nodelay=${e.clientLeg.nodelay} keepalive=${e.clientLeg.keepalive} mptcp=${e.mptcp} buffer=${e.bufferSize}`;
}

export async function runProxy(options: ProxyOptions): Promise<void> {
  const { logger, reopen } = createLogger(options.log);
  const proxy = new Proxy(options, logger, addon());
  const bound = proxy.listen();
  if (options.pidFile) writePidFile(options.pidFile);
  logger.info(`listening on ${bound.map((b) => formatEndpoint(b.host, b.port)).join(', ')} ${describe(options)}`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn(`${signal} again: resetting open connections now`);
        proxy.close();
        return;
      }
      stopping = true;
      logger.info(`${signal}: stopping`);
      void proxy.drain(options.drainTimeoutMs).then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', reopen);
  });
  if (options.pidFile) removePidFile(options.pidFile);
  logger.info('stopped');
  await new Promise<void>((resolve) => {
    logger.on('finish', resolve);
    logger.end();
  });
}
