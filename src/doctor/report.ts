// The findings as text (one line each, the fix indented below, a summary) or as JSON lines for
// scripts (one object per finding, then a summary object).
import type { Finding, Level } from './finding.js';

const LABELS: Record<Level, string> = { ok: 'ok  ', info: 'info', warn: 'warn', fail: 'FAIL' };
const LEVELS: Level[] = ['ok', 'info', 'warn', 'fail'];

function counts(findings: readonly Finding[]): Record<Level, number> {
  const c = { ok: 0, info: 0, warn: 0, fail: 0 };
  for (const f of findings) c[f.level]++;
  return c;
}

function verdict(c: Record<Level, number>): string {
  if (c.fail) return 'something will not work';
  if (c.warn) return 'it will work, but not as well as it could';
  return 'nothing to change';
}

export function textReport(findings: readonly Finding[]): string {
  const lines = findings.flatMap((f) => [`${LABELS[f.level]}  ${f.message}`, ...(f.fix ? [`      fix: ${f.fix}`] : [])]);
  const c = counts(findings);
  const tally = LEVELS.filter((l) => c[l]).map((l) => `${c[l]} ${l}`).join(', ');
  return [...lines, '', `${tally}: ${verdict(c)}`, ''].join('\n');
}

export function jsonReport(findings: readonly Finding[], status: number): string {
  const lines = findings.map((f) => JSON.stringify({ type: 'finding', id: f.id, level: f.level, message: f.message, fix: f.fix ?? null }));
  lines.push(JSON.stringify({ type: 'summary', ...counts(findings), status, verdict: verdict(counts(findings)) }));
  return lines.join('\n') + '\n';
}
