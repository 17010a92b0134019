// The metric names a PromQL expression reads, for checking dashboards and alert rules against what
// the program exports. Not a parser: it removes what cannot be a metric name (strings, label
// matchers, ranges, label lists of by/without/on/ignoring/group_*), then keeps the identifiers
// that are not followed by '(' (functions, aggregations) and are not keywords.

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);
const LABEL_LIST = /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g;

export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/label_values\(\s*([^,)]+)\s*,[^)]*\)/g, '$1') // Grafana's variable query: its metric
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(LABEL_LIST, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/\$?[A-Za-z_:][\w:]*|\d[\w.]*/g)) {
    const token = m[0];
    const after = bare.slice(m.index + token.length);
    if (/^[\d$]/.test(token) || /^\s*\(/.test(after) || KEYWORDS.has(token.toLowerCase())) continue;
    names.add(token);
  }
  return [...names].sort();
}

/** Every series name a Prometheus exposition offers: each family of its TYPE lines, with the
 *  _bucket, _sum and _count series of histograms and summaries. */
export function exposedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    names.add(name);
    if (type === 'histogram') names.add(`${name}_bucket`);
    if (type === 'histogram' || type === 'summary') names.add(`${name}_sum`).add(`${name}_count`);
  }
  return names;
}
