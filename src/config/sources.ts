// Option values from the command line, TCP_INTERCEPT_* variables, the configuration file and the
// defaults, in that order of precedence. Each value keeps a label of where it came from, so that
// a later validation error can point at the exact flag, variable or file line.
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../errors.js';

export type OptionKind = 'string' | 'boolean' | 'list';
export interface OptionSpec {
  key: string;
  kind: OptionKind;
  default?: string | boolean | string[];
}
export type OptionValue = string | boolean | string[];
export interface SourcedValue {
  value: OptionValue;
  source: string;
}
export type SourcedOptions = Map<string, SourcedValue>;

export const ENV_PREFIX = 'TCP_INTERCEPT_';

/** 'buffer-size' -> 'TCP_INTERCEPT_BUFFER_SIZE' */
export function envName(key: string): string {
  return ENV_PREFIX + key.toUpperCase().replaceAll('-', '_');
}

const CONFIG_KEY = 'config';
/** The environment variable naming the configuration file. */
export const CONFIG_VAR = envName(CONFIG_KEY);

/**
 * Reads the config file. <explicit>: the path given with --config (null when none). When it is
 * null, <defaultPath> is used if it exists and silently skipped if it does not. An explicit path
 * that cannot be read is a ConfigError naming the path and the reason.
 */
export function readConfigFile(explicit: string | null, defaultPath: string): { path: string; text: string } | null {
  const path = explicit ?? defaultPath;
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (explicit === null && e.code === 'ENOENT') return null;
    // Node appends the syscall and often the path ("ENOENT: no such file or directory, open '/x'"); keep the reason.
    throw new ConfigError(`${path}: cannot read the configuration file: ${e.message.replace(/, \w+(?: '.*')?$/s, '')}`);
  }
}

/**
 * <cli>: only the options the user actually typed, by kebab key (values: string, boolean, or
 * string[] for 'list' kinds). <env>: the process environment. <file>: what readConfigFile gave.
 * <known>: options of other commands too, passed over in the environment and the file rather than
 * refused as unknown (a subcommand shares them with the service).
 */
export function mergeSources(
  specs: readonly OptionSpec[],
  cli: Readonly<Record<string, OptionValue>>,
  env: NodeJS.ProcessEnv,
  file: { path: string; text: string } | null,
  known: readonly OptionSpec[] = specs,
): SourcedOptions {
  // Both are read in full even where the command line overrides them, so a mistake never goes unnoticed.
  const all = [...specs, ...known.filter((k) => !specs.some((s) => s.key === k.key))];
  const fromFile = file ? fileValues(all, file) : new Map<string, SourcedValue>();
  const fromEnv = envValues(all, env);
  const merged: SourcedOptions = new Map();
  for (const { key, default: fallback } of specs) {
    const typed = cli[key];
    const chosen =
      typed !== undefined
        ? { value: typed, source: `--${key}` }
        : (fromEnv.get(key) ??
          fromFile.get(key) ??
          (fallback !== undefined ? { value: Array.isArray(fallback) ? [...fallback] : fallback, source: 'default' } : undefined));
    if (chosen) merged.set(key, chosen);
  }
  return merged;
}

const ENV_BOOLEANS = new Map([
  ['1', true], ['true', true], ['yes', true], ['on', true],
  ['0', false], ['false', false], ['no', false], ['off', false],
]);

function envValues(specs: readonly OptionSpec[], env: NodeJS.ProcessEnv): Map<string, SourcedValue> {
  const byName = new Map(specs.map((spec) => [envName(spec.key), spec]));
  const values = new Map<string, SourcedValue>();
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_VAR || raw === undefined) continue;
    const spec = byName.get(name);
    if (!spec) {
      const hint = closest(name, [...byName.keys(), CONFIG_VAR]);
      throw new ConfigError(`environment: unknown variable ${name}${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
    values.set(spec.key, { value: envValue(spec.kind, name, raw), source: name });
  }
  return values;
}

function envValue(kind: OptionKind, name: string, raw: string): OptionValue {
  if (kind === 'boolean') {
    const value = ENV_BOOLEANS.get(raw.toLowerCase());
    if (value === undefined) throw new ConfigError(`${name}: expected true or false, got '${oneLine(raw)}'`);
    return value;
  }
  if (kind === 'list') return raw.split(/[\s,]+/).filter((part) => part !== '');
  if (raw === '') throw new ConfigError(`${name}: empty value`);
  return raw;
}

function fileValues(specs: readonly OptionSpec[], file: { path: string; text: string }): Map<string, SourcedValue> {
  const lineCounter = new LineCounter();
  // Without pretty errors the message is yaml's bare reason; the line comes from the line counter.
  const doc = parseDocument(file.text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => `${file.path}:${lineCounter.linePos(offset).line}`;
  const [error] = doc.errors;
  if (error) throw new ConfigError(`${at(error.pos[0])}: ${error.message.split('\n')[0]}`);

  const values = new Map<string, SourcedValue>();
  const top = doc.contents;
  if (top === null || (isScalar(top) && top.value === null)) return values; // empty, comments only, or a bare '---'
  if (!isMap(top)) throw new ConfigError(`${file.path}: the configuration must be a mapping of option names to values`);

  const byKey = new Map(specs.filter((spec) => spec.key !== CONFIG_KEY).map((spec) => [spec.key, spec]));
  for (const { key, value } of top.items) {
    const name = isScalar(key) && typeof key.value === 'string' ? key.value : written(key, file.text);
    const where = at(key.range[0]);
    if (name === CONFIG_KEY) throw new ConfigError(`${where}: '${CONFIG_KEY}' cannot be set inside the configuration file`);
    const spec = byKey.get(name);
    if (!spec) {
      const hint = closest(name, byKey.keys());
      throw new ConfigError(`${where}: unknown option '${oneLine(name)}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    const source = `${where}: ${name}`;
    values.set(name, { value: fileValue(spec.kind, resolve(value, doc), doc, file.text, source), source });
  }
  return values;
}

function fileValue(kind: OptionKind, node: unknown, doc: Document.Parsed, text: string, source: string): OptionValue {
  if (kind === 'boolean') {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    throw new ConfigError(`${source}: expected true or false, got ${written(node, text)}`);
  }
  if (kind === 'string') {
    const value = scalarText(node);
    if (value === undefined) throw new ConfigError(`${source}: expected a single value`);
    return value;
  }
  const items = (isSeq(node) ? node.items : [node]).map((item) => scalarText(resolve(item, doc)));
  if (items.some((item) => item === undefined)) throw new ConfigError(`${source}: expected a value or a list of values`);
  return items as string[];
}

function resolve(node: unknown, doc: Document.Parsed): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** A non-null scalar as text; numbers (and other non-strings) as written, so 0x10 stays 0x10. */
function scalarText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null) return undefined;
  return typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
}

/** How a value appears in the file, kept to one line for an error message. */
function written(node: unknown, text: string): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  const source = isScalar(node) && node.range ? text.slice(node.range[0], node.range[1]).trim() : '';
  return source === '' ? 'nothing' : oneLine(source);
}

function oneLine(text: string): string {
  return text.replace(/\r?\n|\r/g, '\\n');
}

/** The candidate nearest to <word>, if it is within two edits (a likely typo rather than another option). */
function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
}
