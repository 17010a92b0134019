// docs/errors.md lists every error code the program can throw, with its exit status.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ERROR_CODES } from '../src/errors.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = readFileSync(join(root, 'docs/errors.md'), 'utf8');
const rows = new Map([...page.matchAll(/^\| (TI_ERR_[A-Z_]+) \| ([^|]+) \|/gm)].map((m) => [m[1], m[2].trim()]));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

t.test('every code in the table is on the page with its exit status', async (t) => {
  for (const [code, exit] of Object.entries(ERROR_CODES)) {
    t.ok(rows.has(code), `${code} is listed`);
    if (code === 'TI_ERR_WORKER_START') t.match(rows.get(code), /worker's own/);
    else t.equal(rows.get(code), String(exit), `${code} exits ${exit}`);
  }
  t.same([...rows.keys()].filter((code) => !(code in ERROR_CODES)), [], 'the page lists no code the program lacks');
});

t.test('every code the sources name is in the table', async (t) => {
  const named = new Set(sources(join(root, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/TI_ERR_[A-Z_]+/g)].map((m) => m[0])));
  t.ok(named.size >= Object.keys(ERROR_CODES).length, `${named.size} codes named`);
  for (const code of named) t.ok(code in ERROR_CODES, `${code} is in ERROR_CODES`);
});
