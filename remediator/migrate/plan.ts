/**
 * Pure: what a migrate carries. From the create options the service's container is
 * made of (its mounts as `source:destination[:options]` binds) and the service's
 * `state:` config, which mounts are copied, which volumes the target needs, and
 * what stops the migrate before anything is touched: a mount nobody said may be
 * left behind is state that would silently be lost.
 */
import { posix } from 'node:path';

export interface StateConfig {
  readonly volumes?: readonly string[];
  readonly binds?: readonly string[];
  /** Volumes or bind paths not carried: they start empty on the target. */
  readonly skip?: readonly string[];
  readonly recomputable: boolean;
}

/** A host path without its trailing slashes, for comparing what config and engine write. */
const norm = (path: string) => posix.normalize(path).replace(/(.)\/+$/, '$1');

export interface Mount {
  readonly kind: 'volume' | 'bind';
  /** The volume's name, or the host path of a bind. */
  readonly source: string;
  /** Where it is mounted in the container. */
  readonly destination: string;
}

export interface StatePlan {
  /** Mounts whose content is copied, in mount order. */
  readonly copy: readonly Mount[];
  /** Named volumes the target container mounts (created there when missing). */
  readonly volumes: readonly string[];
  /** Mounts left behind, and why. */
  readonly skipped: readonly { mount: Mount; why: string }[];
  /** Reasons the migrate must not start. */
  readonly problems: readonly string[];
}

/** `name:/dest[:ro]` or `/host/path:/dest[:opts]` (what recreateOptions writes). */
export function parseBind(bind: string): Mount {
  const [source = '', destination = ''] = bind.split(':');
  return { kind: source.startsWith('/') ? 'bind' : 'volume', source, destination };
}

export function planState(binds: readonly string[], state: StateConfig | undefined, where: string): StatePlan {
  const mounts = binds.map(parseBind);
  const copy: Mount[] = [];
  const skipped: { mount: Mount; why: string }[] = [];
  const problems: string[] = [];
  const listedVolumes = new Set(state?.volumes ?? []);
  const listedBinds = new Set((state?.binds ?? []).map(norm));
  const skip = new Set((state?.skip ?? []).map((x) => (x.startsWith('/') ? norm(x) : x)));
  for (const m of mounts) {
    const source = m.kind === 'bind' ? norm(m.source) : m.source;
    const listed = m.kind === 'volume' ? listedVolumes.has(source) : listedBinds.has(source);
    if (state?.recomputable) {
      skipped.push({ mount: m, why: 'state is recomputable' });
    } else if (skip.has(source)) {
      skipped.push({ mount: m, why: 'listed in state.skip' });
    } else if (listed) {
      copy.push(m);
    } else {
      problems.push(
        `${m.kind} ${m.source} (on ${m.destination}) is not listed in ${where}.state.${m.kind === 'volume' ? 'volumes' : 'binds'}: list it to carry it, in ${where}.state.skip to start it empty on the target, or set ${where}.state.recomputable: true if all its state can be rebuilt`,
      );
    }
  }
  for (const v of listedVolumes) {
    if (!mounts.some((m) => m.kind === 'volume' && m.source === v)) problems.push(`${where}.state.volumes names ${v}, which the container does not mount`);
  }
  for (const b of listedBinds) {
    if (!mounts.some((m) => m.kind === 'bind' && norm(m.source) === b)) problems.push(`${where}.state.binds names ${b}, which the container does not mount`);
  }
  return { copy, volumes: mounts.filter((m) => m.kind === 'volume').map((m) => m.source), skipped, problems };
}

/**
 * Where to unpack a container archive of `path` so that it lands at `path` again.
 * Docker's archive holds the directory itself (`data/...`: unpack in the parent);
 * podman's holds its content (`/`, `/file`: unpack in the directory itself).
 */
export function unpackPath(firstEntry: string, path: string): string {
  const base = posix.basename(path);
  const first = firstEntry.replace(/^\.\//, '');
  return first === base || first.startsWith(`${base}/`) ? posix.dirname(path) : path;
}
