/** Shapes shared by the backup parsers. */

/** One backup: a restic snapshot, a borg archive or a dump file. */
export interface Snapshot {
  /** When it was taken, seconds since the epoch. */
  readonly time: number;
  /** restic: the host it came from. */
  readonly host?: string;
  /** restic: backed-up paths, sorted. */
  readonly paths?: readonly string[];
  /** restic: tags, sorted. */
  readonly tags?: readonly string[];
  /** borg: archive name; files: file path. */
  readonly name?: string;
  /** Size of what it holds, where the tool reports it. */
  readonly sizeBytes?: number;
}

/** What a parser read, and what it met but could not use (reported, not fatal). */
export interface Parsed<T> {
  readonly items: T[];
  readonly warnings: string[];
}

/** The whole output is unusable (not JSON, wrong shape). */
export class ParseError extends Error {
  override readonly name = 'ParseError';
}
