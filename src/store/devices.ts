import type { Kysely, Selectable, Transaction } from 'kysely';
import { E } from '../contract/errors.js';
import { WATCH_PERMISSION_NAMES, type Permissions, type PermissionsUpdate, type WatchPermission } from '../contract/models.js';
import type { DialectName } from './db.js';
import type { ConsentRecordsTable, Database, DevicesTable } from './schema.js';
import { isUniqueViolation } from './errors.js';

export type DeviceRow = Selectable<DevicesTable>;

/** What a write on a watch's behalf needs to still hold when it commits. */
export interface WatchCondition {
  deviceId: string;
  familyId: string;
  permission?: WatchPermission | undefined;
}

/**
 * Inside a write's transaction: the watch is still bound to the family (and the permission still
 * on), with its row locked for share on PostgreSQL, so an unbind or a permission change waits for
 * the write and then sees it (and withdraws it), or goes first and the write is refused. On
 * SQLite, transactions already run one at a time. The check the service made earlier (from its
 * cache) can be stale by then: this one cannot.
 */
export async function requireWatchStill(tx: Transaction<Database>, dialect: DialectName, c: WatchCondition): Promise<void> {
  const row = await tx
    .selectFrom('devices')
    .selectAll()
    .where('id', '=', c.deviceId)
    .$if(dialect === 'postgres', (q) => q.forShare())
    .executeTakeFirst();
  if (row?.family_id !== c.familyId) throw E.watchNotInFamily();
  if (c.permission && !permissionsOf(row)[c.permission]) throw E.permissionOff(c.permission);
}

export function permissionsOf(row: DeviceRow): Permissions {
  return {
    location: row.perm_location === 1,
    camera: row.perm_camera === 1,
    microphone: row.perm_microphone === 1,
    contacts: row.perm_contacts === 1,
    health: row.perm_health === 1,
  };
}

const NO_PERMISSIONS = { perm_location: 0, perm_camera: 0, perm_microphone: 0, perm_contacts: 0, perm_health: 0 };

export interface Registration {
  newId: string;
  imei: string;
  model: string;
  /** The 3G-protocol ID; the IMEI when not given. */
  watchId?: string | undefined;
  bindingCodeHash: string;
  bindingCodeExpiresAt: number;
  now: number;
}

export type ConsentRow = Selectable<ConsentRecordsTable>;

/** One period a watch was bound to a family (device_bindings). */
export interface BindingPeriod {
  boundAt: number;
  /** null while it holds. */
  unboundAt: number | null;
  childName: string | null;
}

/** Ends the open binding period of the watch in the family (an unbind, or the family's watches freed). */
export async function endBindings(db: Kysely<Database>, deviceId: string, familyId: string, now: number): Promise<void> {
  await db
    .updateTable('device_bindings')
    .set({ unbound_at: now })
    .where('device_id', '=', deviceId)
    .where('family_id', '=', familyId)
    .where('unbound_at', 'is', null)
    .execute();
}

