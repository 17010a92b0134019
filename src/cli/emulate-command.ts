// `tcp-intercept emulate`: a link emulator on an NFQUEUE queue or balanced range (this kernel may
// have no netem).
// The packets reach it through a rule the user adds; one instance per direction. Runs until
// SIGINT or SIGTERM, then releases what it holds and prints what it did. Exit status: 0 done,
// 64 usage, 69 the queue cannot be bound (busy), 71 other system errors, 77 no permission.
import yargs from 'yargs';
import { decimal, wholeNumber, wholeRange } from '../config/numbers.js';
import { Emulator } from '../emulate/emulator.js';
import { formatLinkStats, parseBurst, validateLinkSettings, type LinkSettings } from '../emulate/link-model.js';
import { seededRandom } from '../emulate/seeded-random.js';
import { argLast, failAsUsage } from './arg-values.js';
import { EX_NOPERM, EX_UNAVAILABLE, StartupError, TiError, UsageError } from '../errors.js';
import { describeQueues, type PacketQueueStats, type QueueRange } from '../nfq/queue.js';

const DAY_MS = 86_400_000;

function parse(argv: string[]) {
  return yargs(argv)
    .scriptName('tcp-intercept emulate')
    .usage('tcp-intercept emulate --queue N [--delay MS] [--jitter MS] [--loss PERCENT] [--burst P_ENTER,P_EXIT] [--rate MBIT]\n\n' +
      'Emulates a link on the packets of NFQUEUE queue N: delay with jitter (never reordering), random loss, Gilbert-Elliott burst loss, a rate limit. ' +
      'Add the rule that queues the packets yourself, one instance per direction, e.g.\n' +
      '  iptables -t mangle -A POSTROUTING -o eth1 -j NFQUEUE --queue-num 0 --queue-bypass\n' +
      'A rule with --queue-balance FIRST:LAST is served by --queue FIRST:LAST.\n' +
      'Prints what it did when stopped (SIGINT, SIGTERM).')
    .version(false)
    .option('queue', { type: 'string', describe: 'NFQUEUE queue number, or a balanced range FIRST:LAST (required)', requiresArg: true })
    .option('delay', { type: 'string', default: '0', describe: 'one-way delay, milliseconds', requiresArg: true })
    .option('jitter', { type: 'string', default: '0', describe: 'delay varies uniformly by up to ± this, milliseconds', requiresArg: true })
    .option('loss', { type: 'string', default: '0', describe: 'random loss, percent', requiresArg: true })
    .option('burst', { type: 'string', describe: 'Gilbert-Elliott burst loss: per-packet probabilities of entering and leaving the bad state (which drops every packet), e.g. 0.01,0.3 or 1%,30%', requiresArg: true })
    .option('rate', { type: 'string', describe: 'rate limit, Mbit/s', requiresArg: true })
    .option('limit', { type: 'string', default: '1000', describe: 'packets that may wait for the rate limit before tail drop', requiresArg: true })
    .option('queue-maxlen', { type: 'string', default: '65536', describe: 'packets the kernel may hold for the emulator (those in the delay line included)', requiresArg: true })
    .option('seed', { type: 'string', describe: 'seed for the random choices, to repeat a run exactly', requiresArg: true })
    .help('help')
    .alias('help', 'h')
    .strict()
    .fail((message, err) => failAsUsage(message, err))
    .parseSync();
}

function settingsFrom(args: ReturnType<typeof parse>): LinkSettings {
  const burstText = argLast(args.burst);
  let burst = null;
  if (burstText !== undefined) {
    try {
      burst = parseBurst(burstText);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const rate = argLast(args.rate);
  const settings: LinkSettings = {
    delayMs: decimal(argLast(args.delay), '--delay', 0, DAY_MS),
    jitterMs: decimal(argLast(args.jitter), '--jitter', 0, DAY_MS),
    lossPercent: decimal(argLast(args.loss), '--loss', 0, 100),
    burst,
    rateMbit: rate === undefined ? null : decimal(rate, '--rate', 0.001, 1e6),
    limit: wholeNumber(argLast(args.limit), '--limit', 1, 1 << 24),
  };
  const problem = validateLinkSettings(settings);
  if (problem) throw new UsageError(problem);
  return settings;
}

function describe(queue: QueueRange, s: LinkSettings): string {
  const parts = [`delay ${s.delayMs} ms${s.jitterMs > 0 ? ` ± ${s.jitterMs} ms` : ''}`, `loss ${s.lossPercent}%`];
  if (s.burst) parts.push(`burst enter ${s.burst.enter} exit ${s.burst.exit}`);
  if (s.rateMbit !== null) parts.push(`rate ${s.rateMbit} Mbit/s, limit ${s.limit} packets`);
  return `tcp-intercept emulate: ${describeQueues(queue)}: ${parts.join(', ')}`;
}

function queueLine(q: PacketQueueStats): string {
  const k = q.kernel;
  const kernel = k ? `, kernel dropped ${k.queueDropped} at a full queue and ${k.userDropped} at a full socket` : '';
  return `queue: ${q.packets} packets received, ${q.enobufs} ENOBUFS${kernel}`;
}

function bindError(err: unknown, queue: QueueRange): TiError {
  const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
  const message = `${describeQueues(queue)}: ${(err as Error).message}`;
  if (code === 'EPERM') return new StartupError(`${message} (needs CAP_NET_ADMIN)`, code, EX_NOPERM);
  if (code === 'EBUSY') return new StartupError(message, code, EX_UNAVAILABLE);
  return new StartupError(message, code);
}

export async function runEmulateCommand(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args._.length > 0) throw new UsageError(`emulate: unexpected argument '${String(args._[0])}'`);
  const queueText = argLast(args.queue);
  if (queueText === undefined) throw new UsageError('emulate: --queue N is required');
  const queue = wholeRange(queueText, '--queue', 0, 65535);
  const settings = settingsFrom(args);
  const maxLen = wholeNumber(argLast(args.queueMaxlen), '--queue-maxlen', 1, 1 << 24);
  const seed = argLast(args.seed);
  const random = seed === undefined ? Math.random : seededRandom(wholeNumber(seed, '--seed', 0, 0xffffffff));
  let emulator: Emulator;
  try {
    const warn = (text: string): boolean => process.stderr.write(`tcp-intercept emulate: ${text}\n`);
    emulator = new Emulator(settings, { queue, maxLen, onHandlerError: (err) => warn(String(err)) }, random, () =>
      warn('warning: packets of this host\'s own sockets are queued; while held they count against TCP Small Queues, ' +
        'which throttles those connections to a few packets per delay. Emulate on a host that only forwards.'));
  } catch (err) {
    throw bindError(err, queue);
  }
  process.stdout.write(`${describe(queue, settings)}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const { link, queue: q } = emulator.stats();
  emulator.close();
  process.stdout.write([...formatLinkStats(link), queueLine(q)].join('\n') + '\n');
  return 0;
}
