// The NFQUEUE benchmark keeps working: one short round, a table row with figures for every
// configuration and direction, the drop counters reported, and the lab torn down afterwards.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CONFIGS = ['no queue', 'queue', 'queue, F_GSO', 'queue, batch 1'];
const DIRECTIONS = ['client->server', 'server->client'];

/** The leading number of a cell: "3.27", "297.9k" or "1431 [1400-1500]". */
function num(cell: string | undefined): number {
  const m = /^(-?[\d.]+)(k?)/.exec(cell?.trim() ?? '');
  return m ? Number(m[1]) * (m[2] ? 1000 : 1) : NaN;
}

t.test('node dist/bench/nfq.js, one short round', async (t) => {
  const results = mkdtempSync(join(tmpdir(), 'ti-bench-nfq-'));
  t.teardown(() => rmSync(results, { recursive: true, force: true }));
  const started = Date.now();
  const r = spawnSync(process.execPath, ['dist/bench/nfq.js'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, BENCH_ROUNDS: '1', BENCH_SECONDS: '1', BENCH_RESULTS: results },
  });
  t.comment(`benchmark took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.equal(r.status, 0, `exit 0 (${r.stderr.slice(-500)})`);

  const table = readFileSync(join(results, 'nfq-latest.md'), 'utf8');
  const lines = table.split('\n').filter((l) => l.startsWith('| '));
  const header = (lines[0] ?? '').split('|').map((c) => c.trim());
  const col = (name: string): number => header.findIndex((c) => c.startsWith(name));
  for (const name of ['Gbit/s', 'vs no queue', 'queued packets/s', 'mean packet', 'CPU-s/GB', 'kernel drops', 'ENOBUFS', 'target']) {
    t.ok(col(name) > 0, `a column for ${name}`);
  }
  const rows = new Map(lines.slice(1).map((l) => {
    const cells = l.split('|').map((c) => c.trim());
    return [`${cells[1]}|${cells[2]}`, cells] as const;
  }));
  const meanPacket: Record<string, number> = {};
  for (const config of CONFIGS) {
    for (const dir of DIRECTIONS) {
      const cells = rows.get(`${config}|${dir}`);
      if (!t.ok(cells, `a row for ${config} ${dir}`) || !cells) continue;
      t.ok(num(cells[col('Gbit/s')]) > 0, `${config} ${dir}: Gbit/s measured (${cells[col('Gbit/s')]})`);
      if (config === 'no queue') continue;
      for (const name of ['vs no queue', 'queued packets/s', 'mean packet', 'packets per receive', 'CPU-s/GB']) {
        t.ok(num(cells[col(name)]) > 0, `${config} ${dir}: ${name} measured (${cells[col(name)]})`);
      }
      t.match(cells[col('kernel drops')], /^\d+ \/ \d+$/, `${config} ${dir}: kernel drops reported`);
      t.match(cells[col('ENOBUFS')], /^\d+$/, `${config} ${dir}: ENOBUFS reported`);
      meanPacket[`${config}|${dir}`] = num(cells[col('mean packet')]);
    }
    if (config === 'queue, batch 1') {
      t.equal(num(rows.get(`${config}|client->server`)?.[col('packets per receive')]), 1, 'batch 1 receives one packet at a time');
    }
  }
  t.ok(meanPacket['queue, F_GSO|client->server'] > 1500, 'with F_GSO the queue sees packets larger than the MTU');
  t.ok(meanPacket['queue|client->server'] <= 1500, 'without F_GSO the queue sees packets of at most the MTU');
  t.match(table, /target/, 'the targets are stated');

  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  t.notMatch(left, new RegExp(`ti-bnfq-${r.pid}-`), 'the benchmark lab is gone');
});
