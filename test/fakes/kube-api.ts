/**
 * A fake Kubernetes API server (no API server can run on these machines), built from
 * the API's documented semantics (https://kubernetes.io/docs/reference/using-api/api-concepts/)
 * and the paths, kinds and scopes of the resources HomeStation uses as the
 * Kubernetes OpenAPI document (api/openapi-spec/v3) and Velero's CRDs declare them:
 *
 * - list with labelSelector (=, ==, !=, in, notin, exists, !exists) and fieldSelector
 *   (metadata.name, metadata.namespace, spec.nodeName), answering a `<Kind>List` with
 *   the collection's resourceVersion;
 * - watch (`?watch=true`) from a resourceVersion: the events after it from the
 *   history, then live ones, one JSON object per line; BOOKMARK events when asked
 *   (allowWatchBookmarks); `timeoutSeconds` ends the stream; a version older than the
 *   kept history is an ERROR event with a 410 Expired Status, as the real server sends;
 * - create (201, 409 AlreadyExists), get (404 NotFound with the server's wording),
 *   update (409 Conflict on a stale resourceVersion, with the server's message),
 *   merge and strategic-merge patch (applied as a JSON merge patch: the fields used
 *   here have no merge keys), delete;
 * - bearer tokens (401 without a known one) and RBAC: a user's rules allow verbs on
 *   resources (in namespaces); anything else is 403 with RBAC's message.
 *
 * Test controls stand for the cluster's other actors: `put`/`remove` write an object
 * as a controller does (Velero setting a backup's status), `compact` drops the watch
 * history (etcd compaction), `breakWatches` cuts every open watch, `hang` stops
 * answering.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** The resources the fake serves, with their scope as the API declares it. */
export const RESOURCES: readonly ResourceType[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true },
  { group: '', version: 'v1', plural: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true },
  // Only as the pods/eviction subresource's body (its schema); not served as a collection.
  { group: 'policy', version: 'v1', plural: 'evictions', kind: 'Eviction', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  { group: 'velero.io', version: 'v1', plural: 'backups', kind: 'Backup', namespaced: true },
  { group: 'velero.io', version: 'v1', plural: 'schedules', kind: 'Schedule', namespaced: true },
];

/** One RBAC rule, as a Role's: verbs on resources of API groups, optionally in some namespaces only. */
export interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  /** A RoleBinding's namespaces; unset: a ClusterRoleBinding (everywhere). */
  readonly namespaces?: readonly string[];
}

export interface FakeKubeOptions {
  /** token -> user name; unset: no authentication (every request is "admin"). */
  readonly tokens?: Readonly<Record<string, string>>;
  /** user -> rules; a user without an entry may do everything. */
  readonly rbac?: Readonly<Record<string, readonly Rule[]>>;
  /** How often an open watch that asked for them gets a BOOKMARK (the real server: about a minute). */
  readonly bookmarkMs?: number;
  /** Serve HTTPS with this key pair; `ca` set: a client certificate signed by it authenticates as its CN. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string };
  /** Resources this cluster does not have (Velero not installed): 404 as for an unknown path. */
  readonly without?: readonly string[];
}

type Obj = { apiVersion?: string; kind?: string; metadata: Record<string, unknown> & { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }; [k: string]: unknown };
interface HistoryEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly key: string;
  readonly object: Obj;
}
interface OpenWatch {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly matches: (o: Obj) => boolean;
  readonly res: http.ServerResponse;
  readonly bookmarks: boolean;
}

const groupVersion = (t: ResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);
const qualified = (t: ResourceType) => (t.group ? `${t.plural}.${t.group}` : t.plural);
const storeKey = (t: ResourceType, ns: string | undefined, name: string) => `${qualified(t)}/${ns ?? ''}/${name}`;

