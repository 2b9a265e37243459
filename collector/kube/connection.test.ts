/**
 * Finding the API server: a K3s-style kubeconfig (client certificate, inline data)
 * against the fake API server over HTTPS, tokens, in-cluster service accounts, and
 * the errors a broken kubeconfig gets (file and field named).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../../test/fakes/kube-api.js';
import { missingToolsMessage } from '../../test/helpers/tools.js';
import { KubeClient } from './client.js';
import { KubeConfigError, resolveConnection } from './connection.js';

const missing = missingToolsMessage(['openssl']);
if (missing && process.env.CI) throw new Error(missing);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hs-kubeconfig-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');
function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe.runIf(!missing)('a K3s kubeconfig against the fake API server over HTTPS', () => {
  it('authenticates with the client certificate and verifies the server with the inline CA', async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=k3s-server-ca');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=k3s');
    write('san.ext', 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/O=system:masters/CN=system:admin');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2');
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    const api = await new FakeKubeApi({
      tls: { cert: read('server.crt'), key: read('server.key'), ca: read('ca.crt') },
      tokens: {},
      rbac: { 'system:admin': [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
    }).start();
    try {
      // The shape K3s writes to /etc/rancher/k3s/k3s.yaml.
      const file = write(
        'k3s.yaml',
        `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64(read('ca.crt'))}
    server: https://127.0.0.1:${api.port}
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: ${b64(read('client.crt'))}
    client-key-data: ${b64(read('client.key'))}
`,
      );
      const conn = resolveConnection({ kubeconfig: file });
      expect(conn.source).toBe(`${file} (context default)`);
      const client = new KubeClient(conn);
      try {
        const list = await client.request<{ kind: string }>('GET', '/apis/velero.io/v1/namespaces/velero/backups');
        expect(list.kind).toBe('BackupList');
      } finally {
        client.close();
      }
      // The same server, another CA: the server is not trusted.
      ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=other');
      const other = new KubeClient({ ...conn, ca: read('other.crt') });
      try {
        await expect(other.request('GET', '/api/v1/nodes')).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
      } finally {
        other.close();
      }
      // No client certificate and no token: 401.
      const anonymous = new KubeClient({ server: conn.server, ca: conn.ca as string, source: 'test' });
      try {
        await expect(anonymous.request('GET', '/api/v1/nodes')).rejects.toMatchObject({ status: 401 });
      } finally {
        anonymous.close();
      }
    } finally {
      await api.stop();
    }
  });
});

describe('resolveConnection', () => {
  const kubeconfig = (user: string, extra = '') =>
    `apiVersion: v1
clusters:
- name: home
  cluster:
    server: https://k3s.lan:6443/
    insecure-skip-tls-verify: true
contexts:
- name: home
  context: { cluster: home, user: me, namespace: monitoring }
- name: other
  context: { cluster: home, user: me }
current-context: home
users:
- name: me
  user:
${user}
${extra}`;

  it('reads a token user, the context namespace, and strips the server\'s trailing slash', () => {
    const c = resolveConnection({ kubeconfig: write('token.yaml', kubeconfig('    token: abc123')) });
    expect(c.server).toBe('https://k3s.lan:6443');
    expect(c.authorization?.()).toBe('Bearer abc123');
    expect(c.namespace).toBe('monitoring');
    expect(c.insecureSkipTlsVerify).toBe(true);
    expect(resolveConnection({ kubeconfig: write('token2.yaml', kubeconfig('    token: abc123')), context: 'other' }).namespace).toBeUndefined();
  });

  it('reads a token file relative to the kubeconfig, again when it rotates', () => {
    write('sa-token', 'first\n');
    const c = resolveConnection({ kubeconfig: write('tokenfile.yaml', kubeconfig('    tokenFile: sa-token')) });
    expect(c.authorization?.()).toBe('Bearer first');
  });

  it('refuses exec and auth-provider plugins, naming the user and what to use instead', () => {
    const file = write('exec.yaml', kubeconfig('    exec: { apiVersion: client.authentication.k8s.io/v1, command: aws }'));
    expect(() => resolveConnection({ kubeconfig: file })).toThrow(new KubeConfigError(`${file}: users["me"]: exec credential plugins are not supported; use a service account token (token or tokenFile) or a client certificate`));
  });

  it('names the file and the missing entry', () => {
    const file = write('nocontext.yaml', kubeconfig('    token: x'));
    expect(() => resolveConnection({ kubeconfig: file, context: 'prod' })).toThrow(`${file}: contexts: no entry named "prod" (it has "home", "other")`);
    expect(() => resolveConnection({ kubeconfig: join(dir, 'absent.yaml') })).toThrow(/cannot read kubeconfig .*absent\.yaml: ENOENT/);
    const bad = write('bad.yaml', 'clusters: [\n  - name: x\n  bad: : :\n');
    expect(() => resolveConnection({ kubeconfig: bad })).toThrow(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: not YAML`));
    const half = write('half.yaml', kubeconfig('    client-certificate-data: eA=='));
    expect(() => resolveConnection({ kubeconfig: half })).toThrow(`${half}: users["me"]: client-certificate and client-key go together (one of them is missing)`);
  });

  it('uses the pod\'s service account in a cluster, and $KUBECONFIG outside one', () => {
    const sa = join(dir, 'sa');
    execFileSync('mkdir', ['-p', sa]);
    writeFileSync(join(sa, 'token'), 'pod-token\n');
    writeFileSync(join(sa, 'ca.crt'), 'PEM');
    writeFileSync(join(sa, 'namespace'), 'homestation');
    const c = resolveConnection({ env: { KUBERNETES_SERVICE_HOST: '10.43.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa });
    expect(c).toMatchObject({ server: 'https://10.43.0.1:443', ca: 'PEM', namespace: 'homestation', source: 'in-cluster' });
    expect(c.authorization?.()).toBe('Bearer pod-token');
    const v6 = resolveConnection({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa });
    expect(v6.server).toBe('https://[fd00::1]:443');
    expect(() => resolveConnection({ env: { KUBERNETES_SERVICE_HOST: '10.43.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: join(dir, 'none') })).toThrow(/in-cluster: cannot read token file .*none\/token/);
    const file = write('env.yaml', kubeconfig('    token: from-env'));
    expect(resolveConnection({ env: { KUBECONFIG: `${file}:/elsewhere` } }).authorization?.()).toBe('Bearer from-env');
  });
});
