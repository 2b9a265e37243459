/**
 * Loading a config: YAML -> ${ENV} interpolation -> defaults -> schema -> each
 * kind's own checks -> durations to milliseconds. Every problem is collected (not
 * just the first) and carries the file, line, column and key path, so that
 * `homestation check-config` can list them all and `run` refuses to start.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import type { ExporterKind, InstanceBase } from '../contract.js';
import { parseDuration } from '../duration.js';
import { instanceSchema, rootSchema } from './schema.js';
import { DEFAULT_CONFIG_YAML, DEFAULT_CONFIG_SOURCE } from './default-config.js';
import { remediatorSchema, type RemediatorConfig } from '../../remediator/schema.js';
import { validateRemediator } from '../../remediator/validate.js';

export type ConfigPath = readonly (string | number)[];

export interface ConfigProblemAt {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly path: string;
  readonly message: string;
}

/** A config that cannot be used; `problems` lists every reason. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblemAt[];
  constructor(problems: readonly ConfigProblemAt[]) {
    super(`invalid configuration:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblemAt): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
  return `${where}: ${p.path || '(top level)'}: ${p.message}`;
}

/** A configured instance of a kind, with durations in milliseconds. */
export interface InstanceConfig {
  readonly kind: ExporterKind;
  readonly config: InstanceBase & Record<string, unknown>;
}

export interface Config {
  /** The file it came from, or DEFAULT_CONFIG_SOURCE. */
  readonly source: string;
  readonly server: { readonly host: string; readonly port: number };
  readonly log: { readonly level: string; readonly format: 'auto' | 'json' | 'pretty' };
  readonly shutdownTimeout: number;
  readonly instances: readonly InstanceConfig[];
  /** The remediator section, when the file has one (durations in milliseconds). */
  readonly remediator?: RemediatorConfig;
  /** The validated config with defaults applied and secrets shown as <secret>. */
  readonly redacted: unknown;
}

