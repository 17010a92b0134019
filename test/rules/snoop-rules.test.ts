// `tcp-intercept rules` with snoop in the service's options: install adds snoop's queue rules
// (beside the TPROXY rules, or alone when the service runs no proxy), status shows them, and
// remove, with no service options (as the unit's ExecStopPost runs it), takes them out.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Lab, TCP_INTERCEPT_BIN } from '../lab/lab.js';
import { Exec } from '../../src/rules/exec.js';
import { detectQueueBackend, packetRulesStatus } from '../../src/rules/packet-rules.js';

const lab = await Lab.create({ tag: 'snooprl', id: 36 });
t.teardown(() => lab.destroy());
const dir = mkdtempSync(join(tmpdir(), 'ti-snoop-rules-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const exec = new Exec(false, lab.ns.router);
const backend = await detectQueueBackend(exec);

function config(name: string, yaml: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, yaml);
  return path;
}
const rules = (args: string[]) => lab.exec('router', TCP_INTERCEPT_BIN, ['rules', ...args]);

/** Every table and mangle rule in the router (iptables-nft keeps its built-in tables once made). */
const snapshot = async (): Promise<string> => {
  const tables = (await lab.run('router', 'nft', ['list', 'tables'])).replace(/table ip6? (mangle|filter)\n/g, '');
  const mangle = async (tool: string): Promise<string> =>
    (await lab.run('router', tool, ['-t', 'mangle', '-S'])).split('\n').filter((l) => !l.startsWith('-P ')).join('\n');
  return [tables, await mangle('iptables'), await mangle('ip6tables')].join('\n---\n');
};
/** Our queue rules as the router has them, in the syntax of the backend the kernel takes. */
const queueRules = async (): Promise<string> =>
  backend === 'nft'
    ? (await lab.exec('router', 'nft', ['list', 'table', 'inet', 'tcp-intercept-queue'])).stdout
    : (await lab.exec('router', 'iptables', ['-t', 'mangle', '-S', 'tcp-intercept-queue-fwd'])).stdout;
const pristine = await snapshot();

t.test('beside the proxy: install adds the queue rules, remove without options takes them out', async (t) => {
  const withSnoop = config('proxy-and-snoop', `snoop-interface: ${lab.clientIf}\n`);
  const install = await rules(['install', '--interface', lab.clientIf, '--config', withSnoop]);
  t.equal(install.code, 0, `install: ${install.stdout.trim()} ${install.stderr.trim()}`);
  t.match(install.stdout, new RegExp(`rules installed \\((nft|iptables), port 5000; snoop queue 16 on ${lab.clientIf}, ${backend}\\)`));
  t.ok((await packetRulesStatus(exec)).installed, 'the queue rules are installed');
  const queued = await queueRules();
  if (backend === 'nft') {
    t.match(queued, `oifname "${lab.clientIf}"`);
    t.match(queued, 'queue flags bypass to 16');
  } else {
    t.match(queued, `-o ${lab.clientIf} -p tcp -j NFQUEUE --queue-num 16 --queue-bypass`, 'data toward the lossy side');
    t.match(queued, `-i ${lab.clientIf} -p tcp -j NFQUEUE --queue-num 16 --queue-bypass`, 'ACKs from it');
  }
  t.notMatch(queued, /RELATED|related/, 'no ICMP errors: snoop has no use for them');
  t.notMatch(queued, new RegExp(lab.serverIf), 'nothing of the other side');

  const status = await rules(['status', '--config', withSnoop]);
  t.equal(status.code, 0, 'status: installed');
  t.match(status.stdout, /tcp-intercept-queue/, 'status shows the queue rules');
  t.match(status.stdout, /fwmark/, 'and the TPROXY ones');

  const remove = await rules(['remove']);
  t.equal(remove.code, 0, `remove: ${remove.stderr.trim()}`);
  t.notOk((await packetRulesStatus(exec)).installed, 'the queue rules are gone');
  t.equal(await snapshot(), pristine, 'remove leaves the firewall as it was');
  t.equal((await rules(['status', '--config', withSnoop])).code, 1, 'status: not installed');
});

t.test('snoop without a proxy: only the queue rules, no --interface needed', async (t) => {
  const snoopOnly = config('snoop-only', `bind-listen: []\nsnoop-interface: [${lab.clientIf}]\nqueue: "20:21"\n`);
  const dry = await rules(['install', '--config', snoopOnly, '--dry-run']);
  t.equal(dry.code, 0, `dry run: ${dry.stderr.trim()}`);
  t.match(dry.stdout, backend === 'nft' ? /queue flags bypass to 20-21/ : /-j NFQUEUE --queue-balance 20:21 --queue-bypass/);
  t.notMatch(dry.stdout, /tproxy|TPROXY|fwmark/, 'no diversion to a proxy that does not run');
  t.equal(await snapshot(), pristine, 'the dry run changed nothing');

  const install = await rules(['install', '--config', snoopOnly]);
  t.equal(install.code, 0, `install: ${install.stderr.trim()}`);
  t.match(install.stdout, `rules installed (snoop queues 20-21 on ${lab.clientIf}, ${backend})`);
  t.ok((await packetRulesStatus(exec)).installed);
  const status = await rules(['status', '--config', snoopOnly]);
  t.equal(status.code, 0, 'status: installed');
  t.notMatch(status.stdout, /fwmark|tproxy/i, 'status covers the queue rules only');
  t.notMatch(await snapshot(), /TPROXY|table inet tcp-intercept\n/, 'no TPROXY rule');

  t.equal((await rules(['remove'])).code, 0, 'remove');
  t.equal(await snapshot(), pristine, 'nothing is left');
});

t.test('a bad snoop value in the configuration: exit 78, nothing installed', async (t) => {
  const bad = config('bad', `snoop-interface: ${lab.clientIf}\nsnoop-max-retransmits: 50\n`);
  const r = await rules(['install', '--interface', lab.clientIf, '--config', bad]);
  t.equal(r.code, 78);
  t.match(r.stderr, /bad\.yaml:2: snoop-max-retransmits: '50' is not a whole number from 0 to 20/);
  t.equal(await snapshot(), pristine);
});
