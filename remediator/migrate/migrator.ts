/**
 * Migrate: a service and its state moved, as one unit, from the engine it runs on
 * to another, through the Engine API alone (no shell on either host).
 *
 *   plan -> stop_source -> copy_image -> create_target -> copy <mount>... ->
 *   start_target -> check -> verified -> finish_source
 *
 * Every step is written to the journal before it is taken. Until the target has
 * passed the service's recovery check nothing on the source is deleted; any failure
 * before then removes what was made on the target and starts the source again.
 * A remediator killed mid-way finds the migration `running` at its next start:
 * before `verified` it is rolled back, after it, finished.
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { recreateOptions } from '../docker/recreate.js';
import type { Hosts } from '../hosts.js';
import type { Journal, MigrationProgress, MigrationRecord } from '../journal.js';
import { waitForRecovery, type CheckResult } from '../probe.js';
import { parseDuration } from '../../collector/duration.js';
import { LOCAL_HOST, SERVICE_DEFAULTS, type ServiceConfig } from '../schema.js';
import { copyImage, copyMount } from './copy.js';
import { planState } from './plan.js';

/** The label a migration puts on the container it creates: how a restart finds it when the ID was not yet recorded. */
export const MIGRATION_LABEL = 'homestation.migration';
/** Steps after which a migration interrupted by a restart is finished rather than rolled back. */
const VERIFIED_STEPS = new Set(['verified', 'finish_source']);

export type MigrateOutcome =
  | { readonly result: 'migrated'; readonly check: CheckResult; readonly migration: number }
  | { readonly result: 'refused'; readonly reason: string }
  | { readonly result: 'rolled_back'; readonly reason: string; readonly migration: number };

/** Writes one line to the incident's journal (kind, what, result, detail). */
export type Recorder = (kind: 'action' | 'check' | 'decision', what: string, result: string, detail: string) => void;

