// One warning, the first time pipes come out smaller than buffer-size: the user's pipe quota is
// used up (the kernel then makes 8 KiB pipes), and every connection served so is slower.
import type { Logger } from '../log/logger.js';
import type { EngineStats } from '../native/addon.js';

const CHECK_EVERY_MS = 1000;

export function watchUndersizedPipes(stats: () => EngineStats | null, log: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    const s = stats();
    if (!s || s.pipesUndersized === 0) return;
    clearInterval(timer);
    log.warn(`pipes come out smaller than buffer-size (${s.pipesUndersized} so far, ${s.pipesInUse + s.pipesIdle} pipes of ${s.pipeBytesInUse + s.pipeBytesIdle} bytes held): the user's pipe quota (fs.pipe-user-pages-soft) is used up, and connections relay through small pipes. Raise the quota, lower --buffer-size or --workers, or grant CAP_SYS_RESOURCE; see tcp_intercept_pipes_undersized_total`);
  }, CHECK_EVERY_MS);
  return timer.unref();
}
