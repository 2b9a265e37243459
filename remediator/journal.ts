/**
 * The durable journal (SQLite, WAL): every alert received, every decision (with
 * refusals and suppressions and their reason), every action, check and outcome.
 * Written before acting, so a remediator killed mid-action finds the unfinished
 * incident when it starts again.
 */
import type BetterSqlite3 from 'better-sqlite3';

export type IncidentState = 'acting' | 'recovered' | 'failed' | 'refused' | 'resolved';
/** How the start of a failure is known, best first. */
export const FAILURE_START_SOURCES = ['container_event', 'watch', 'alert_start_minus_for', 'alert_start', 'manual'] as const;
export type FailureStartSource = (typeof FAILURE_START_SOURCES)[number];

export interface Incident {
  readonly id: number;
  readonly service: string;
  readonly alertKey: string;
  readonly alertname: string;
  readonly state: IncidentState;
  readonly reason: string | null;
  readonly startedAt: number;
  /** The best-known start of the failure (what recovery time is measured from). */
  readonly alertStartsAt: number;
  /** Where that start comes from: container_event, watch, alert_start_minus_for, alert_start or manual. */
  readonly since: FailureStartSource;
  readonly endedAt: number | null;
  readonly recoverySeconds: number | null;
}

export interface JournalEntry {
  readonly id: number;
  readonly at: number;
  readonly incidentId: number | null;
  readonly service: string | null;
  readonly kind: 'alert' | 'decision' | 'action' | 'check' | 'outcome';
  readonly what: string;
  readonly result: string;
  readonly detail: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alerts (
  key TEXT NOT NULL, status TEXT NOT NULL, received_at INTEGER NOT NULL,
  fingerprint TEXT NOT NULL, starts_at TEXT NOT NULL, labels TEXT NOT NULL,
  PRIMARY KEY (key, status)
);
CREATE TABLE IF NOT EXISTS incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  service TEXT NOT NULL, alert_key TEXT NOT NULL, alertname TEXT NOT NULL,
  state TEXT NOT NULL, reason TEXT,
  started_at INTEGER NOT NULL, alert_starts_at INTEGER NOT NULL,
  ended_at INTEGER, recovery_seconds REAL
);
CREATE INDEX IF NOT EXISTS incidents_service ON incidents (service, started_at);
CREATE INDEX IF NOT EXISTS incidents_key ON incidents (alert_key);
CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
  incident_id INTEGER, service TEXT, kind TEXT NOT NULL,
  what TEXT NOT NULL, result TEXT NOT NULL, detail TEXT
);
CREATE INDEX IF NOT EXISTS entries_incident ON entries (incident_id);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS migrations (
  id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id INTEGER, service TEXT NOT NULL,
  source TEXT NOT NULL, target TEXT NOT NULL, state TEXT NOT NULL, step TEXT NOT NULL,
  started_at INTEGER NOT NULL, ended_at INTEGER, detail TEXT,
  progress TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS chat_messages (
  key TEXT NOT NULL, channel TEXT NOT NULL, message_id TEXT, body TEXT NOT NULL,
  version INTEGER NOT NULL, sent_version INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (key, channel)
);
`;

/**
 * One chat message (an incident's, or an alert storm's summary) on one channel, as
 * the outbox keeps it: what it should say now (`body`, version), what was last
 * delivered (sent_version), and when to try again.
 */
export interface ChatRow {
  readonly key: string;
  readonly channel: string;
  readonly messageId: string | null;
  readonly body: string;
  readonly version: number;
  readonly sentVersion: number;
  readonly attempts: number;
  readonly nextAt: number;
  readonly lastError: string | null;
  readonly createdAt: number;
}
interface ChatDbRow {
  key: string;
  channel: string;
  message_id: string | null;
  body: string;
  version: number;
  sent_version: number;
  attempts: number;
  next_at: number;
  last_error: string | null;
  created_at: number;
}
const toChat = (r: ChatDbRow): ChatRow => ({
  key: r.key,
  channel: r.channel,
  messageId: r.message_id,
  body: r.body,
  version: r.version,
  sentVersion: r.sent_version,
  attempts: r.attempts,
  nextAt: r.next_at,
  lastError: r.last_error,
  createdAt: r.created_at,
});

export type MigrationState = 'running' | 'done' | 'rolled_back' | 'refused';

/**
 * A migration as the journal holds it. `progress` is what a restart needs to finish
 * or undo it: what was created on the target, whether the source was running.
 */
export interface MigrationRecord {
  readonly id: number;
  readonly incidentId: number | null;
  readonly service: string;
  readonly source: string;
  readonly target: string;
  readonly state: MigrationState;
  readonly step: string;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly detail: string | null;
  readonly progress: MigrationProgress;
}

export interface MigrationProgress {
  /** The source container (ID) and whether it ran before the migration stopped it. */
  sourceContainer?: string;
  sourceWasRunning?: boolean;
  /** The container created on the target (ID), and the volumes created there for it. */
  targetContainer?: string;
  createdVolumes?: string[];
  /** The source container's name when the source host could not be told to stop it (down): fenced when it is back. */
  sourceLeft?: string;
  /** Bytes of state copied so far, and of the image. */
  stateBytes?: number;
  imageBytes?: number;
}

interface MigrationRow {
  id: number;
  incident_id: number | null;
  service: string;
  source: string;
  target: string;
  state: MigrationState;
  step: string;
  started_at: number;
  ended_at: number | null;
  detail: string | null;
  progress: string;
}

const toMigration = (r: MigrationRow): MigrationRecord => ({
  id: r.id,
  incidentId: r.incident_id,
  service: r.service,
  source: r.source,
  target: r.target,
  state: r.state,
  step: r.step,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  detail: r.detail,
  progress: JSON.parse(r.progress) as MigrationProgress,
});

interface IncidentRow {
  id: number;
  service: string;
  alert_key: string;
  alertname: string;
  state: IncidentState;
  reason: string | null;
  started_at: number;
  alert_starts_at: number;
  since: string | null;
  ended_at: number | null;
  recovery_seconds: number | null;
}

const toIncident = (r: IncidentRow): Incident => ({
  id: r.id,
  service: r.service,
  alertKey: r.alert_key,
  alertname: r.alertname,
  state: r.state,
  reason: r.reason,
  startedAt: r.started_at,
  alertStartsAt: r.alert_starts_at,
  since: (r.since ?? 'alert_start') as FailureStartSource,
  endedAt: r.ended_at,
  recoverySeconds: r.recovery_seconds,
});

interface EntryRow {
  id: number;
  at: number;
  incident_id: number | null;
  service: string | null;
  kind: JournalEntry['kind'];
  what: string;
  result: string;
  detail: string | null;
}

const toEntry = (r: EntryRow): JournalEntry => ({
  id: r.id,
  at: r.at,
  incidentId: r.incident_id,
  service: r.service,
  kind: r.kind,
  what: r.what,
  result: r.result,
  detail: r.detail,
});

export class Journal {
  private constructor(private readonly db: BetterSqlite3.Database) {}

  /** Opens (and creates) the journal; better-sqlite3 is loaded only here. */
  /** Opens an existing journal for reading only (the CLI, beside a running remediator). */
  static async openReadOnly(path: string): Promise<Journal> {
    const { default: Database } = await import('better-sqlite3');
    return new Journal(new Database(path, { readonly: true, fileMustExist: true }));
  }

  static async open(path: string): Promise<Journal> {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    // Every write reaches the disk before the action it records is taken.
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    // Journals from before the failure start had its source: add the column (NULL = alert_start).
    const columns = (db.prepare('PRAGMA table_info(incidents)').all() as { name: string }[]).map((c) => c.name);
    if (!columns.includes('since')) db.exec('ALTER TABLE incidents ADD COLUMN since TEXT');
    return new Journal(db);
  }

  close(): void {
    this.db.close();
  }

  /** Records a received alert; false when this (key, status) was seen before. */
  recordAlert(key: string, status: string, fingerprint: string, startsAt: string, labels: Record<string, string>, at: number): boolean {
    const res = this.db
      .prepare('INSERT OR IGNORE INTO alerts (key, status, received_at, fingerprint, starts_at, labels) VALUES (?, ?, ?, ?, ?, ?)')
      .run(key, status, at, fingerprint, startsAt, JSON.stringify(labels));
    return res.changes === 1;
  }

  openIncident(
    service: string,
    alertKey: string,
    alertname: string,
    alertStartsAt: number,
    at: number,
    state: IncidentState = 'acting',
    reason: string | null = null,
    since: FailureStartSource = 'alert_start',
  ): Incident {
    const res = this.db
      .prepare(
        'INSERT INTO incidents (service, alert_key, alertname, state, reason, started_at, alert_starts_at, ended_at, since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(service, alertKey, alertname, state, reason, at, alertStartsAt, state === 'acting' ? null : at, since);
    return this.incident(Number(res.lastInsertRowid)) as Incident;
  }

  closeIncident(id: number, state: IncidentState, reason: string | null, at: number, recoverySeconds: number | null = null): void {
    this.db
      .prepare('UPDATE incidents SET state = ?, reason = ?, ended_at = ?, recovery_seconds = ? WHERE id = ?')
      .run(state, reason, at, recoverySeconds, id);
  }

  incident(id: number): Incident | undefined {
    const row = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as IncidentRow | undefined;
    return row ? toIncident(row) : undefined;
  }

  /** Newest first. */
  incidents(limit = 100): Incident[] {
    return (this.db.prepare('SELECT * FROM incidents ORDER BY id DESC LIMIT ?').all(limit) as IncidentRow[]).map(toIncident);
  }

  /** Incidents left 'acting' by a remediator that stopped mid-action. */
  unfinished(): Incident[] {
    return (this.db.prepare("SELECT * FROM incidents WHERE state = 'acting' ORDER BY id").all() as IncidentRow[]).map(toIncident);
  }

  /** The newest acted-on incident of an alert key. */
  latestForKey(alertKey: string): Incident | undefined {
    const row = this.db
      .prepare("SELECT * FROM incidents WHERE alert_key = ? AND state != 'refused' ORDER BY id DESC LIMIT 1")
      .get(alertKey) as IncidentRow | undefined;
    return row ? toIncident(row) : undefined;
  }

  /** The newest refusal of an alert key (one refusal per alert, not one per resend). */
  refusedForKey(alertKey: string): Incident | undefined {
    const row = this.db
      .prepare("SELECT * FROM incidents WHERE alert_key = ? AND state = 'refused' ORDER BY id DESC LIMIT 1")
      .get(alertKey) as IncidentRow | undefined;
    return row ? toIncident(row) : undefined;
  }

  /** The newest refusal of a service, whatever its alert. */
  latestRefusalForService(service: string): Incident | undefined {
    const row = this.db
      .prepare("SELECT * FROM incidents WHERE service = ? AND state = 'refused' ORDER BY id DESC LIMIT 1")
      .get(service) as IncidentRow | undefined;
    return row ? toIncident(row) : undefined;
  }

  /** Whether Alertmanager has said this firing resolved. */
  alertResolved(alertKey: string): boolean {
    return this.db.prepare("SELECT 1 FROM alerts WHERE key = ? AND status = 'resolved'").get(alertKey) !== undefined;
  }

  /** The newest acted-on incident of a service. */
  /** The service's newest incident, whatever its state (a failed one a resolved alert closed reads resolved). */
  newestForService(service: string): Incident | undefined {
    const row = this.db.prepare('SELECT * FROM incidents WHERE service = ? ORDER BY id DESC LIMIT 1').get(service) as IncidentRow | undefined;
    return row ? toIncident(row) : undefined;
  }

  latestForService(service: string): Incident | undefined {
    const row = this.db
      .prepare("SELECT * FROM incidents WHERE service = ? AND state IN ('acting', 'recovered', 'failed') ORDER BY id DESC LIMIT 1")
      .get(service) as IncidentRow | undefined;
    return row ? toIncident(row) : undefined;
  }

  /** Actions taken on a service since `since` (for the rate limit; a migrate's own steps are not actions of their own). */
  actionsSince(service: string, since: number): number {
    const row = this.db
      .prepare("SELECT COUNT(*) AS n FROM entries WHERE service = ? AND kind = 'action' AND result = 'started' AND what IN ('restart', 'redeploy', 'migrate', 'recreate') AND at >= ?")
      .get(service, since) as { n: number };
    return row.n;
  }

  entry(e: Omit<JournalEntry, 'id'>): void {
    this.db
      .prepare('INSERT INTO entries (at, incident_id, service, kind, what, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.at, e.incidentId, e.service, e.kind, e.what, e.result, e.detail);
  }

  entries(incidentId: number): JournalEntry[] {
    return (this.db.prepare('SELECT * FROM entries WHERE incident_id = ? ORDER BY id').all(incidentId) as EntryRow[]).map(toEntry);
  }


  // --- migrations: every step written before it is taken ---

  openMigration(m: { incidentId: number | null; service: string; source: string; target: string; at: number }): MigrationRecord {
    const res = this.db
      .prepare("INSERT INTO migrations (incident_id, service, source, target, state, step, started_at) VALUES (?, ?, ?, ?, 'running', 'plan', ?)")
      .run(m.incidentId, m.service, m.source, m.target, m.at);
    return this.migration(Number(res.lastInsertRowid)) as MigrationRecord;
  }

  migrationStep(id: number, step: string, progress: MigrationProgress): void {
    this.db.prepare('UPDATE migrations SET step = ?, progress = ? WHERE id = ?').run(step, JSON.stringify(progress), id);
  }

  endMigration(id: number, state: Exclude<MigrationState, 'running'>, detail: string, at: number, progress?: MigrationProgress): void {
    if (progress) this.db.prepare('UPDATE migrations SET progress = ? WHERE id = ?').run(JSON.stringify(progress), id);
    this.db.prepare('UPDATE migrations SET state = ?, detail = ?, ended_at = ? WHERE id = ?').run(state, detail, at, id);
  }

  migration(id: number): MigrationRecord | undefined {
    const row = this.db.prepare('SELECT * FROM migrations WHERE id = ?').get(id) as MigrationRow | undefined;
    return row ? toMigration(row) : undefined;
  }


  migrationsOf(incidentId: number): MigrationRecord[] {
    return (this.db.prepare('SELECT * FROM migrations WHERE incident_id = ? ORDER BY id').all(incidentId) as MigrationRow[]).map(toMigration);
  }

  /** Finished migrations that left a container on a source host that was down. */
  migrationsLeavingSource(): MigrationRecord[] {
    return (this.db.prepare("SELECT * FROM migrations WHERE state = 'done' AND json_extract(progress, '$.sourceLeft') IS NOT NULL ORDER BY id").all() as MigrationRow[]).map(toMigration);
  }

  /** Migrations a previous process left running (killed mid-migration). */
  runningMigrations(): MigrationRecord[] {
    return (this.db.prepare("SELECT * FROM migrations WHERE state = 'running' ORDER BY id").all() as MigrationRow[]).map(toMigration);
  }

  // --- the chat outbox ---

  chatRow(key: string, channel: string): ChatRow | undefined {
    const row = this.db.prepare('SELECT * FROM chat_messages WHERE key = ? AND channel = ?').get(key, channel) as ChatDbRow | undefined;
    return row ? toChat(row) : undefined;
  }

  /** Sets what the message should say now (a new version to deliver). */
  putChat(key: string, channel: string, body: string, at: number): void {
    this.db
      .prepare(
        `INSERT INTO chat_messages (key, channel, body, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)
         ON CONFLICT(key, channel) DO UPDATE SET body = excluded.body, version = version + 1, updated_at = excluded.updated_at, next_at = MIN(next_at, excluded.updated_at)`,
      )
      .run(key, channel, body, at, at);
  }

  /** Messages with a version not delivered yet, due by `now` (all due times when now is undefined), oldest first. */
  pendingChats(now?: number): ChatRow[] {
    return (
      this.db
        .prepare(`SELECT * FROM chat_messages WHERE version > sent_version ${now === undefined ? '' : 'AND next_at <= ?'} ORDER BY created_at, key`)
        .all(...(now === undefined ? [] : [now])) as ChatDbRow[]
    ).map(toChat);
  }

  chatDelivered(key: string, channel: string, version: number, messageId: string | null, error: string | null = null): void {
    this.db
      .prepare('UPDATE chat_messages SET sent_version = MAX(sent_version, ?), message_id = COALESCE(?, message_id), attempts = 0, next_at = 0, last_error = ? WHERE key = ? AND channel = ?')
      .run(version, messageId, error, key, channel);
  }

  chatRetry(key: string, channel: string, nextAt: number, error: string, forgetMessage = false): void {
    this.db
      .prepare(`UPDATE chat_messages SET attempts = attempts + 1, next_at = ?, last_error = ?${forgetMessage ? ', message_id = NULL' : ''} WHERE key = ? AND channel = ?`)
      .run(nextAt, error, key, channel);
  }

  /** Messages a channel started since `since` (for the storm threshold). */
  chatsStartedSince(channel: string, since: number): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM chat_messages WHERE channel = ? AND key LIKE 'incident:%' AND created_at >= ?").get(channel, since) as { n: number }).n;
  }

  getState(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM state WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setState(key: string, value: string | undefined): void {
    if (value === undefined) this.db.prepare('DELETE FROM state WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}
