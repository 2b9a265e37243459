/**
 * Where the Kubernetes API server is and how to authenticate to it: in-cluster (the
 * pod's service account, as client-go's rest.InClusterConfig) or a kubeconfig file
 * (K3s writes /etc/rancher/k3s/k3s.yaml). What a homelab uses is covered: bearer
 * tokens (token, tokenFile, the service account's rotating token, re-read as
 * client-go does), client certificates, basic auth, CA bundles, tls-server-name.
 * Exec and auth-provider plugins (cloud logins) are refused with a clear message.
 *
 * Not @kubernetes/client-node: importing its KubeConfig loads every generated model
 * of the API (46 MB of RSS and 30 MB of heap here, measured), more than this whole
 * process at idle; the REST and watch calls HomeStation makes are a few.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConnection {
  /** https://host:port (no trailing slash). */
  readonly server: string;
  /** CA bundle (PEM) to verify the server with; undefined: the system's roots. */
  readonly ca?: string;
  readonly insecureSkipTlsVerify?: boolean;
  readonly tlsServerName?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  /** The Authorization header value, read when a request is made (tokens rotate). */
  readonly authorization?: () => string | undefined;
  /** The namespace of the context (or the service account's), when it names one. */
  readonly namespace?: string;
  /** Where it came from, for messages: "in-cluster" or the kubeconfig's path and context. */
  readonly source: string;
}

export interface ConnectionOptions {
  /** A kubeconfig file; unset: in-cluster when running in a pod, else $KUBECONFIG, else ~/.kube/config. */
  readonly kubeconfig?: string;
  /** A context of the kubeconfig; unset: its current-context. */
  readonly context?: string;
  /** The environment to read (tests pass their own). */
  readonly env?: NodeJS.ProcessEnv;
  /** The service account's directory (tests pass their own). */
  readonly serviceAccountDir?: string;
}

export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

/** The connection the options select. Throws KubeConfigError naming the file and field. */
export function resolveConnection(options: ConnectionOptions = {}): KubeConnection {
  const env = options.env ?? process.env;
  if (options.kubeconfig) return fromKubeconfig(options.kubeconfig, options.context);
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) return inCluster(env, options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  const fromEnv = env.KUBECONFIG?.split(':').find((p) => p.length > 0);
  const path = fromEnv ?? join(env.HOME ?? homedir(), '.kube', 'config');
  return fromKubeconfig(path, options.context);
}

/** A rotating token file, re-read at most once a minute (client-go's cachingTokenSource). */
function tokenFileAuth(path: string, what: string): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    const now = Date.now();
    if (now - readAt > 60_000) {
      try {
        token = readFileSync(path, 'utf8').trim();
        readAt = now;
      } catch (err) {
        if (!token) throw new KubeConfigError(`${what}: cannot read token file ${path}: ${(err as Error).message}`);
      }
    }
    return `Bearer ${token}`;
  };
}

