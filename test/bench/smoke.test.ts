// The benchmark suite keeps working: one short round of every phase, figures for every subject.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('../..', import.meta.url));

t.test('npm run bench, one short round', async (t) => {
  const deps = spawnSync('bash', ['bench/ensure-bench-deps.sh'], { cwd: root, encoding: 'utf8' });
  t.equal(deps.status, 0, `bench dependencies (${deps.stderr.trim()})`);
  const results = mkdtempSync(join(tmpdir(), 'ti-bench-'));
  t.teardown(() => rmSync(results, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, ['dist/bench/run.js'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, BENCH_ROUNDS: '1', BENCH_SECONDS: '1', BENCH_IDLE: '300', BENCH_RESULTS: results },
  });
  t.equal(r.status, 0, `exit 0 (${r.stderr.slice(-500)})`);
  const table = readFileSync(join(results, 'latest.md'), 'utf8');
  for (const metric of ['bulk 1 stream client->server', 'bulk 4 streams server->client', 'CPU per GB relayed', 'connections/s', '1-byte round trip p50', 'idle cost: fds per held connection']) {
    t.match(table, metric, `reports ${metric}`);
  }
  const json = JSON.parse(readFileSync(join(results, readdirSync(results).find((f) => f.endsWith('.json')) ?? ''), 'utf8')) as { rows: Array<{ metric: string; values: Record<string, number[]> }> };
  const bulk = json.rows.find((row) => row.metric === 'bulk 1 stream client->server');
  t.ok((bulk?.values['tcp-intercept']?.[0] ?? 0) > 0 && (bulk?.values.plain?.[0] ?? 0) > 0, 'measured both plain forwarding and tcp-intercept');
  const fds = json.rows.find((row) => row.metric === 'idle cost: fds per held connection');
  t.equal(fds?.values['tcp-intercept']?.[0], 2, 'an idle intercepted connection holds exactly 2 fds');
  t.match(readFileSync(join(results, 'latest.svg'), 'utf8'), /^<svg /, 'an SVG chart');
});
