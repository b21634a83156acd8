// Migration 0007_location_since. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration } from 'kysely';

export const locationSince: Migration = {
  // When the family last turned the watch's location on: a position from before it (kept in
  // the store while sharing was off) is never shown as the newest one.
  async up(db: Kysely<any>) {
    await db.schema.alterTable('devices').addColumn('location_since', 'bigint').execute();
  },
};
