// Schema migrations, applied in order at start. Append new ones; never edit a landed one.
// Each migration lives in its own file under ./migrations/; this list fixes their order and the
// keys Kysely records in the database, which must never change (a renamed key re-runs or skips one).
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { DialectName } from './db.js';
import { accountsFamiliesDevices } from './migrations/0001-accounts-families-devices.js';
import { location } from './migrations/0002-location.js';
import { messaging } from './migrations/0003-messaging.js';
import { privacy } from './migrations/0004-privacy.js';
import { positioningMigration } from './migrations/0005-positioning.js';
import { idempotencyPerConversationMigration } from './migrations/0006-idempotency-per-conversation.js';
import { locationSince } from './migrations/0007-location-since.js';
import { watchGateway } from './migrations/0008-watch-gateway.js';
import { accountCare } from './migrations/0009-account-care.js';
import { dataRights } from './migrations/0010-data-rights.js';
import { notificationsMigration } from './migrations/0011-notifications.js';

export const migrationsFor = (dialect: DialectName): Record<string, Migration> => ({
  '0001_accounts_families_devices': accountsFamiliesDevices,
  '0002_location': location,
  '0003_messaging': messaging(dialect),
  '0004_privacy': privacy,
  '0005_positioning': positioningMigration(dialect),
  '0006_idempotency_per_conversation': idempotencyPerConversationMigration(dialect),
  '0007_location_since': locationSince,
  '0008_watch_gateway': watchGateway,
  '0009_account_care': accountCare,
  '0010_data_rights': dataRights,
  '0011_notifications': notificationsMigration,
});

export async function migrateToLatest(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(dialect) };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? '(none)'} failed: ${String(error)}`, { cause: error });
  }
}