export interface LoadOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A config is a page or two of YAML; far past this it is the wrong file (or an attack on the parser's memory). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads and validates a config file; throws ConfigError. */
export function loadConfigFile(file: string, kinds: readonly ExporterKind[], options: LoadOptions = {}): Config {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError([{ file, path: '', message: `the file is ${size} bytes; a config is at most ${MAX_CONFIG_BYTES} bytes (is this the right file?)` }]);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([{ file, path: '', message: `cannot read the config file: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file, kinds, options);
}

/** The embedded default config, used when no --config is given. */
export function loadDefaultConfig(kinds: readonly ExporterKind[], options: LoadOptions = {}): Config {
  return parseConfig(DEFAULT_CONFIG_YAML, DEFAULT_CONFIG_SOURCE, kinds, options);
}

export function parseConfig(
  text: string,
  file: string,
  kinds: readonly ExporterKind[],
  options: LoadOptions = {},
): Config {
  const env = options.env ?? process.env;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (path: ConfigPath, message: string, atKey = false): ConfigProblemAt => {
    const offset = locate(doc, path, atKey);
    const pos = offset === undefined ? undefined : lineCounter.linePos(offset);
    return { file, line: pos?.line, column: pos?.col, path: formatPath(path), message };
  };

  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }

  if (doc.contents === null) {
    throw new ConfigError([
      { file, line: 1, column: 1, path: '', message: 'the file is empty: it configures nothing (run without --config for the embedded default config)' },
    ]);
  }
  const problems: ConfigProblemAt[] = [];
  let data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError([at([], 'the config must be a mapping of keys (server, log, exporters)')]);
  }
  const envProblemPaths = new Set<string>();
  const substituted: ConfigPath[] = [];
  data = interpolateEnv(
    data,
    [],
    env,
    (path, msg) => {
      envProblemPaths.add(formatPath(path));
      problems.push(at(path, msg));
    },
    (path) => substituted.push(path),
  );

  const schema = rootSchema(kinds);
  // `port: ${PORT:-19101}` is a string in YAML: substituted values take the schema's type.
  for (const path of substituted) coerceAt(schema, data, path);
  // Validation also fills in the schema's defaults (useDefaults).
  // Instances with schema problems skip their kind's own checks; the others get them,
  // so that one run of check-config lists every problem of the file.
  const brokenInstances = new Set<string>();
  // Validated against the sections the file has: Ajv compiles a schema into code, and
  // every kind and the remediator compiled took 144 ms and 18 MB of RSS at start-up
  // (the largest part of an idle HomeStation's peak); the kinds a file does not name
  // and, without a `remediator:` section, the remediator's schema are left out.
  // Suggestions and coercion still read the whole schema.
  const named = (data as { exporters?: unknown }).exporters;
  const present = typeof named === 'object' && named !== null && !Array.isArray(named) ? kinds.filter((k) => Object.hasOwn(named, k.name)) : [];
  const validation = rootSchema(present, { remediator: typeof data === 'object' && data !== null && Object.hasOwn(data, 'remediator') });
  for (const problem of schemaProblems(schema, data, validation)) {
    // An unset variable already explains why the value is empty.
    if (!envProblemPaths.has(formatPath(problem.path))) problems.push(at(problem.path, problem.message, problem.atKey));
    if (problem.path[0] === 'exporters' && typeof problem.path[2] === 'number') {
      brokenInstances.add(`${String(problem.path[1])}/${problem.path[2]}`);
    }
  }
  const exportersValue = (data as { exporters?: unknown }).exporters;
  if (problems.length > 0 && (typeof exportersValue !== 'object' || exportersValue === null || Array.isArray(exportersValue))) {
    throw new ConfigError(dedupe(problems));
  }

  const root = data as {
    server: { host: string; port: number };
    log: { level: string; format: 'auto' | 'json' | 'pretty' };
    shutdown_timeout: string;
    exporters: Record<string, Record<string, unknown>[] | undefined>;
  };

  const instances: InstanceConfig[] = [];
  for (const kind of kinds) {
    const listValue = root.exporters[kind.name] ?? [];
    if (!Array.isArray(listValue)) continue; // reported by the schema
    const list = listValue;
    const seen = new Map<string, number>();
    const schemaOfInstance = instanceSchema(kind);
    list.forEach((raw, index) => {
      const base: ConfigPath = ['exporters', kind.name, index];
      if (brokenInstances.has(`${kind.name}/${index}`) || typeof raw !== 'object' || raw === null) return;
      const name = raw.name as string;
      if (seen.has(name)) {
        problems.push(at([...base, 'name'], `duplicate instance name "${name}" (also at index ${seen.get(name)})`));
      }
      seen.set(name, index);
      checkSecretFiles(schemaOfInstance, raw, base, (path, msg) => problems.push(at(path, msg)));
      const config = convertDurations(schemaOfInstance, structuredClone(raw)) as InstanceBase & Record<string, unknown>;
      for (const p of kind.validate?.(config) ?? []) problems.push(at([...base, ...p.path], p.message));
      instances.push({ kind, config });
    });
  }
  let remediator: RemediatorConfig | undefined;
  const rawRemediator = (data as { remediator?: unknown }).remediator;
  if (rawRemediator && typeof rawRemediator === 'object' && !problems.some((p) => p.path.startsWith('remediator'))) {
    checkSecretFiles(remediatorSchema, rawRemediator, ['remediator'], (path, msg) => problems.push(at(path, msg)));
    remediator = convertDurations(remediatorSchema, structuredClone(rawRemediator)) as RemediatorConfig;
    for (const p of validateRemediator(remediator)) problems.push(at(['remediator', ...p.path], p.message));
  }
  if (problems.length > 0) throw new ConfigError(dedupe(problems));

  return {
    remediator,
    source: file,
    server: root.server,
    log: root.log,
    shutdownTimeout: parseDuration(root.shutdown_timeout),
    instances,
    redacted: redact(schema, data),
  };
}

// ---------------------------------------------------------------------------

function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}

/** Offset in the text of the node at `path` (a key's own position for map keys). */
function locate(doc: Document, path: ConfigPath, atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let best: number | undefined = (node as Node | null)?.range?.[0];
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return best;
      const keyNode = pair.key as Node;
      // A wrong scalar is shown where the value is; a key or a whole mapping where the key is.
      if (i === path.length - 1) {
        const valueAt = !atKey && isScalar(pair.value) ? pair.value.range?.[0] : undefined;
        return valueAt ?? keyNode.range?.[0] ?? best;
      }
      best = keyNode.range?.[0] ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      best = (node as Node | undefined)?.range?.[0] ?? best;
    } else {
      return best;
    }
  }
  return (node as Node | null)?.range?.[0] ?? best;
}

const ENV_REF = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** `${VAR}` and `${VAR:-default}` in every string; `$$` is a literal `$`. */
function interpolateEnv(
  value: unknown,
  path: ConfigPath,
  env: Readonly<Record<string, string | undefined>>,
  problem: (path: ConfigPath, message: string) => void,
  substituted: (path: ConfigPath) => void,
): unknown {
  if (typeof value === 'string') {
    if (value.includes('${')) substituted(path);
    return value.replace(ENV_REF, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const v = env[name as string];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      problem(path, `environment variable ${name} is not set (referenced as ${match})`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, [...path, i], env, problem, substituted));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateEnv(v, [...path, k], env, problem, substituted);
    return out;
  }
  return value;
}

/** A substituted string where the schema wants a number or boolean becomes one, if it reads as one. */
function coerceAt(schema: TSchema, data: unknown, path: ConfigPath): void {
  const type = schemaAt(schema, path)?.type;
  const parent = valueAt(data, path.slice(0, -1)) as Record<string | number, unknown> | undefined;
  const key = path[path.length - 1];
  if (!parent || key === undefined || typeof parent[key] !== 'string') return;
  const text = (parent[key] as string).trim();
  if ((type === 'integer' || type === 'number') && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) parent[key] = Number(text);
  else if (type === 'boolean' && (text === 'true' || text === 'false')) parent[key] = text === 'true';
}

interface SchemaProblem {
  readonly path: ConfigPath;
  readonly message: string;
  /** Point at the key rather than its value (unknown keys). */
  readonly atKey?: boolean;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

/**
 * The validator: Ajv, the JSON Schema validator fastify itself uses for routes, so
 * the config costs no second one. Our x-* annotations are not keywords to it.
 */
function newValidator(): Ajv {
  return new Ajv({ allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true });
}

/**
 * Schema errors turned into messages a user can act on; fills defaults into `data`.
 * `validation` is what is compiled (the file's sections of `schema`); messages read `schema`.
 */
function schemaProblems(schema: TSchema, data: unknown, validation: TSchema = schema): SchemaProblem[] {
  // A config is loaded once per process: a fresh validator each time keeps no cache.
  const validate = newValidator().compile(validation);
  if (validate(data)) return [];
  const out: SchemaProblem[] = [];
  for (const e of validate.errors as ErrorObject[]) {
    const path = pointerToPath(e.instancePath);
    const params = e.params as Record<string, unknown>;
    const got = valueAt(data, path);
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String(params.additionalProperty);
        out.push({ path: [...path, key], message: `unknown key "${key}"${suggest(key, schemaAt(schema, path))}`, atKey: true });
        break;
      }
      case 'required':
        out.push({ path, message: `missing required key "${String(params.missingProperty)}"` });
        break;
      case 'maximum':
      case 'minimum':
        out.push({ path, message: `must be ${String(params.comparison)} ${String(params.limit)} (got ${describe(got)})` });
        break;
      case 'pattern': {
        const sub = schemaAt(schema, path) as { 'x-duration'?: boolean } | undefined;
        out.push({
          path,
          message: sub?.['x-duration']
            ? `must be a duration such as 30s, 5m, 1h30m or 7d (got ${describe(got)})`
            : `must match ${String(params.pattern)} (got ${describe(got)})`,
        });
        break;
      }
      case 'enum':
        out.push({
          path,
          message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${describe(got)})`,
        });
        break;
      case 'type':
        out.push({ path, message: `must be ${article(String(params.type))} (got ${describe(got)})` });
        break;
      default:
        out.push({ path, message: `${e.message} (got ${describe(got)})` });
    }
  }
  return out;
}

