// The store: one repository per aggregate over one Kysely database.
import { sql } from 'kysely';
import { AccountErasure } from './accounts-erasure.js';
import { AccessPointRepository } from './access-points.js';
import { AlertRepository } from './alerts.js';
import { AuditRepository } from './audit.js';
import { CellTowerRepository } from './cell-towers.js';
import { CommandRepository } from './commands.js';
import { type DialectName, openDatabase } from './db.js';
import { DeviceRepository } from './devices.js';
import { FamilyRepository } from './families.js';
import { FixObservationRepository } from './fix-observations.js';
import { FixRepository } from './fixes.js';
import { GeofenceRepository } from './geofences.js';
import { HealthRepository } from './health.js';
import { DatabaseMediaBlobs, type MediaBlobs } from './media-blobs.js';
import { MessageRepository } from './messages.js';
import { PasswordResetRepository } from './password-resets.js';
import { PrivacyQueries } from './privacy-queries.js';
import { RetentionRepository } from './retention.js';
import { PushOutboxRepository } from './push-outbox.js';
import { migrateToLatest } from './migrations.js';
import {
  GeofenceEventRepository,
  NotificationSettingsRepository,
  PushRegistrationRepository,
  WatchLivenessRepository,
} from './notifications.js';
import { SessionRepository } from './sessions.js';
import { type FixSink, SqliteFixThread } from './sqlite-fix-thread.js';
import { UserRepository } from './users.js';

export interface Store {
  readonly dialect: DialectName;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly passwordResets: PasswordResetRepository;
  readonly devices: DeviceRepository;
  readonly families: FamilyRepository;
  readonly fixes: FixRepository;
  /** Where group-committed fixes are written: a thread of its own for SQLite, the repository for PostgreSQL. */
  readonly fixSink: FixSink;
  /** Batches of fixes that may commit at once (SQLite has one writer). */
  readonly fixBatchesInFlight: number;
  readonly audit: AuditRepository;
  readonly geofences: GeofenceRepository;
  readonly alerts: AlertRepository;
  readonly messages: MessageRepository;
  readonly mediaBlobs: MediaBlobs;
  readonly commands: CommandRepository;
  readonly push: PushOutboxRepository;
  readonly pushRegistrations: PushRegistrationRepository;
  readonly notificationSettings: NotificationSettingsRepository;
  readonly geofenceEvents: GeofenceEventRepository;
  readonly liveness: WatchLivenessRepository;
  readonly erasure: AccountErasure;
  readonly privacy: PrivacyQueries;
  readonly retention: RetentionRepository;
  readonly cellTowers: CellTowerRepository;
  readonly accessPoints: AccessPointRepository;
  readonly fixObservations: FixObservationRepository;
  readonly health: HealthRepository;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the database, applies pending migrations and returns the repositories. */
export async function openStore(url: string): Promise<Store> {
  const { db, dialect } = openDatabase(url);
  try {
    await migrateToLatest(db, dialect);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const fixes = new FixRepository(db);
  // A file database writes its fixes from a thread of its own (an in-memory one cannot be shared).
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : undefined;
  const thread = file && file !== ':memory:' ? new SqliteFixThread(file) : undefined;
  const fixSink: FixSink = thread ?? fixes;
  return {
    dialect,
    users: new UserRepository(db),
    sessions: new SessionRepository(db),
    passwordResets: new PasswordResetRepository(db),
    devices: new DeviceRepository(db, dialect),
    families: new FamilyRepository(db, dialect),
    fixes,
    fixSink,
    fixBatchesInFlight: dialect === 'sqlite' ? 1 : 3,
    audit: new AuditRepository(db),
    geofences: new GeofenceRepository(db),
    alerts: new AlertRepository(db),
    messages: new MessageRepository(db, dialect),
    mediaBlobs: new DatabaseMediaBlobs(db),
    commands: new CommandRepository(db, dialect),
    push: new PushOutboxRepository(db),
    pushRegistrations: new PushRegistrationRepository(db),
    notificationSettings: new NotificationSettingsRepository(db),
    geofenceEvents: new GeofenceEventRepository(db),
    liveness: new WatchLivenessRepository(db),
    erasure: new AccountErasure(db),
    privacy: new PrivacyQueries(db),
    retention: new RetentionRepository(db),
    cellTowers: new CellTowerRepository(db, dialect),
    accessPoints: new AccessPointRepository(db, dialect),
    fixObservations: new FixObservationRepository(db),
    health: new HealthRepository(db, dialect),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (thread) await thread.close();
      await db.destroy();
    },
  };
}
