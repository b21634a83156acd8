// Erasing an account for good, in one transaction: the user row and everything that names them
// goes; messages they sent stay with the family but no longer point to them; a family left
// without an owner goes entirely, with its watches' data, and its watches are unbound.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export const DELETED_USER = 'deleted-user';

export interface ErasureResult {
  /** Families deleted because the user was their only owner. */
  deletedFamilies: string[];
  /** Watches unbound from those families; each needs a new binding code. */
  unboundDevices: string[];
  /** Media whose bytes must be deleted from the blob store. */
  mediaIds: string[];
  /** Families the user left (still existing). */
  leftFamilies: string[];
}

export class AccountErasure {
  constructor(private readonly db: Kysely<Database>) {}

  erase(userId: string, newBindingCode: (deviceId: string) => { hash: string; expiresAt: number }): Promise<ErasureResult> {
    return this.db.transaction().execute(async (tx) => {
      const memberships = await tx
        .selectFrom('family_members')
        .select(['family_id', 'role'])
        .where('user_id', '=', userId)
        .execute();
      const deletedFamilies: string[] = [];
      const leftFamilies: string[] = [];
      for (const m of memberships) {
        const otherOwners = await tx
          .selectFrom('family_members')
          .select('user_id')
          .where('family_id', '=', m.family_id)
          .where('role', '=', 'owner')
          .where('user_id', '!=', userId)
          .execute();
        (m.role === 'owner' && otherOwners.length === 0 ? deletedFamilies : leftFamilies).push(m.family_id);
      }

      const unboundDevices: string[] = [];
      const mediaIds: string[] = [];
      for (const fid of deletedFamilies) {
        const devices = await tx.selectFrom('devices').select(['id', 'bound_at']).where('family_id', '=', fid).execute();
        for (const d of devices) {
          // The family's share of the watch's track: everything received while bound here. That
          // is a little more than the family sees (inBinding in fixes.ts also needs ts ≥ bound_at):
          // fixes taken before the binding but uploaded during it are visible to no family, so
          // they go too rather than wait for the retention purge.
          await tx
            .deleteFrom('fixes')
            .where('device_id', '=', d.id)
            .where('received_at', '>=', d.bound_at ?? 0)
            .execute();
          await tx.deleteFrom('geofence_states').where('device_id', '=', d.id).execute();
          const code = newBindingCode(d.id);
          await tx
            .updateTable('devices')
            .set({
              family_id: null,
              child_name: null,
              bound_at: null,
              perm_location: 0,
              perm_camera: 0,
              perm_microphone: 0,
              perm_contacts: 0,
              binding_code_hash: code.hash,
              binding_code_expires_at: code.expiresAt,
            })
            .where('id', '=', d.id)
            .execute();
          unboundDevices.push(d.id);
        }
        // What the family's watches recorded in its earlier bindings of them (device_bindings,
        // migration 0010) is its data too, and goes with it.
        const former = await tx
          .selectFrom('device_bindings')
          .select(['device_id', 'bound_at', 'unbound_at'])
          .where('family_id', '=', fid)
          .where('unbound_at', 'is not', null)
          .execute();
        for (const b of former) {
          await tx
            .deleteFrom('fixes')
            .where('device_id', '=', b.device_id)
            .where('received_at', '>=', b.bound_at)
            .where('received_at', '<=', b.unbound_at!)
            .execute();
        }
        const media = await tx.selectFrom('media').select('id').where('family_id', '=', fid).execute();
        mediaIds.push(...media.map((x) => x.id));
        await tx.deleteFrom('audit_log').where('family_id', '=', fid).execute();
        // Conversations, messages, media rows, geofences, alerts, commands, consents, invites
        // and memberships go with the family (ON DELETE CASCADE).
        await tx.deleteFrom('families').where('id', '=', fid).execute();
      }

      // What stays with other families no longer names the user.
      await tx
        .updateTable('messages')
        .set((eb) => ({ sender_id: DELETED_USER, client_msg_id: eb.ref('id') }))
        .where('sender_kind', '=', 'user')
        .where('sender_id', '=', userId)
        .execute();
      await tx.deleteFrom('read_positions').where('reader_kind', '=', 'user').where('reader_id', '=', userId).execute();
      await tx.updateTable('consent_records').set({ changed_by: DELETED_USER }).where('changed_by', '=', userId).execute();
      await tx.updateTable('commands').set({ created_by: DELETED_USER }).where('created_by', '=', userId).execute();
      await tx.updateTable('alerts').set({ acked_by: DELETED_USER }).where('acked_by', '=', userId).execute();
      await tx.updateTable('invites').set({ created_by: DELETED_USER }).where('created_by', '=', userId).execute();
      await tx.updateTable('invites').set({ used_by: DELETED_USER }).where('used_by', '=', userId).execute();
      await tx.updateTable('geofences').set({ created_by: DELETED_USER }).where('created_by', '=', userId).execute();
      await tx
        .updateTable('audit_log')
        .set({ actor_id: DELETED_USER })
        .where('actor_kind', '=', 'user')
        .where('actor_id', '=', userId)
        .execute();
      await tx
        .updateTable('audit_log')
        .set({ subject_id: DELETED_USER })
        .where('subject_kind', '=', 'user')
        .where('subject_id', '=', userId)
        .execute();
      await tx.deleteFrom('push_outbox').where('user_id', '=', userId).execute();
      // Refresh tokens and memberships go with the user row (ON DELETE CASCADE).
      await tx.deleteFrom('users').where('id', '=', userId).execute();
      return { deletedFamilies, unboundDevices, mediaIds, leftFamilies };
    });
  }
}
