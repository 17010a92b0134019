// The policy routing that delivers marked packets to the local stack: one `ip rule` per family
// (added once, however often install runs) and a `local` default route in our own table.
import type { Exec } from './exec.js';
import { hex, type RuleOptions } from './rule-options.js';

/** ip's family flag and the whole address space of each family. */
export const ROUTE_FAMILIES = [['-4', '0.0.0.0/0'], ['-6', '::/0']] as const;

async function ruleCount(exec: Exec, family: string, o: RuleOptions): Promise<number> {
  const r = await exec.query('ip', [family, '-j', 'rule', 'show']);
  const rules = r.code === 0 ? (JSON.parse(r.stdout || '[]') as Array<Record<string, string>>) : [];
  return rules.filter((x) => x.fwmark === hex(o.fwmark) && x.fwmask === hex(o.fwmark) && x.table === String(o.table)).length;
}

export async function installRouting(exec: Exec, o: RuleOptions): Promise<void> {
  for (const [family, any] of ROUTE_FAMILIES) {
    if ((await ruleCount(exec, family, o)) === 0) {
      await exec.change('ip', [family, 'rule', 'add', 'fwmark', `${hex(o.fwmark)}/${hex(o.fwmark)}`, 'lookup', String(o.table)]);
    }
    await exec.change('ip', [family, 'route', 'replace', 'local', any, 'dev', 'lo', 'table', String(o.table)]);
  }
}

export async function removeRouting(exec: Exec, o: RuleOptions): Promise<void> {
  for (const [family, any] of ROUTE_FAMILIES) {
    for (let n = await ruleCount(exec, family, o); n > 0; n--) {
      await exec.undo('ip', [family, 'rule', 'del', 'fwmark', `${hex(o.fwmark)}/${hex(o.fwmark)}`, 'lookup', String(o.table)]);
    }
    await exec.undo('ip', [family, 'route', 'del', 'local', any, 'dev', 'lo', 'table', String(o.table)]);
  }
}

export async function routingStatus(exec: Exec, o: RuleOptions): Promise<string[]> {
  const lines: string[] = [];
  for (const [family, any] of ROUTE_FAMILIES) {
    const rules = await ruleCount(exec, family, o);
    const routes = await exec.query('ip', [family, 'route', 'show', 'table', String(o.table)]);
    const local = routes.code === 0 && /^local (default|0\.0\.0\.0\/0|::\/0) dev lo/m.test(routes.stdout);
    lines.push(`ip ${family} rule fwmark ${hex(o.fwmark)} lookup ${o.table}: ${rules ? 'present' : 'absent'}`);
    lines.push(`ip ${family} route local ${any} table ${o.table}: ${local ? 'present' : 'absent'}`);
  }
  return lines;
}
