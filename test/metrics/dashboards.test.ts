// The Grafana dashboard and the Prometheus alert rules under etc/: promtool accepts the rules and
// their unit tests, each alert is tested firing and not firing (and its tests go red when it can
// no longer fire), every dashboard expression parses, and every metric and label value either file
// reads is one that a running proxy with snoop exports.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { parse, stringify } from 'yaml';
import { addon, type CloseReason } from '../../src/native/addon.js';
import { resultLabel } from '../../src/metrics/proxy-metrics.js';
import { proxyLab } from '../helpers/proxy-lab.js';
import { exposedNames, metricNames } from '../helpers/promql-names.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RULES = join(root, 'etc/prometheus/tcp-intercept.rules.yml');
const RULES_TEST = join(root, 'etc/prometheus/tcp-intercept.rules.test.yml');
const DASHBOARD = join(root, 'etc/grafana/tcp-intercept.json');
const METRICS = '127.0.0.1:9471';
/** Series Prometheus adds to every target itself. */
const SCRAPE_SERIES = new Set(['up']);
/** Labels Prometheus attaches to every series of a target, and the dashboard's variable. */
const TARGET_LABELS = new Set(['job', 'instance']);

interface Rule { alert: string; expr: string; for?: string }
interface RuleFile { groups: Array<{ name: string; rules: Rule[] }> }
interface RuleTests { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }> }
interface Target { expr?: string }
interface Panel { type: string; title: string; targets?: Target[]; panels?: Panel[] }
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
  __inputs: Array<{ name: string; pluginId: string }>;
}

const rules = parse(readFileSync(RULES, 'utf8')) as RuleFile;
const alerts = rules.groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const panelExprs = panels.flatMap((p) => (p.targets ?? []).map((target) => target.expr ?? ''));
const variableQueries = dashboard.templating.list.flatMap((v) => (v.type === 'query' && v.query ? [typeof v.query === 'string' ? v.query : v.query.query] : []));

/** label=value pairs the expressions match on: each alternative of a =~ regex is one. */
function matchedLabelValues(exprs: string[]): Array<{ label: string; value: string }> {
  const pairs = exprs.flatMap((e) => [...e.matchAll(/(\w+)\s*(=~|=)\s*"([^"]*)"/g)]);
  return pairs
    .filter(([, label]) => !TARGET_LABELS.has(label))
    .flatMap(([, label, op, value]) => (op === '=~' ? value.split('|') : [value]).map((v) => ({ label, value: v })));
}

function promtool(args: string[]): { code: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'ti-dash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('the name extractor keeps metric names only', async (t) => {
  const expr = 'sum by (leg) (rate(a_total{x="b}", y=~"$v"}[$__rate_interval] offset 1h)) / on (instance) group_left sum(b) > bool 1e-3 and absent(up{job="j"}) unless c';
  t.same(metricNames(expr), ['a_total', 'b', 'c', 'up']);
  t.same(metricNames('label_values(d_info{job="j"}, instance)'), ['d_info'], "a Grafana variable's query");
});

t.test('promtool check rules accepts the alert rules', async (t) => {
  const r = promtool(['check', 'rules', RULES]);
  t.equal(r.code, 0, r.output);
  t.ok(alerts.length > 0 && alerts.every((a) => a.alert && a.expr), `${alerts.length} alerts, each with an expression`);
});

t.test('promtool test rules passes the unit tests', async (t) => {
  const r = promtool(['test', 'rules', RULES_TEST]);
  t.comment(r.output);
  t.equal(r.code, 0, 'promtool test rules');
});

t.test('each alert is tested firing and not firing, with labels and annotations', async (t) => {
  const tests = (parse(readFileSync(RULES_TEST, 'utf8')) as RuleTests).tests.flatMap((x) => x.alert_rule_test ?? []);
  for (const { alert } of alerts) {
    const mine = tests.filter((x) => x.alertname === alert);
    t.ok(mine.some((x) => (x.exp_alerts ?? []).length > 0), `${alert}: an evaluation where it fires`);
    t.ok(mine.some((x) => (x.exp_alerts ?? []).length === 0), `${alert}: an evaluation where it does not`);
  }
});