function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** A label selector as the API parses it; throws on a malformed one (400). */
export function parseLabelSelector(text: string): (labels: Readonly<Record<string, string>>) => boolean {
  const parts: ((l: Readonly<Record<string, string>>) => boolean)[] = [];
  // Commas inside "in (a,b)" do not split requirements.
  for (const raw of text.split(/,(?![^(]*\))/)) {
    const req = raw.trim();
    if (!req) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s*(!=|==|=)\s*([\w.-]*)$/.exec(req))) {
      const [, k, op, v] = m as unknown as [string, string, string, string];
      parts.push(op === '!=' ? (l) => l[k] !== v : (l) => l[k] === v);
    } else if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req))) {
      const [, k, op, list] = m as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((s) => s.trim()));
      parts.push(op === 'in' ? (l) => l[k] !== undefined && values.has(l[k] as string) : (l) => l[k] === undefined || !values.has(l[k] as string));
    } else if ((m = /^(!?)([\w./-]+)$/.exec(req))) {
      const [, not, k] = m as unknown as [string, string, string];
      parts.push(not ? (l) => l[k] === undefined : (l) => l[k] !== undefined);
    } else throw new Error(`unable to parse requirement: ${req}`);
  }
  return (labels) => parts.every((p) => p(labels));
}

function fieldSelector(text: string): (o: Obj) => boolean {
  const parts = text.split(',').filter(Boolean).map((req) => {
    const m = /^([\w.]+)\s*(!=|==|=)\s*(.*)$/.exec(req.trim());
    if (!m) throw new Error(`invalid selector: '${req}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const get = (o: Obj): unknown => field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
    if (!['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase'].includes(field)) throw new Error(`field label not supported: ${field}`);
    return op === '!=' ? (o: Obj) => String(get(o) ?? '') !== value : (o: Obj) => String(get(o) ?? '') === value;
  });
  return (o) => parts.every((p) => p(o));
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const clone = <T>(o: T): T => structuredClone(o);

/**
 * Schemas of written objects, from the Kubernetes OpenAPI document (kube-openapi/,
 * one file per resource, each naming its source): a body the real server could
 * not decode is a 400 here too, so a client bug shows in the tests.
 */
const ajv = new Ajv({ allErrors: false, strict: false });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/);
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
const validators = new Map<string, ValidateFunction>();
function validatorOf(t: ResourceType): ValidateFunction | undefined {
  const key = qualified(t);
  if (!validators.has(key)) {
    const file = new URL(`./kube-openapi/${key}.json`, import.meta.url);
    // Built copies of the fakes read the schemas beside the sources.
    const source = existsSync(file) ? file : new URL(`../../../test/fakes/kube-openapi/${key}.json`, import.meta.url);
    if (existsSync(source)) validators.set(key, ajv.compile((JSON.parse(readFileSync(source, 'utf8')) as { schema: object }).schema));
  }
  return validators.get(key);
}

/** Throws the API server's 400 when `o` does not decode as the resource's schema. */
function validate(t: ResourceType, o: unknown): void {
  const v = validatorOf(t);
  if (!v || v(o)) return;
  const e = v.errors?.[0];
  const where = `${e?.instancePath.replace(/^\//, '').replace(/\//g, '.') ?? ''}`;
  const detail = e?.keyword === 'additionalProperties' ? `unknown field "${where ? `${where}.` : ''}${(e.params as { additionalProperty: string }).additionalProperty}"` : `${where}: ${e?.message ?? 'invalid'}`;
  throw new BadRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${detail}`);
}

class BadRequest extends Error {}

export class FakeKubeApi {
  private server: http.Server | https.Server | undefined;
  private readonly objects = new Map<string, Obj>();
  private history: HistoryEvent[] = [];
  private rv = 1000;
  private readonly watches = new Set<OpenWatch>();
  private hung = false;
  /** Every request as "VERB path" (query dropped), for assertions. */
  readonly requests: string[] = [];
  port = 0;

  private readonly o: FakeKubeOptions;

  constructor(options: FakeKubeOptions = {}) {
    this.o = { ...options, ...(options.tokens ? { tokens: { ...options.tokens } } : {}) };
  }

  get url(): string {
    return `${this.o.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** The current resourceVersion of the whole store (etcd's revision). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  async start(port = 0): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    this.server = this.o.tls
      ? https.createServer({ cert: this.o.tls.cert, key: this.o.tls.key, ...(this.o.tls.ca ? { ca: this.o.tls.ca, requestCert: true, rejectUnauthorized: false } : {}) }, handler)
      : http.createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.breakWatches();
    this.server?.closeAllConnections?.();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  type(plural: string, group: string): ResourceType {
    const t = RESOURCES.find((r) => r.plural === plural && r.group === group);
    if (!t) throw new Error(`fake: no resource ${plural}.${group}`);
    return t;
  }

  /** Writes an object as a controller would (no RBAC, no version check); returns it as stored. */
  put(plural: string, group: string, object: Obj): Obj {
    const t = this.type(plural, group);
    return this.write(t, object.metadata.namespace, clone(object), this.objects.has(storeKey(t, object.metadata.namespace, object.metadata.name)) ? 'MODIFIED' : 'ADDED');
  }

  get(plural: string, group: string, namespace: string | undefined, name: string): Obj | undefined {
    const o = this.objects.get(storeKey(this.type(plural, group), namespace, name));
    return o && clone(o);
  }

  /** The objects of a resource (in a namespace), as stored. */
  list(plural: string, group: string, namespace?: string): Obj[] {
    return this.inScope(this.type(plural, group), namespace).map(clone);
  }

  remove(plural: string, group: string, namespace: string | undefined, name: string): void {
    const t = this.type(plural, group);
    const key = storeKey(t, namespace, name);
    const old = this.objects.get(key);
    if (!old) return;
    this.objects.delete(key);
    this.rv += 1;
    const gone = { ...clone(old), metadata: { ...old.metadata, resourceVersion: String(this.rv) } };
    this.record({ rv: this.rv, type: 'DELETED', key, object: gone }, t);
  }

  /** etcd compaction: watches from any version before now get 410. */
  compact(): void {
    this.history = [];
  }

  /** Cuts every open watch mid-stream (an API server restart, a load balancer). */
  breakWatches(): void {
    for (const w of this.watches) w.res.destroy();
    this.watches.clear();
  }

  /** true: accept connections and never answer (a wedged API server). */
  hang(on: boolean): void {
    this.hung = on;
  }

  /** Whether a node's Ready condition is True (no node: a pod not scheduled, deleted at once). */
  nodeReady(nodeName: string | undefined): boolean {
    if (!nodeName) return true;
    const node = this.objects.get(storeKey(this.type('nodes', ''), undefined, nodeName));
    return ((node?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  }

  /** A token no longer accepted (401 from now on): a revoked service account, or the API server gone for that client. */
  revokeToken(token: string): void {
    const tokens = this.o.tokens as Record<string, string> | undefined;
    if (tokens) delete tokens[token];
  }

  openWatches(): number {
    return this.watches.size;
  }

  /** Called after every write and deletion, for simulated controllers (kube-controllers.ts). */
  readonly onChange: ((t: ResourceType, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Obj) => void)[] = [];

  private write(t: ResourceType, ns: string | undefined, object: Obj, type: 'ADDED' | 'MODIFIED'): Obj {
    this.rv += 1;
    const key = storeKey(t, ns, object.metadata.name);
    const old = this.objects.get(key);
    const stored: Obj = {
      ...object,
      apiVersion: groupVersion(t),
      kind: t.kind,
      metadata: {
        ...object.metadata,
        ...(t.namespaced ? { namespace: ns } : {}),
        uid: (old?.metadata.uid as string | undefined) ?? (object.metadata.uid as string | undefined) ?? randomUUID(),
        creationTimestamp: (old?.metadata.creationTimestamp as string | undefined) ?? (object.metadata.creationTimestamp as string | undefined) ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        resourceVersion: String(this.rv),
        generation: old ? ((old.metadata.generation as number) ?? 1) + (JSON.stringify(old.spec) !== JSON.stringify(object.spec) ? 1 : 0) : 1,
      },
    };
    this.objects.set(key, stored);
    this.record({ rv: this.rv, type, key, object: stored }, t);
    return clone(stored);
  }

  private record(e: HistoryEvent, t: ResourceType): void {
    queueMicrotask(() => {
      for (const f of this.onChange) f(t, e.type, clone(e.object));
    });
    this.history.push(e);
    if (this.history.length > 10_000) this.history.shift();
    for (const w of this.watches) {
      if (w.type !== t) continue;
      if (w.namespace !== undefined && e.object.metadata.namespace !== w.namespace) continue;
      if (!w.matches(e.object)) continue;
      w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }
  }

  private send(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private user(req: http.IncomingMessage): string | undefined {
    const cert = (req.socket as import('node:tls').TLSSocket).getPeerCertificate?.();
    if (this.o.tls?.ca && cert && (req.socket as import('node:tls').TLSSocket).authorized && cert.subject?.CN) return cert.subject.CN as string;
    if (!this.o.tokens) return 'admin';
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return m ? this.o.tokens[m[1] as string] : undefined;
  }

  /** Every request RBAC allowed, as "verb group/resource" (for the least-privilege test). */
  readonly authorized = new Set<string>();

  private allowed(user: string, verb: string, t: ResourceType, sub: string | undefined, ns: string | undefined): boolean {
    const rules = this.o.rbac?.[user];
    if (!rules) return true;
    const resource = sub ? `${t.plural}/${sub}` : t.plural;
    const ok = rules.some(
      (r) =>
        (r.apiGroups.includes(t.group) || r.apiGroups.includes('*')) &&
        (r.resources.includes(resource) || r.resources.includes('*')) &&
        (r.verbs.includes(verb) || r.verbs.includes('*')) &&
        (r.namespaces === undefined || (ns !== undefined && r.namespaces.includes(ns))),
    );
    if (ok) this.authorized.add(`${verb} ${t.group}/${resource}`);
    return ok;
  }

  private async body(req: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.hung) return; // never answers
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}`);
    const user = this.user(req);
    if (user === undefined) return this.send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));

    if (url.pathname === '/version' && method === 'GET') return this.send(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.4+k3s1', platform: 'linux/arm64' });
    // /api/v1/... or /apis/GROUP/VERSION/..., then [namespaces/NS/]PLURAL[/NAME[/SUB]]
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.*)$/.exec(url.pathname);
    if (!m) return this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const group = m[2] ?? '';
    const version = m[1] ?? (m[3] as string);
    let rest = (m[4] as string).split('/').filter(Boolean);
    let ns: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      ns = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, sub] = rest as [string, string | undefined, string | undefined];
    const t = RESOURCES.find((r) => r.plural === plural && r.group === group && r.version === version);
    if (!t || this.o.without?.includes(qualified(t)) || (ns !== undefined && !t.namespaced)) {
      return this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }
    const watch = method === 'GET' && !name && ['true', '1'].includes(url.searchParams.get('watch') ?? '');
    const verb = watch ? 'watch' : method === 'GET' ? (name ? 'get' : 'list') : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : 'unknown';
    if (!this.allowed(user, verb, t, sub, ns)) {
      const what = name ? `${qualified(t)} "${name}"` : qualified(t);
      const where = ns !== undefined ? ` in the namespace "${ns}"` : ' at the cluster scope';
      return this.send(
        res,
        403,
        status(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${verb} resource "${sub ? `${plural}/${sub}` : plural}" in API group "${group}"${where}`, {
          ...(name ? { name } : {}),
          group,
          kind: plural,
        }),
      );
    }
    try {
      if (watch) return this.serveWatch(t, ns, url, res);
      if (method === 'GET' && !name) return this.serveList(t, ns, url, res);
      if (sub === 'eviction' && t.plural === 'pods' && method === 'POST' && name) return this.evict(ns as string, name, (await this.body(req)) as Obj, res);
      if (sub) return this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      if (method === 'POST' && !name) return this.create(t, ns, (await this.body(req)) as Obj, res);
      if (!name) return this.send(res, 405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
      const key = storeKey(t, ns, name);
      const current = this.objects.get(key);
      const notFound = () => this.send(res, 404, status(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, group, kind: plural }));
      if (method === 'GET') return current ? this.send(res, 200, current) : notFound();
      if (method === 'DELETE') {
        if (!current) return notFound();
        const grace = ((await this.body(req).catch(() => undefined)) as { gracePeriodSeconds?: number } | undefined)?.gracePeriodSeconds;
        if (t.plural === 'pods' && grace !== 0 && !this.nodeReady((current.spec as { nodeName?: string } | undefined)?.nodeName)) {
          // The kubelet must confirm a graceful deletion: on an unreachable node the pod
          // stays Terminating until the node is back or it is force-deleted (grace 0).
          if (current.metadata.deletionTimestamp) return this.send(res, 200, current);
          return this.send(res, 200, this.write(t, ns, { ...current, metadata: { ...current.metadata, deletionTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } }, 'MODIFIED'));
        }
        this.remove(plural, group, ns, name);
        return this.send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group, kind: plural, uid: current.metadata.uid } });
      }
      if (method === 'PUT') {
        const body = (await this.body(req)) as Obj;
        if (!current) return notFound();
        if (body.metadata?.resourceVersion !== undefined && body.metadata.resourceVersion !== current.metadata.resourceVersion) {
          return this.conflict(t, name, res);
        }
        validate(t, body);
        return this.send(res, 200, this.write(t, ns, body, 'MODIFIED'));
      }
      if (method === 'PATCH') {
        const type = String(req.headers['content-type'] ?? '').split(';')[0];
        if (type !== 'application/merge-patch+json' && type !== 'application/strategic-merge-patch+json') {
          return this.send(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`));
        }
        const patch = (await this.body(req)) as Obj;
        if (!current) return notFound();
        const wanted = (patch.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
        if (wanted !== undefined && wanted !== current.metadata.resourceVersion) return this.conflict(t, name, res);
        const patched = mergePatch(clone(current), patch) as Obj;
        validate(t, patched);
        return this.send(res, 200, this.write(t, ns, patched, 'MODIFIED'));
      }
      return this.send(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    } catch (err) {
      return this.send(res, 400, status(400, 'BadRequest', (err as Error).message));
    }
  }

  /**
   * policy/v1 Eviction, as the API server's eviction subresource: the pod is deleted
   * unless a PodDisruptionBudget selecting it would go below what it allows; then
   * 429 with the DisruptionBudget cause (the caller retries later, as kubectl drain).
   * A budget's allowance is computed here from the pods' Ready condition (the
   * disruption controller's job in a real cluster).
   */
  private evict(ns: string, name: string, body: Obj, res: http.ServerResponse): void {
    const pods = this.type('pods', '');
    validate(this.type('evictions', 'policy'), body);
    const pod = this.objects.get(storeKey(pods, ns, name));
    if (!pod) return this.send(res, 404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
    const labels = pod.metadata.labels ?? {};
    const ready = (p: Obj) => ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    for (const pdb of this.inScope(this.type('poddisruptionbudgets', 'policy'), ns)) {
      const spec = (pdb.spec ?? {}) as { selector?: { matchLabels?: Record<string, string> }; minAvailable?: number | string; maxUnavailable?: number | string };
      const sel = spec.selector?.matchLabels;
      if (!sel || !Object.entries(sel).every(([k, v]) => labels[k] === v)) continue;
      const covered = this.inScope(pods, ns).filter((p) => Object.entries(sel).every(([k, v]) => p.metadata.labels?.[k] === v));
      const healthy = covered.filter(ready).length;
      const count = (v: number | string) => (typeof v === 'number' ? v : Math.ceil((Number.parseInt(v, 10) / 100) * covered.length));
      const needed = spec.minAvailable !== undefined ? count(spec.minAvailable) : covered.length - count(spec.maxUnavailable ?? 0);
      const allowed = healthy - needed;
      if (ready(pod) ? allowed < 1 : false) {
        return this.send(
          res,
          429,
          status(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
            causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${needed} healthy pods and has ${healthy} currently` }],
          }),
        );
      }
    }
    this.remove('pods', '', ns, name);
    this.send(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }

  private conflict(t: ResourceType, name: string, res: http.ServerResponse): void {
    this.send(
      res,
      409,
      status(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
        name,
        group: t.group,
        kind: t.plural,
      }),
    );
  }

  private create(t: ResourceType, ns: string | undefined, body: Obj, res: http.ServerResponse): void {
    if (!body?.metadata?.name) return this.send(res, 422, status(422, 'Invalid', `${t.kind} "" is invalid: metadata.name: Required value: name or generateName is required`));
    if (this.objects.has(storeKey(t, ns, body.metadata.name))) {
      return this.send(res, 409, status(409, 'AlreadyExists', `${qualified(t)} "${body.metadata.name}" already exists`, { name: body.metadata.name, group: t.group, kind: t.plural }));
    }
    validate(t, body);
    const { resourceVersion: _rv, ...meta } = body.metadata;
    this.send(res, 201, this.write(t, ns, { ...body, metadata: meta as Obj['metadata'] }, 'ADDED'));
  }

  private matcher(url: URL): (o: Obj) => boolean {
    const labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
    const fields = fieldSelector(url.searchParams.get('fieldSelector') ?? '');
    return (o) => labels(o.metadata.labels ?? {}) && fields(o);
  }

  private inScope(t: ResourceType, ns: string | undefined): Obj[] {
    const prefix = `${qualified(t)}/`;
    return [...this.objects.entries()].filter(([k, o]) => k.startsWith(prefix) && (ns === undefined || o.metadata.namespace === ns)).map(([, o]) => o);
  }

  private serveList(t: ResourceType, ns: string | undefined, url: URL, res: http.ServerResponse): void {
    const matches = this.matcher(url);
    const items = this.inScope(t, ns).filter(matches).sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    this.send(res, 200, { kind: `${t.kind}List`, apiVersion: groupVersion(t), metadata: { resourceVersion: String(this.rv) }, items });
  }

  private serveWatch(t: ResourceType, ns: string | undefined, url: URL, res: http.ServerResponse): void {
    const matches = this.matcher(url);
    const from = url.searchParams.get('resourceVersion');
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // as the API server: the answer starts before the first event
    const w: OpenWatch = { type: t, namespace: ns, matches, res, bookmarks };
    const line = (o: unknown) => res.write(`${JSON.stringify(o)}\n`);
    if (from === null || from === '' || from === '0') {
      // "Start at most recent": the current objects as ADDED, then changes.
      for (const o of this.inScope(t, ns).filter(matches)) line({ type: 'ADDED', object: o });
    } else {
      const since = Number(from);
      const oldest = this.history[0]?.rv ?? this.rv + 1;
      if (since < oldest - 1 && since < this.rv) {
        line({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${since} (${oldest - 1})`) });
        res.end();
        return;
      }
      for (const e of this.history) {
        if (e.rv <= since) continue;
        if (!e.key.startsWith(`${qualified(t)}/`)) continue;
        if (ns !== undefined && e.object.metadata.namespace !== ns) continue;
        if (matches(e.object)) line({ type: e.type, object: e.object });
      }
    }
    this.watches.add(w);
    const timers: NodeJS.Timeout[] = [];
    if (bookmarks) {
      timers.push(
        setInterval(() => line({ type: 'BOOKMARK', object: { kind: t.kind, apiVersion: groupVersion(t), metadata: { resourceVersion: String(this.rv) } } }), this.o.bookmarkMs ?? 60_000),
      );
    }
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    if (timeout > 0) timers.push(setTimeout(() => res.end(), timeout * 1000));
    const done = () => {
      for (const x of timers) clearTimeout(x);
      this.watches.delete(w);
    };
    res.on('close', done);
    res.on('finish', done);
  }
}
