/**
 * velero source: Velero's Backups and Schedules, followed by list-then-watch (never
 * polled): a new backup, a phase change or a deletion reaches the samples as the
 * API server announces it. While the API server is unreachable the last-known sets
 * are served and the instance is down; they survive a reconnect.
 */
import { ExporterError, type InstanceContext, type Sample, type StreamInstance } from '../../collector/contract.js';
import { KubeApiError, KubeClient, KubeTransportError } from '../../collector/kube/client.js';
import { KubeConfigError, resolveConnection } from '../../collector/kube/connection.js';
import { ListWatch, type KubeObject } from '../../collector/kube/list-watch.js';
import { M } from './metrics.js';
import { summarizeVelero, type VeleroBackup, type VeleroSchedule, type VeleroSet } from './parse/velero.js';
import { setSamples } from './samples.js';
import type { BackupConfig, VeleroConfig } from './schema.js';

/** The samples of Velero sets: the common ones, completeness, and the newest run's error and warning counts. */
export function veleroSamples(sets: readonly VeleroSet[]): Sample[] {
  const out = setSamples(sets);
  for (const s of sets) {
    if (s.complete === undefined) continue;
    const labels = { set: s.name };
    out.push({ metric: M.complete, labels, value: s.complete }, { metric: M.errors, labels, value: s.errors ?? 0 }, { metric: M.warnings, labels, value: s.warnings ?? 0 });
  }
  return out;
}

/** An API failure as the exporter's error, with what to do about it. */
export function veleroError(err: Error, namespace: string): ExporterError {
  if (err instanceof KubeApiError) {
    if (err.status === 401) return new ExporterError('auth', err.message, { hint: 'the token or client certificate is not accepted: check the kubeconfig or the service account' });
    if (err.status === 403) {
      return new ExporterError('auth', err.message, {
        hint: `grant list and watch on backups.velero.io and schedules.velero.io in the namespace "${namespace}" (deploy/kubernetes/ has the Role)`,
      });
    }
    if (err.status === 404) return new ExporterError('other', err.message, { hint: `Velero's resources are not in this cluster: is Velero installed (velero install)?` });
    return new ExporterError('unreachable', err.message);
  }
  if (err instanceof KubeTransportError) return new ExporterError(/no answer|said nothing/.test(err.message) ? 'timeout' : 'unreachable', err.message, { hint: 'is the Kubernetes API server up and reachable from here?' });
  return new ExporterError('other', err.message);
}

export function createVeleroSource(ctx: InstanceContext, config: BackupConfig, v: VeleroConfig): StreamInstance {
  let connection;
  try {
    connection = resolveConnection(v);
  } catch (err) {
    if (err instanceof KubeConfigError) throw new ExporterError('other', err.message, { hint: 'set velero.kubeconfig to a readable kubeconfig, or run HomeStation in the cluster with a service account' });
    throw err;
  }
  const client = new KubeClient(connection);
  const base = `/apis/velero.io/v1/namespaces/${encodeURIComponent(v.namespace)}`;
  // The API server sends a bookmark about every minute on a quiet watch: three minutes of
  // nothing at all is a connection that died without closing (a partition, a NAT timeout).
  const watchOptions = { log: ctx.log, idleMs: 180_000 };
  const backups = new ListWatch<KubeObject>(client, `${base}/backups`, watchOptions);
  const schedules = new ListWatch<KubeObject>(client, `${base}/schedules`, watchOptions);
  const sets = v.sets?.map((s) => ({
    name: s.name,
    schedule: s.schedule,
    ...(s.expected_interval !== undefined ? { expectedInterval: s.expected_interval } : {}),
    ...(s.min_retention !== undefined ? { minRetention: s.min_retention } : {}),
  }));

  let samples: Sample[] = [];
  let dirty = true;
  let said = new Set<string>();
  /** Backups whose failure was logged (one line per failed backup, not per event). */
  const failedSaid = new Set<string>();
  const recompute = () => {
    const summary = summarizeVelero(
      backups.items() as unknown as VeleroBackup[],
      schedules.items() as unknown as VeleroSchedule[],
      { ...(sets ? { sets } : {}), defaultInterval: config.expected_interval, ...(config.min_retention !== undefined ? { minRetention: config.min_retention } : {}) },
      new Date(ctx.now()),
    );
    // Said once each while it holds: a watch event must not repeat a warning.
    for (const w of summary.warnings) if (!said.has(w)) ctx.log.warn({ namespace: v.namespace }, w);
    said = new Set(summary.warnings);
    for (const s of summary.sets) {
      if (!s.lastFinished || s.complete !== 0 || failedSaid.has(s.lastFinished.name)) continue;
      if (failedSaid.size > 1000) failedSaid.clear();
      failedSaid.add(s.lastFinished.name);
      ctx.log.warn({ set: s.name, backup: s.lastFinished.name, phase: s.lastFinished.phase, failureReason: s.lastFinished.failureReason }, 'newest Velero backup did not complete');
    }
    samples = veleroSamples(summary.sets);
    dirty = false;
  };
  const changed = () => {
    dirty = true;
    if (backups.synced && schedules.synced) ctx.reportSuccess();
  };
  const state = (lw: ListWatch<KubeObject>) => () => {
    if (lw.lastError) ctx.reportError(veleroError(lw.lastError, v.namespace));
    else if (backups.synced && schedules.synced) ctx.reportSuccess();
  };
  backups.on('change', changed);
  schedules.on('change', changed);
  backups.on('state', state(backups));
  schedules.on('state', state(schedules));

  return {
    mode: 'stream',
    async start() {
      backups.start();
      schedules.start();
    },
    async stop() {
      await Promise.all([backups.stop(), schedules.stop()]);
      client.close();
    },
    snapshot() {
      const synced = backups.synced && schedules.synced;
      if (synced && dirty) recompute();
      const up = synced && backups.connected && schedules.connected;
      const err = backups.lastError ?? schedules.lastError;
      return {
        up,
        samples,
        ...(up ? {} : { error: err ? veleroError(err, v.namespace) : new ExporterError('unreachable', `not yet synced with ${connection.source}`) }),
      };
    },
  };
}