t.test('an alert that can no longer fire turns its unit tests red', async (t) => {
  for (const { alert } of alerts) {
    const dir = tempDir(t);
    const broken = structuredClone(rules);
    for (const rule of broken.groups.flatMap((g) => g.rules)) if (rule.alert === alert) rule.expr = 'vector(0) == 1';
    writeFileSync(join(dir, 'tcp-intercept.rules.yml'), stringify(broken));
    copyFileSync(RULES_TEST, join(dir, 'tcp-intercept.rules.test.yml'));
    const r = promtool(['test', 'rules', join(dir, 'tcp-intercept.rules.test.yml')]);
    t.not(r.code, 0, `${alert} never firing fails promtool test rules`);
  }
});

t.test('the dashboard: a Prometheus data source input, an instance variable, panels whose PromQL parses', async (t) => {
  t.match(dashboard.__inputs, [{ name: 'DS_PROMETHEUS', pluginId: 'prometheus' }], 'the data source is chosen at import');
  t.ok(dashboard.templating.list.some((v) => v.name === 'instance'), 'an instance variable');
  const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
  t.same(rows, ['Connections', 'Bytes', 'Legs, by congestion control', 'Resources', 'Packet pipeline', 'Snoop', 'Trace'], 'the rows');
  for (const p of panels) t.ok((p.targets ?? []).length > 0 && p.targets?.every((x) => x.expr), `${p.title}: targets with expr`);
  // Grafana's variables as Prometheus would receive them, each expression as a recording rule.
  const dir = tempDir(t);
  const asRules = panelExprs.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*') }));
  writeFileSync(join(dir, 'exprs.yml'), stringify({ groups: [{ name: 'dashboard', rules: asRules }] }));
  const r = promtool(['check', 'rules', join(dir, 'exprs.yml')]);
  t.equal(r.code, 0, `all ${panelExprs.length} expressions parse: ${r.output}`);
});

t.test('every metric the dashboard and the rules read, a proxy with snoop exports', async (t) => {
  const used = new Set([...panelExprs, ...variableQueries, ...alerts.map((a) => a.expr)].flatMap(metricNames));
  t.ok(used.has('tcp_intercept_snoop_cache_bytes') && used.has('tcp_intercept_leg_rtt_seconds_bucket') && used.has('process_max_fds'), `names found in the expressions (${used.size})`);

  const env = await proxyLab(t, 'dash', 29);
  const { lab } = env;
  await env.serve(7001);
  await env.startProxy(['--snoop-interface', lab.clientIf, '--metrics', METRICS]);
  t.teardown(() => env.stopProxy());
  const s = await env.xfer(lab.server.v4, 7001, ['--bytes', '16m', '--back', '16m']);
  t.equal(s.ok, 1, 'one connection through the proxy');
  await env.waitForCloses(1);
  const exposition = await lab.run('router', 'curl', ['-sS', '--fail', `http://${METRICS}/metrics`]);
  const exported = exposedNames(exposition);
  const missing = [...used].filter((name) => !exported.has(name) && !SCRAPE_SERIES.has(name)).sort();
  t.same(missing, [], `not exported: ${missing.join(', ') || 'none'}`);

  // A result appears once a connection ends that way; the others' values are exported from the start.
  const results = new Set((addon().closeReasons as readonly CloseReason[]).map(resultLabel));
  const unknown = matchedLabelValues([...panelExprs, ...alerts.map((a) => a.expr)])
    .filter(({ label, value }) => (label === 'result' ? !results.has(value) : !exposition.includes(`${label}="${value}"`)))
    .map(({ label, value }) => `${label}="${value}"`);
  t.same(unknown, [], `label values matched that the proxy never exports: ${unknown.join(', ') || 'none'}`);
});