function article(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
  };
  return names[type] ?? type;
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let v: unknown = data;
  for (const seg of path) v = (v as Record<string | number, unknown> | undefined)?.[seg];
  return v;
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  'x-duration'?: boolean;
  'x-secret'?: boolean;
  'x-secret-file'?: boolean;
}

function childSchema(node: SchemaNode | undefined, seg: string | number): SchemaNode | undefined {
  if (!node) return undefined;
  if (typeof seg === 'number') return node.items;
  return node.properties?.[seg] ?? Object.values(node.patternProperties ?? {})[0];
}

function schemaAt(schema: TSchema, path: ConfigPath): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema as SchemaNode;
  for (const seg of path) node = childSchema(node, seg);
  return node;
}

/** "did you mean" for a mistyped key: the known key at edit distance <= 2. */
function suggest(key: string, parent: SchemaNode | undefined): string {
  const known = Object.keys(parent?.properties ?? {});
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best ? ` (did you mean "${best}"?)` : known.length ? ` (known keys: ${known.join(', ')})` : '';
}

/** Levenshtein distance, for "did you mean" (keys here, options and commands in the CLI). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/** Walks value and schema together, calling `visit` on each annotated leaf. */
function walk(
  node: SchemaNode | undefined,
  value: unknown,
  path: ConfigPath,
  visit: (node: SchemaNode, value: unknown, path: ConfigPath) => unknown,
): unknown {
  if (!node) return value;
  if (Array.isArray(value)) return value.map((v, i) => walk(childSchema(node, i), v, [...path, i], visit));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(childSchema(node, k), v, [...path, k], visit);
    return out;
  }
  return visit(node, value, path);
}

function convertDurations(schema: TSchema, value: unknown): unknown {
  return walk(schema as SchemaNode, value, [], (node, v) =>
    node['x-duration'] && typeof v === 'string' ? parseDuration(v) : v,
  );
}

function redact(schema: TSchema, value: unknown): unknown {
  return walk(schema as SchemaNode, value, [], (node, v) => (node['x-secret'] ? '<secret>' : v));
}

function checkSecretFiles(
  schema: TSchema,
  value: unknown,
  base: ConfigPath,
  problem: (path: ConfigPath, message: string) => void,
): void {
  walk(schema as SchemaNode, value, base, (node, v, path) => {
    if (node['x-secret-file'] && typeof v === 'string') {
      try {
        accessSync(v, constants.R_OK);
      } catch (err) {
        problem(path, `cannot read the file "${v}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    return v;
  });
}

function dedupe(problems: ConfigProblemAt[]): ConfigProblemAt[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = formatProblem(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
