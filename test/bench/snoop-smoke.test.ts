// The snoop benchmark keeps working: its quick mode runs, prints its table with figures with and
// without snoop, writes its chart, and leaves no lab behind.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('../..', import.meta.url));

t.test('node dist/bench/snoop.js, quick mode', async (t) => {
  const results = mkdtempSync(join(tmpdir(), 'ti-bench-snoop-'));
  t.teardown(() => rmSync(results, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, ['dist/bench/snoop.js'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, SNOOP_BENCH_QUICK: '1', BENCH_RESULTS: results },
  });
  t.equal(r.status, 0, `exit 0 (${r.stderr.slice(-500)})`);
  const table = readFileSync(join(results, 'snoop-latest.md'), 'utf8');
  t.equal(r.stdout.includes(table), true, 'the table is printed');
  const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| last-hop') && !l.startsWith('| clean'));
  const goodput = (loss: string): string[] => rows.find((l) => l.startsWith(`| ${loss} | cubic |`))?.split('|').map((c) => c.trim()) ?? [];
  for (const loss of ['none', '2% random', '2% bursts']) {
    const cells = goodput(loss);
    t.ok(Number.parseFloat(cells[3]) > 0 && Number.parseFloat(cells[4]) > 0, `${loss}: goodput without and with snoop (${cells[3]}, ${cells[4]})`);
    t.match(cells[9], /^0$/, `${loss}: every run completed`);
  }
  t.match(table, /\| no emulator \| [\d.]+ \| [\d.]+ \| [\d.]+ \| >= 1 Gbit\/s with snoop: /, 'the clean chain row');
  t.match(readFileSync(join(results, 'snoop-latest.svg'), 'utf8'), /^<svg [\s\S]*<polyline /, 'an SVG chart with lines');
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  t.notMatch(left, new RegExp(`ti-bsnoop-${r.pid}-`), 'the benchmark lab is gone');
});
