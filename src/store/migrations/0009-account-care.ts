// Migration 0009_account_care. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration } from 'kysely';

export const accountCare: Migration = {
  // The privacy-policy version a user accepted (and when), and password-reset codes: one open
  // code per account, stored by hash, with its expiry and the wrong guesses spent on it.
  async up(db: Kysely<any>) {
    await db.schema.alterTable('users').addColumn('policy_version', 'text').execute();
    await db.schema.alterTable('users').addColumn('policy_accepted_at', 'bigint').execute();
    await db.schema
      .createTable('password_resets')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('password_resets_expiry').on('password_resets').column('expires_at').execute();
  },
};