function inCluster(env: NodeJS.ProcessEnv, dir: string): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST as string;
  const tokenPath = join(dir, 'token');
  const auth = tokenFileAuth(tokenPath, 'in-cluster');
  auth(); // a missing token is a start-up error, not a 401 later
  let ca: string;
  try {
    ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  } catch (err) {
    throw new KubeConfigError(`in-cluster: cannot read ${join(dir, 'ca.crt')}: ${(err as Error).message}`);
  }
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    namespace = undefined;
  }
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT}`,
    ca,
    authorization: auth,
    ...(namespace ? { namespace } : {}),
    source: 'in-cluster',
  };
}

type Yaml = Record<string, unknown>;

function named(doc: Yaml, list: string, name: string, file: string): Yaml {
  const items = doc[list];
  if (!Array.isArray(items)) throw new KubeConfigError(`${file}: no "${list}" list`);
  const hit = items.find((i) => (i as Yaml)?.name === name) as Yaml | undefined;
  const body = hit?.[list.replace(/s$/, '')] as Yaml | undefined;
  if (!hit) throw new KubeConfigError(`${file}: ${list}: no entry named "${name}" (it has ${items.map((i) => `"${(i as Yaml)?.name}"`).join(', ') || 'none'})`);
  if (!body || typeof body !== 'object') throw new KubeConfigError(`${file}: ${list}["${name}"]: no "${list.replace(/s$/, '')}" map`);
  return body;
}

function str(map: Yaml, key: string, where: string): string | undefined {
  const v = map[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new KubeConfigError(`${where}.${key}: expected a string`);
  return v;
}

/** Inline base64 data or a file (relative paths are relative to the kubeconfig, as kubectl reads them). */
function material(map: Yaml, key: string, where: string, base: string): string | undefined {
  const data = str(map, `${key}-data`, where);
  if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
  const file = str(map, key, where);
  if (file === undefined) return undefined;
  const path = file.startsWith('/') ? file : join(base, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new KubeConfigError(`${where}.${key}: cannot read ${path}: ${(err as Error).message}`);
  }
}

export function fromKubeconfig(file: string, contextName?: string): KubeConnection {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KubeConfigError(`cannot read kubeconfig ${file}: ${(err as Error).message}`);
  }
  const parsed = parseDocument(text);
  if (parsed.errors.length > 0) {
    const e = parsed.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new KubeConfigError(`${file}${line ? `:${line}` : ''}: not YAML: ${e.message.split('\n')[0]}`);
  }
  const doc = parsed.toJS() as Yaml;
  if (!doc || typeof doc !== 'object') throw new KubeConfigError(`${file}: not a kubeconfig (no map at the top)`);
  const ctxName = contextName ?? str(doc, 'current-context', file);
  if (!ctxName) throw new KubeConfigError(`${file}: no current-context; name one with context:`);
  const ctx = named(doc, 'contexts', ctxName, file);
  const clusterName = str(ctx, 'cluster', `${file}: contexts["${ctxName}"]`);
  const userName = str(ctx, 'user', `${file}: contexts["${ctxName}"]`);
  if (!clusterName) throw new KubeConfigError(`${file}: contexts["${ctxName}"] names no cluster`);
  const cluster = named(doc, 'clusters', clusterName, file);
  const cw = `${file}: clusters["${clusterName}"]`;
  const server = str(cluster, 'server', cw);
  if (!server) throw new KubeConfigError(`${cw}: no server`);
  const base = join(file, '..');
  const user = userName ? named(doc, 'users', userName, file) : {};
  const uw = `${file}: users["${userName}"]`;
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw new KubeConfigError(
      `${uw}: ${user.exec !== undefined ? 'exec' : 'auth-provider'} credential plugins are not supported; use a service account token (token or tokenFile) or a client certificate`,
    );
  }
  const token = str(user, 'token', uw);
  const tokenFile = str(user, 'tokenFile', uw);
  const username = str(user, 'username', uw);
  const password = str(user, 'password', uw);
  let authorization: (() => string) | undefined;
  if (token !== undefined) authorization = () => `Bearer ${token}`;
  else if (tokenFile !== undefined) authorization = tokenFileAuth(tokenFile.startsWith('/') ? tokenFile : join(base, tokenFile), uw);
  else if (username !== undefined && password !== undefined) {
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    authorization = () => basic;
  }
  const ca = material(cluster, 'certificate-authority', cw, base);
  const clientCert = material(user, 'client-certificate', uw, base);
  const clientKey = material(user, 'client-key', uw, base);
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new KubeConfigError(`${uw}: client-certificate and client-key go together (one of them is missing)`);
  }
  const namespace = str(ctx, 'namespace', `${file}: contexts["${ctxName}"]`);
  const tlsServerName = str(cluster, 'tls-server-name', cw);
  return {
    server: server.replace(/\/+$/, ''),
    ...(ca !== undefined ? { ca } : {}),
    ...(cluster['insecure-skip-tls-verify'] === true ? { insecureSkipTlsVerify: true } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
    ...(clientCert !== undefined ? { clientCert, clientKey: clientKey as string } : {}),
    ...(authorization ? { authorization } : {}),
    ...(namespace ? { namespace } : {}),
    source: `${file} (context ${ctxName})`,
  };
}