export interface MigrateRequest {
  readonly service: ServiceConfig;
  /** Where the service is in the config, for messages (`services[2]`). */
  readonly where: string;
  /** The host to move to; default the first of its hosts it is not on. */
  readonly to?: string;
  readonly incidentId: number | null;
  readonly record: Recorder;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** A service's config; for one no longer listed, the defaults every unlisted service gets. */
function configOf(services: readonly ServiceConfig[], name: string): ServiceConfig {
  return services.find((s) => s.name === name) ?? { name, recovery_deadline: parseDuration(SERVICE_DEFAULTS.recovery_deadline), stop_timeout: parseDuration(SERVICE_DEFAULTS.stop_timeout) };
}

/** The host a migrate goes to when the step names none: the first of the service's hosts it is not on. */
export function defaultTarget(service: ServiceConfig, current: string): string | undefined {
  return (service.hosts ?? [LOCAL_HOST]).find((h) => h !== current);
}

export class Migrator {
  constructor(
    private readonly hosts: Hosts,
    private readonly journal: Journal,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async migrate(req: MigrateRequest): Promise<MigrateOutcome> {
    const { service, record } = req;
    const refuse = (reason: string): MigrateOutcome => {
      record('decision', 'migrate', 'refused', reason);
      return { result: 'refused', reason };
    };
    const from = this.hosts.hostOf(service);
    const to = req.to ?? defaultTarget(service, from);
    if (!to) return refuse(`${service.name} lists no other host to migrate to (${req.where}.hosts)`);
    if (to === from) return refuse(`${service.name} already runs on ${to}`);
    if (!(service.hosts ?? [LOCAL_HOST]).includes(to)) return refuse(`${to} is not one of ${service.name}'s hosts (${req.where}.hosts: ${(service.hosts ?? [LOCAL_HOST]).join(', ')})`);
    const source = this.hosts.driver(from);
    const target = this.hosts.driver(to);
    try {
      await target.ping();
    } catch (err) {
      return refuse(`the target host ${to} cannot be reached: ${(err as Error).message}`);
    }
    let sourceDown: string | undefined;
    await source.ping().catch((err: Error) => {
      sourceDown = err.message;
    });

    // What to create on the target: from the running container, else from its last good recorded configuration.
    let options: Docker.ContainerCreateOptions | undefined;
    let imageId: string | undefined;
    let container: { id: string; running: boolean } | undefined;
    if (!sourceDown) {
      const found = await source.find(service);
      const raw = found ? await source.inspectRaw(found.id) : undefined;
      if (found && raw) {
        container = { id: found.id, running: found.running || found.paused };
        options = recreateOptions(raw, found.name);
        imageId = raw.Image;
      }
    }
    let madeFrom = 'its running container';
    if (!options) {
      const saved = this.journal.getState(`last_good:${service.name}`);
      if (!saved) {
        return refuse(`${sourceDown ? `the source host ${from} is down (${sourceDown})` : `no container of ${service.name} on ${from}`}, and no configuration of it was ever recorded to create it from`);
      }
      const spec = JSON.parse(saved) as { at: number; imageId: string; options: Docker.ContainerCreateOptions };
      options = spec.options;
      imageId = spec.imageId;
      madeFrom = `its configuration recorded healthy at ${new Date(spec.at).toISOString()}`;
    }
    const name = options.name as string;
    const plan = planState(options.HostConfig?.Binds ?? [], service.state, req.where);
    if (plan.problems.length) return refuse(`not migrating ${service.name}: ${plan.problems.join('; ')}`);
    if (!container && plan.copy.length) {
      const why = sourceDown ? `the source host ${from} is down (${sourceDown})` : `${service.name} has no container on ${from}`;
      return refuse(`${why}: its state (${plan.copy.map((m) => `${m.kind} ${m.source}`).join(', ')}) cannot be copied, and it is not marked recomputable (${req.where}.state.recomputable)`);
    }
    if (container) {
      // What is bound to it on the source cannot follow it: a shared network namespace, a volume mounted by another container.
      const others = (await source.containerFacts(from).catch(() => [])).filter((f) => f.id !== container?.id);
      const mode = String(options.HostConfig?.NetworkMode ?? '');
      const bound = [
        ...(mode.startsWith('container:') ? [`it lives in the network namespace of ${mode.slice('container:'.length, 'container:'.length + 12)} (network_mode: ${mode.slice(0, 22)})`] : []),
        ...others.filter((f) => f.networkMode === `container:${container?.id}` || f.networkMode === `container:${name}`).map((f) => `${f.name} lives in its network namespace`),
        ...others.flatMap((f) => f.volumes.filter((v) => plan.copy.some((m) => m.kind === 'volume' && m.source === v)).map((v) => `volume ${v} is also mounted by ${f.name}`)),
      ];
      if (bound.length) return refuse(`not migrating ${service.name} alone: ${bound.join('; ')} on ${from}; moving it would split them (see homestation services)`);
    }
    if (await target.inspectRaw(name)) return refuse(`${to} already has a container named ${name}; remove or rename it there first`);
    for (const m of plan.copy) {
      if (m.kind === 'volume' && (await target.volumeExists(m.source))) {
        return refuse(`volume ${m.source} already exists on ${to} (an earlier copy?): copying into it would merge old files with new ones; remove it there (docker volume rm ${m.source}) and migrate again. Nothing was changed.`);
      }
    }
    const targetHasImage = await target.hasImage(imageId as string);
    if (!targetHasImage && sourceDown) {
      return refuse(`the image ${String(imageId).slice(0, 19)} is not on ${to}, and the source host ${from} is down (${sourceDown}) so it cannot be copied; load it there first`);
    }

    const m = this.journal.openMigration({ incidentId: req.incidentId, service: service.name, source: from, target: to, at: this.now() });
    const progress: MigrationProgress = { createdVolumes: [], stateBytes: 0, imageBytes: 0 };
    const step = (what: string, detail: string) => {
      this.journal.migrationStep(m.id, what, progress);
      record('action', `migrate: ${what}`, 'started', detail);
      this.log.info({ service: service.name, migration: m.id, step: what, from, to }, `migrate ${service.name}: ${detail}`);
    };
    record('decision', 'migrate', 'ok', `${from} -> ${to} (migration ${m.id}), created from ${madeFrom}; copying ${plan.copy.length ? plan.copy.map((x) => `${x.kind} ${x.source}`).join(', ') : 'no state'}${plan.skipped.length ? `; not copied: ${plan.skipped.map((x) => `${x.mount.source} (${x.why})`).join(', ')}` : ''}`);
    const t0 = this.now();
    try {
      if (container) {
        progress.sourceContainer = container.id;
        progress.sourceWasRunning = container.running;
        step('stop_source', `stopping ${name} on ${from}`);
        await source.stop(container.id, service.stop_timeout);
      } else {
        // A host that is down may come back with the old container (its restart policy): fenced then.
        if (sourceDown) progress.sourceLeft = name;
        record('action', 'migrate: stop_source', 'skipped', sourceDown ? `${from} is down (${sourceDown}); its ${name} is stopped when it is back` : `no container on ${from}`);
      }
      if (!targetHasImage) {
        step('copy_image', `copying image ${String(imageId).slice(0, 19)} to ${to}`);
        const bytes = await copyImage(source, target, imageId as string, (b) => {
          progress.imageBytes = b;
          this.journal.migrationStep(m.id, 'copy_image', progress);
        });
        record('action', 'migrate: copy_image', 'ok', `${mb(bytes)}`);
      }
      step('create_target', `creating ${name} on ${to}`);
      for (const v of plan.volumes) {
        if (await target.volumeExists(v)) continue;
        // Recorded before it exists: a restart in between removes what may have been made.
        progress.createdVolumes = [...(progress.createdVolumes ?? []), v];
        this.journal.migrationStep(m.id, 'create_target', progress);
        await target.createVolume(v, { [MIGRATION_LABEL]: String(m.id) });
      }
      progress.targetContainer = await target.create({ ...options, Labels: { ...(options.Labels ?? {}), [MIGRATION_LABEL]: String(m.id) } });
      this.journal.migrationStep(m.id, 'create_target', progress);
      for (const mount of plan.copy) {
        step(`copy ${mount.kind} ${mount.source}`, `copying ${mount.kind} ${mount.source} (${mount.destination})`);
        const before = progress.stateBytes ?? 0;
        const t1 = this.now();
        const bytes = await copyMount({ driver: source, container: container?.id as string }, { driver: target, container: progress.targetContainer }, mount.destination, (b) => {
          progress.stateBytes = before + b;
          this.journal.migrationStep(m.id, `copy ${mount.kind} ${mount.source}`, progress);
        });
        const s = Math.max(1, this.now() - t1) / 1000;
        record('action', `migrate: copy ${mount.kind} ${mount.source}`, 'ok', `${mb(bytes)} in ${s.toFixed(1)} s (${mb(bytes / s)}/s)`);
      }
      step('start_target', `starting ${name} on ${to}`);
      await target.start(progress.targetContainer);
      step('check', `recovery check on ${to}`);
      const check = await waitForRecovery(target, service, progress.targetContainer, service.recovery_deadline);
      record('check', 'migrate: target', check.ok ? 'ok' : 'failed', check.detail);
      if (!check.ok) throw new Error(`the target failed its recovery check: ${check.detail}`);
      step('verified', `${name} passes its check on ${to}`);
      this.hosts.place(service.name, to);
      await this.finishSource(m.id, service, name, from, progress, record);
      const detail = `${service.name} moved ${from} -> ${to} in ${((this.now() - t0) / 1000).toFixed(1)} s (state ${mb(progress.stateBytes ?? 0)}, image ${mb(progress.imageBytes ?? 0)})`;
      this.journal.endMigration(m.id, 'done', detail, this.now(), progress);
      return { result: 'migrated', check, migration: m.id };
    } catch (err) {
      const reason = (err as Error).message;
      this.log.warn({ service: service.name, migration: m.id, err: reason }, `migrate ${service.name} failed: rolling back`);
      await this.rollback(this.journal.migration(m.id) as MigrationRecord, progress, reason, record);
      return { result: 'rolled_back', reason, migration: m.id };
    }
  }

  /** The source container once the target is verified: removed, or kept stopped under another name. Its volumes stay. */
  private async finishSource(id: number, service: ServiceConfig, name: string, from: string, progress: MigrationProgress, record: Recorder): Promise<void> {
    this.journal.migrationStep(id, 'finish_source', progress);
    if (!progress.sourceContainer) return;
    const source = this.hosts.driver(from);
    try {
      if (service.migrate?.source === 'keep_stopped') {
        const parked = `${name}-hs-migrated-${this.now()}`;
        await source.rename(progress.sourceContainer, parked);
        record('action', 'migrate: finish_source', 'ok', `${name} kept stopped on ${from} as ${parked} (its volumes kept)`);
      } else {
        await source.remove(progress.sourceContainer);
        record('action', 'migrate: finish_source', 'ok', `${name} removed from ${from} (its volumes kept)`);
      }
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      progress.sourceLeft = name;
      this.journal.migrationStep(id, 'finish_source', progress);
      record('action', 'migrate: finish_source', 'failed', `${name} is left on ${from}, stopped: ${(err as Error).message}; it is stopped again if it ever runs there`);
    }
  }

  /**
   * The fence: a source host that was down during a migration may come back and start
   * the old container by its restart policy, a second copy of the service beside the
   * migrated one. Once that host answers, its container of the service is stopped and
   * set aside as configured. Run at start and with the periodic recording.
   */
  async fence(services: readonly ServiceConfig[]): Promise<string[]> {
    const fenced: string[] = [];
    for (const m of this.journal.migrationsLeavingSource()) {
      const name = m.progress.sourceLeft as string;
      // Moved back there since: that container is the service now.
      if (this.hosts.hostOf(configOf(services, m.service)) === m.source) {
        this.journal.migrationStep(m.id, m.step, { ...m.progress, sourceLeft: undefined });
        continue;
      }
      const source = this.hosts.driver(m.source);
      const found = await source
        .ping()
        .then(() => source.inspect(name))
        .catch(() => null);
      if (found === null) continue; // Still down.
      const progress = { ...m.progress, sourceLeft: undefined };
      if (found) {
        const service = configOf(services, m.service);
        await source.stop(found.id, service.stop_timeout);
        progress.sourceContainer = found.id;
        const record: Recorder = (kind, what, result, detail) => this.journal.entry({ at: this.now(), incidentId: m.incidentId, service: m.service, kind, what, result, detail });
        record('action', 'migrate: fence', 'ok', `${m.source} is back with ${name} (${found.running ? 'running' : found.state}): stopped, the service runs on ${m.target} since migration ${m.id}`);
        await this.finishSource(m.id, service, name, m.source, progress, record);
        this.log.warn({ service: m.service, host: m.source, migration: m.id }, `${m.source} came back with the old ${name}: stopped (the service runs on ${m.target})`);
        fenced.push(m.service);
      }
      if (!progress.sourceLeft) this.journal.migrationStep(m.id, m.step, progress);
    }
    return fenced;
  }

  /** Undoes a migration that did not pass its check: what was made on the target goes, the source starts again. */
  private async rollback(m: MigrationRecord, progress: MigrationProgress, reason: string, record: Recorder): Promise<void> {
    const target = this.hosts.driver(m.target);
    const problems: string[] = [];
    const made = new Set<string>(progress.targetContainer ? [progress.targetContainer] : []);
    for (const c of await target.withLabel(`${MIGRATION_LABEL}=${m.id}`).catch(() => [])) made.add(c.id);
    for (const id of made) {
      await target.remove(id).catch((err: Error & { statusCode?: number }) => {
        if (err.statusCode !== 404) problems.push(`container ${id.slice(0, 12)} on ${m.target}: ${err.message}`);
      });
    }
    for (const v of progress.createdVolumes ?? []) {
      await target.removeVolume(v).catch((err: Error & { statusCode?: number }) => {
        if (err.statusCode !== 404) problems.push(`volume ${v} on ${m.target}: ${err.message}`);
      });
    }
    let started = '';
    if (progress.sourceContainer) {
      try {
        await this.hosts.driver(m.source).start(progress.sourceContainer);
        started = `; the source container started again on ${m.source}`;
      } catch (err) {
        problems.push(`starting the source on ${m.source}: ${(err as Error).message}`);
      }
    }
    const detail = `${reason}: removed what was made on ${m.target}${started}${problems.length ? `; left: ${problems.join('; ')}` : ''}`;
    record('action', 'migrate: rollback', problems.length ? 'partial' : 'ok', detail);
    this.journal.endMigration(m.id, 'rolled_back', detail, this.now(), progress);
  }

  /**
   * Migrations a killed predecessor left running: rolled back when the target had not
   * passed its check yet, finished when it had. Returns them.
   */
  async recover(services: readonly ServiceConfig[], recordFor: (m: MigrationRecord) => Recorder): Promise<MigrationRecord[]> {
    const found = this.journal.runningMigrations();
    for (const m of found) {
      const record = recordFor(m);
      const service = configOf(services, m.service);
      if (VERIFIED_STEPS.has(m.step)) {
        record('decision', 'migrate: resume', 'ok', `migration ${m.id} was interrupted after the target passed its check: finishing it`);
        this.hosts.place(m.service, m.target);
        const raw = m.progress.targetContainer ? await this.hosts.driver(m.target).inspectRaw(m.progress.targetContainer).catch(() => undefined) : undefined;
        await this.finishSource(m.id, service, raw?.Name.replace(/^\//, '') ?? m.service, m.source, m.progress, record);
        this.journal.endMigration(m.id, 'done', `finished after a restart of the remediator (${m.source} -> ${m.target})`, this.now(), m.progress);
      } else {
        record('decision', 'migrate: resume', 'ok', `migration ${m.id} was interrupted at ${m.step}: rolling back`);
        await this.rollback(m, m.progress, `interrupted at ${m.step} by a restart of the remediator`, record);
      }
    }
    return found;
  }
}


