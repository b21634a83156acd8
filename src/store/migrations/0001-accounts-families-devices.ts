// Migration 0001_accounts_families_devices. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration } from 'kysely';

export const accountsFamiliesDevices: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.unique())
      .addColumn('password_hash', 'text')
      .addColumn('nickname', 'text', (c) => c.notNull())
      .addColumn('external_subject', 'text', (c) => c.unique())
      .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('refresh_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('chain_id', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('refresh_tokens_chain').on('refresh_tokens').column('chain_id').execute();
    await db.schema.createIndex('refresh_tokens_user').on('refresh_tokens').column('user_id').execute();

    await db.schema
      .createTable('families')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('family_members')
      .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('joined_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('family_members_pk', ['family_id', 'user_id'])
      .execute();
    await db.schema.createIndex('family_members_user').on('family_members').column('user_id').execute();

    await db.schema
      .createTable('invites')
      .addColumn('code_hash', 'text', (c) => c.primaryKey())
      .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('used_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('imei', 'text', (c) => c.notNull().unique())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('binding_code_hash', 'text', (c) => c.unique())
      .addColumn('binding_code_expires_at', 'bigint')
      .addColumn('family_id', 'text', (c) => c.references('families.id').onDelete('set null'))
      .addColumn('child_name', 'text')
      .addColumn('bound_at', 'bigint')
      .addColumn('perm_location', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('perm_camera', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('perm_microphone', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('perm_contacts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('devices_family').on('devices').column('family_id').execute();
  },
};
