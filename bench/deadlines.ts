// `node dist/bench/deadlines.js [count] [spacingMs]`: how late DeadlineScheduler fires on this
// machine: `count` deadlines (default 1000) `spacingMs` apart (default 5), all scheduled at the start
// in shuffled order. Prints the median, p99 and max lateness and the scheduler's own histogram.
import { DeadlineScheduler } from '../src/pipeline/deadlines.js';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function main(): void {
  const count = Number(process.argv[2] ?? 1000), spacing = Number(process.argv[3] ?? 5);
  const late: number[] = [];
  const scheduler = new DeadlineScheduler<number>({
    onDue: (_, ms) => {
      late.push(ms);
      if (late.length < count) return;
      const sorted = late.slice().sort((a, b) => a - b);
      const f = (ms: number) => ms.toFixed(3);
      console.log(`${count} deadlines ${spacing} ms apart: lateness p50 ${f(quantile(sorted, 0.5))} ms, ` +
        `p99 ${f(quantile(sorted, 0.99))} ms, max ${f(sorted[sorted.length - 1])} ms, min ${f(sorted[0])} ms`);
      console.log(JSON.stringify(scheduler.lateness()));
    },
  });
  const start = performance.now() + 10;
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const i of order) scheduler.schedule(start + i * spacing, i);
}

main();
