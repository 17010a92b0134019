// The service's continuous trace (--trace) with a stage that answers from a script: destinations
// traced in turn, each trace written to --trace-log, a changed route logged and counted, the
// rules following the destinations being traced, and nothing left when it stops.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Registry } from 'prom-client';
import { TraceComponent } from '../../src/trace/trace-component.js';
import type { TraceRequest } from '../../src/trace/trace-engine.js';
import type { TraceRecord } from '../../src/trace/trace-records.js';
import type { TraceStage } from '../../src/trace/trace-stage.js';
import type { Logger } from '../../src/log/logger.js';

const DEST = '198.51.100.7';

/** A stage whose traces of DEST find these paths, one per request. */
function scriptedStage(paths: string[][]): { stage: TraceStage; requests: number } {
  const state = { requests: 0 };
  const stage = {
    request(r: TraceRequest): () => void {
      const path = paths[Math.min(state.requests++, paths.length - 1)];
      setImmediate(() => {
        path.forEach((address, i) => r.onRecord({
          type: 'hop', flow: 'f', ttl: i + 1, address, kind: i === path.length - 1 ? 'destination' : 'router', rttMs: [1], sent: 3, answered: 3,
          lossPct: 0, quotedTtl: 1, replyTtl: 60, mpls: [], nat: false, others: [], at: null,
        }));
        r.onRecord({ type: 'done', destination: r.destinationText, flow: 'f', path: 'forward', reached: true, reason: 'reached', hops: path.length, probes: 24, elapsedMs: 5, startedAt: new Date().toISOString() });
      });
      return () => undefined;
    },
  };
  return { stage: stage as unknown as TraceStage, get requests() { return state.requests; } };
}

t.test('traced in turn, logged as JSON lines, a route change counted; rules follow', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ti-trace-component-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'trace.jsonl');
  const scripted = scriptedStage([['10.0.0.1', '10.0.1.1', DEST], ['10.0.0.1', '10.0.9.9', DEST]]);
  const ruleSets: string[][] = [];
  const lines: string[] = [];
  const logger = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), debug: () => undefined, error: () => undefined } as unknown as Logger;
  const trace = new TraceComponent(
    { continuous: true, destinations: [DEST], intervalMs: 0, logFile: log, probesPerSecond: 100 },
    { stage: scripted.stage, queueAddresses: async (a) => { ruleSets.push(a); } },
  );
  trace.start({ logger, registry: new Registry() });
  for (let i = 0; i < 60 && trace.routeChanges === 0; i++) await new Promise((r) => setTimeout(r, 100));
  await trace.drain();
  t.ok(scripted.requests >= 2, `traced ${scripted.requests} times`);
  t.equal(trace.routeChanges, 1, 'the second path differs: one route change');
  t.match(lines.join('\n'), new RegExp(`warn trace ${DEST}: the route changed: 10.0.0.1 10.0.1.1 ${DEST} -> 10.0.0.1 10.0.9.9 ${DEST}`));
  const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceRecord);
  t.ok(records.filter((r) => r.type === 'done').length >= 2, 'every trace in the log, as JSON lines');
  t.same(ruleSets[0], [DEST], 'the rules take the destination while it is traced');
  t.same(ruleSets[ruleSets.length - 1], [], 'and let it go after');
  t.match(trace.status(), /1 route changes/);
});
