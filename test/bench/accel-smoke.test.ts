// The accel benchmark keeps working: its quick mode runs a tiny matrix, prints its table with a
// goodput for every variant, writes its chart, and leaves no lab behind. No timing is asserted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('../..', import.meta.url));
const LAB_ID = 33;

t.test('node dist/bench/accel.js, quick mode', async (t) => {
  const results = mkdtempSync(join(tmpdir(), 'ti-bench-accel-'));
  t.teardown(() => rmSync(results, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, ['dist/bench/accel.js'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, ACCEL_BENCH_QUICK: '1', ACCEL_BENCH_LAB_ID: `${LAB_ID}`, BENCH_RESULTS: results },
  });
  t.equal(r.status, 0, `exit 0 (${r.stderr.slice(-500)})`);
  t.match(r.stdout, /^estimated duration: \d+ min$/m, 'the estimate is printed first');
  const table = readFileSync(join(results, 'accel-latest.md'), 'utf8');
  t.equal(r.stdout.includes(table), true, 'the table is printed');
  t.match(table, /read it back from the client's socket: cubic \(asked for: cubic\)/, 'the client ran cubic, as read back');
  const header = table.split('\n').find((l) => l.startsWith('| loss | RTT |'))?.split('|').map((c) => c.trim()) ?? [];
  t.same(header.slice(3, 8), ['end-to-end cubic', 'split, server cubic', 'split, server bbr', 'split, server cubic + buffers', 'split, server bbr + buffers'], 'five variants');
  for (const rtt of [20, 100]) {
    const cells = table.split('\n').find((l) => l.startsWith(`| 1% | ${rtt} ms |`))?.split('|').map((c) => c.trim()) ?? [];
    t.ok(Number.parseFloat(cells[3]) > 0, `RTT ${rtt} ms: end-to-end goodput (${cells[3]})`);
    for (const c of cells.slice(4, 8)) t.match(c, /^[\d.]+ (\[[\d.]+-[\d.]+\] )?\([\d.]+x\)$/, `RTT ${rtt} ms: a split goodput and its ratio (${c})`);
    t.equal(cells[8], '0', `RTT ${rtt} ms: every run completed`);
  }
  t.match(table, /^## Where the split loses$/m, 'the losses are stated');
  t.match(readFileSync(join(results, 'accel-latest.svg'), 'utf8'), /^<svg [\s\S]*<polyline /, 'an SVG chart with lines');
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  t.notMatch(left, new RegExp(`ti-baccel-${r.pid}-`), 'the benchmark lab is gone');
});
