// Deleting a family for good, inside a caller's transaction: its watches are unbound (each with
// a fresh binding code, so it can be bound again without the maker) and lose what they recorded
// for it; its media rows are listed for the blob store; everything else of it goes with the
// family row (ON DELETE CASCADE). Used when the owner deletes the family and when its last
// owner's account is erased (src/store/accounts-erasure.ts).
import type { Transaction } from 'kysely';
import type { Database } from './schema.js';

export interface FamilyDeletion {
  /** Watches unbound from the family; each has the new binding code it was given. */
  unboundDevices: string[];
  /** Media whose bytes must be deleted from the blob store. */
  mediaIds: string[];
}

export type NewBindingCode = (deviceId: string) => { hash: string; expiresAt: number };

export async function deleteFamilyIn(
  tx: Transaction<Database>,
  familyId: string,
  newBindingCode: NewBindingCode,
): Promise<FamilyDeletion> {
  const unboundDevices: string[] = [];
  const devices = await tx.selectFrom('devices').select(['id', 'bound_at']).where('family_id', '=', familyId).execute();
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
        location_since: null,
        perm_location: 0,
        perm_camera: 0,
        perm_microphone: 0,
        perm_contacts: 0,
        perm_health: 0,
        binding_code_hash: code.hash,
        binding_code_expires_at: code.expiresAt,
      })
      .where('id', '=', d.id)
      .execute();
    unboundDevices.push(d.id);
  }
  // What the family's watches recorded in its earlier bindings of them (device_bindings, migration
  // 0010) is its data too, and goes with it.
  const former = await tx
    .selectFrom('device_bindings')
    .select(['device_id', 'bound_at', 'unbound_at'])
    .where('family_id', '=', familyId)
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
  const media = await tx.selectFrom('media').select('id').where('family_id', '=', familyId).execute();
  await tx.deleteFrom('audit_log').where('family_id', '=', familyId).execute();
  // Conversations, messages, media rows, geofences, alerts, commands, consents, invites
  // and memberships go with the family (ON DELETE CASCADE).
  await tx.deleteFrom('families').where('id', '=', familyId).execute();
  return { unboundDevices, mediaIds: media.map((m) => m.id) };
}