export class DeviceRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  /**
   * Registers a watch, or re-registers a known IMEI: its token version goes up (the old device
   * token stops working) and it gets a fresh binding code. An existing binding is kept.
   */
  async register(r: Registration): Promise<DeviceRow> {
    try {
      return await this.registerOnce(r);
    } catch (err) {
      // A concurrent first registration of the same IMEI won the insert: this one re-registers.
      if (!isUniqueViolation(err)) throw err;
      return this.registerOnce(r).catch((again: unknown) => {
        throw isUniqueViolation(again) ? E.watchIdTaken() : again;
      });
    }
  }

  private registerOnce(r: Registration): Promise<DeviceRow> {
    return this.db.transaction().execute(async (tx) => {
      const existing = await tx.selectFrom('devices').selectAll().where('imei', '=', r.imei).executeTakeFirst();
      // A new watch's ID is the IMEI unless given; a known watch keeps its ID unless a new one is given.
      const watchId = r.watchId ?? existing?.watch_id ?? r.imei;
      const holder = await tx.selectFrom('devices').select('imei').where('watch_id', '=', watchId).executeTakeFirst();
      if (holder && holder.imei !== r.imei) throw E.watchIdTaken();
      if (!existing) {
        const row: DeviceRow = {
          id: r.newId,
          imei: r.imei,
          model: r.model,
          watch_id: watchId,
          token_version: 0,
          binding_code_hash: r.bindingCodeHash,
          binding_code_expires_at: r.bindingCodeExpiresAt,
          family_id: null,
          child_name: null,
          bound_at: null,
          location_since: null,
          ...NO_PERMISSIONS,
          created_at: r.now,
        };
        await tx.insertInto('devices').values(row).execute();
        return row;
      }
      const update = {
        model: r.model,
        watch_id: watchId,
        token_version: existing.token_version + 1,
        binding_code_hash: r.bindingCodeHash,
        binding_code_expires_at: r.bindingCodeExpiresAt,
      };
      await tx.updateTable('devices').set(update).where('id', '=', existing.id).execute();
      return { ...existing, ...update };
    });
  }

  /** The watch a 3G-protocol frame names (IDs are matched as written: they are letters and digits). */
  findByWatchId(watchId: string): Promise<DeviceRow | undefined> {
    return this.db.selectFrom('devices').selectAll().where('watch_id', '=', watchId).executeTakeFirst();
  }

  findById(id: string): Promise<DeviceRow | undefined> {
    return this.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listByFamily(familyId: string): Promise<DeviceRow[]> {
    return this.db.selectFrom('devices').selectAll().where('family_id', '=', familyId).orderBy('bound_at').execute();
  }

  /**
   * Binds the watch showing this code to a family. The code is single use: the update that binds
   * also clears it, so two families racing with the same code cannot both win.
   */
  async bindByCode(codeHash: string, familyId: string, childName: string, now: number): Promise<DeviceRow> {
    const device = await this.db.selectFrom('devices').selectAll().where('binding_code_hash', '=', codeHash).executeTakeFirst();
    if (!device || (device.binding_code_expires_at ?? 0) <= now) {
      throw E.codeUnknown('binding code is unknown, already used or expired; show a new code on the watch');
    }
    if (device.family_id !== null) throw E.watchBound();
    const bound = await this.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('devices')
        .set({
          family_id: familyId,
          child_name: childName,
          bound_at: now,
          binding_code_hash: null,
          binding_code_expires_at: null,
          location_since: null,
          ...NO_PERMISSIONS,
        })
        .where('id', '=', device.id)
        .where('binding_code_hash', '=', codeHash)
        .where('family_id', 'is', null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      // The binding's period, kept after it ends: the family's right to export what it recorded.
      await tx
        .insertInto('device_bindings')
        .values({ device_id: device.id, family_id: familyId, child_name: childName, bound_at: now, unbound_at: null })
        .onConflict((oc) => oc.columns(['device_id', 'family_id', 'bound_at']).doNothing())
        .execute();
      return true;
    });
    if (!bound) throw E.codeUnknown('binding code is unknown, already used or expired');
    return (await this.findById(device.id))!;
  }

  /**
   * Unbinds a watch from its family; its permissions go back to all off, it gets the new binding
   * code (by hash), so it can be bound again without the maker, and the binding's period ends `now`.
   */
  async unbind(
    deviceId: string,
    familyId: string,
    code?: { hash: string; expiresAt: number },
    now = Date.now(),
  ): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('devices')
        .set({
          family_id: null,
          child_name: null,
          bound_at: null,
          location_since: null,
          ...NO_PERMISSIONS,
          ...(code ? { binding_code_hash: code.hash, binding_code_expires_at: code.expiresAt } : {}),
        })
        .where('id', '=', deviceId)
        .where('family_id', '=', familyId)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await endBindings(tx, deviceId, familyId, now);
      return true;
    });
  }

  /**
   * The periods the watch was bound to the family, oldest first (`unboundAt` null: it still is).
   * Empty for a family that never had it (or whose periods are past the record, see migration 0010).
   */
  async bindingsOf(deviceId: string, familyId: string): Promise<BindingPeriod[]> {
    const rows = await this.db
      .selectFrom('device_bindings')
      .select(['bound_at', 'unbound_at', 'child_name'])
      .where('device_id', '=', deviceId)
      .where('family_id', '=', familyId)
      .orderBy('bound_at')
      .execute();
    return rows.map((r) => ({
      boundAt: Number(r.bound_at),
      unboundAt: r.unbound_at === null ? null : Number(r.unbound_at),
      childName: r.child_name,
    }));
  }

  /** Sets the permissions and records each change (who, when, previous value) in one transaction. */
  setPermissions(
    deviceId: string,
    familyId: string,
    update: PermissionsUpdate,
    change: { by: string; at: number; newId: () => string },
  ): Promise<DeviceRow | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const before = await tx
        .selectFrom('devices')
        .selectAll()
        .where('id', '=', deviceId)
        .where('family_id', '=', familyId)
        .$if(this.dialect === 'postgres', (q) => q.forUpdate())
        .executeTakeFirst();
      if (!before) return undefined;
      const previous = permissionsOf(before);
      // A client that does not know a later permission (health) leaves it as it is.
      const p: Permissions = { ...update, health: update.health ?? previous.health };
      const set: Record<string, number | null> = Object.fromEntries(
        WATCH_PERMISSION_NAMES.map((n) => [`perm_${n}`, p[n] ? 1 : 0]),
      );
      if (p.location !== previous.location) set.location_since = p.location ? change.at : null;
      await tx.updateTable('devices').set(set).where('id', '=', deviceId).execute();
      const records = WATCH_PERMISSION_NAMES.filter((n) => previous[n] !== p[n]).map((n) => ({
        id: change.newId(),
        device_id: deviceId,
        family_id: familyId,
        permission: n,
        previous: previous[n] ? 1 : 0,
        value: p[n] ? 1 : 0,
        changed_by: change.by,
        at: change.at,
      }));
      if (records.length > 0) await tx.insertInto('consent_records').values(records).execute();
      return { ...before, ...set } as DeviceRow;
    });
  }

  /** The watch's consent history in its current family, oldest first. */
  consents(deviceId: string, familyId: string): Promise<ConsentRow[]> {
    return this.db
      .selectFrom('consent_records')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('family_id', '=', familyId)
      .orderBy('at')
      .orderBy('permission')
      .execute();
  }
}
