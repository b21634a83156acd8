// DeviceRepository (registration, binding codes, permissions) against SQLite and PostgreSQL.
import { randomInt, randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomCode, sha256 } from '../../src/auth/secrets.js';
import { HubError } from '../../src/contract/errors.js';
import { WATCH_PERMISSION_NAMES, type Permissions } from '../../src/contract/models.js';
import { permissionsOf, type DeviceRow } from '../../src/store/devices.js';
import { openStore, type Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const CHANGE = { by: 'owner-1', at: 1_700_000_000_000, newId: () => randomUUID() };

const T0 = 1_700_000_000_000;
const TEN_MIN = 10 * 60_000;
const NONE: Permissions = { location: false, camera: false, microphone: false, contacts: false, health: false };
const ALL: Permissions = { location: true, camera: true, microphone: true, contacts: true, health: true };

/** A 15-digit IMEI-like string, unique enough per test. */
const newImei = (): string => `35${String(randomInt(1e9)).padStart(9, '0')}${String(randomInt(1e4)).padStart(4, '0')}`;
const newCodeHash = (): string => sha256(randomCode());

async function rejection(p: Promise<unknown>): Promise<HubError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubError);
  return err as HubError;
}

describe.each(STORE_KINDS)('devices (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  async function newFamily(name = 'The Smiths'): Promise<string> {
    const owner = randomUUID();
    await store.users.create({ id: owner, email: null, passwordHash: null, nickname: 'Owner', createdAt: T0 });
    const id = randomUUID();
    await store.families.create(id, name, owner, T0);
    return id;
  }

  async function registerNew(now = T0): Promise<{ device: DeviceRow; codeHash: string }> {
    const codeHash = newCodeHash();
    const device = await store.devices.register({
      newId: randomUUID(),
      imei: newImei(),
      model: 'KW-100',
      bindingCodeHash: codeHash,
      bindingCodeExpiresAt: now + TEN_MIN,
      now,
    });
    return { device, codeHash };
  }

  /** Re-registers a known watch with a fresh binding code. */
  async function reRegister(
    device: DeviceRow,
    now: number,
    model = device.model,
  ): Promise<{ device: DeviceRow; codeHash: string }> {
    const codeHash = newCodeHash();
    const again = await store.devices.register({
      newId: randomUUID(),
      imei: device.imei,
      model,
      bindingCodeHash: codeHash,
      bindingCodeExpiresAt: now + TEN_MIN,
      now,
    });
    return { device: again, codeHash };
  }

  it('registers a new IMEI with token version 0 and a binding code', async () => {
    const newId = randomUUID();
    const imei = newImei();
    const codeHash = newCodeHash();
    const row = await store.devices.register({
      newId,
      imei,
      model: 'KW-100',
      bindingCodeHash: codeHash,
      bindingCodeExpiresAt: T0 + TEN_MIN,
      now: T0,
    });
    const expected: DeviceRow = {
      id: newId,
      imei,
      model: 'KW-100',
      token_version: 0,
      binding_code_hash: codeHash,
      binding_code_expires_at: T0 + TEN_MIN,
      family_id: null,
      child_name: null,
      bound_at: null,
      perm_location: 0,
      perm_camera: 0,
      perm_microphone: 0,
      perm_contacts: 0,
      perm_health: 0,
      watch_id: imei,
      location_since: null,
      created_at: T0,
    };
    expect(row).toEqual(expected);
    const stored = await store.devices.findById(newId);
    expect(stored).toEqual(expected);
    expect(typeof stored?.created_at).toBe('number');
    expect(typeof stored?.binding_code_expires_at).toBe('number');
    expect(typeof stored?.token_version).toBe('number');
    expect(await store.devices.findById(randomUUID())).toBeUndefined();
  });

  it('keeps watchIds unique: the IMEI by default, kept on re-registration, refused for another IMEI', async () => {
    const { device } = await registerNew(T0);
    expect(device.watch_id).toBe(device.imei);
    expect((await store.devices.findByWatchId(device.imei))?.id).toBe(device.id);
    const watchId = `9${Date.now()}`.slice(0, 10);
    const renamed = await store.devices.register({
      newId: randomUUID(),
      imei: device.imei,
      model: device.model,
      watchId,
      bindingCodeHash: newCodeHash(),
      bindingCodeExpiresAt: T0 + TEN_MIN,
      now: T0,
    });
    expect(renamed.watch_id).toBe(watchId);
    expect((await store.devices.findByWatchId(watchId))?.id).toBe(device.id);
    expect(await store.devices.findByWatchId(device.imei)).toBeUndefined();
    // Re-registered without one: the ID stays.
    const again = await reRegister(renamed, T0 + 1);
    expect(again.device.watch_id).toBe(watchId);
    const other = store.devices.register({
      newId: randomUUID(),
      imei: newImei(),
      model: 'KW-100',
      watchId,
      bindingCodeHash: newCodeHash(),
      bindingCodeExpiresAt: T0 + TEN_MIN,
      now: T0,
    });
    await expect(other).rejects.toMatchObject({ code: 'CONFLICT', reason: 'watch_id_taken' });
  });

  it('re-registering an unbound IMEI keeps the id, bumps the token version and replaces the code', async () => {
    const { device, codeHash: oldCode } = await registerNew(T0);
    const { device: again, codeHash: newCode } = await reRegister(device, T0 + 5000, 'KW-200');
    expect(again.id).toBe(device.id);
    expect(again.token_version).toBe(1);
    expect(again.binding_code_hash).toBe(newCode);
    expect(again.binding_code_hash).not.toBe(oldCode);
    expect(again.model).toBe('KW-200');

    const stored = await store.devices.findById(device.id);
    expect(stored).toEqual(again);
    expect(stored?.created_at).toBe(T0);
    expect(stored?.binding_code_expires_at).toBe(T0 + 5000 + TEN_MIN);

    // The old code no longer binds; the new one does.
    const family = await newFamily();
    expect((await rejection(store.devices.bindByCode(oldCode, family, 'Mia', T0 + 6000))).code).toBe('NOT_FOUND');
    expect((await store.devices.bindByCode(newCode, family, 'Mia', T0 + 6000)).id).toBe(device.id);

    const { device: third } = await reRegister(device, T0 + 7000);
    expect(third.token_version).toBe(2);
  });

  it('bindByCode binds the watch, clears the code and starts with every permission off', async () => {
    const family = await newFamily();
    const { device, codeHash } = await registerNew(T0);
    const bound = await store.devices.bindByCode(codeHash, family, 'Mia', T0 + 1000);
    expect(bound).toEqual({
      ...device,
      family_id: family,
      child_name: 'Mia',
      bound_at: T0 + 1000,
      binding_code_hash: null,
      binding_code_expires_at: null,
      perm_location: 0,
      perm_camera: 0,
      perm_microphone: 0,
      perm_contacts: 0,
    });
    expect(typeof bound.bound_at).toBe('number');
    expect(permissionsOf(bound)).toEqual(NONE);
    expect(await store.devices.findById(device.id)).toEqual(bound);
  });

  it('a used binding code is NOT_FOUND the second time', async () => {
    const family = await newFamily();
    const other = await newFamily('The Joneses');
    const { device, codeHash } = await registerNew(T0);
    await store.devices.bindByCode(codeHash, family, 'Mia', T0 + 1000);
    expect((await rejection(store.devices.bindByCode(codeHash, family, 'Mia', T0 + 2000))).code).toBe('NOT_FOUND');
    expect((await rejection(store.devices.bindByCode(codeHash, other, 'Leo', T0 + 2000))).code).toBe('NOT_FOUND');
    const stored = await store.devices.findById(device.id);
    expect(stored?.family_id).toBe(family);
    expect(stored?.child_name).toBe('Mia');
    expect(stored?.bound_at).toBe(T0 + 1000);
  });

  it('an unknown binding code is NOT_FOUND', async () => {
    const family = await newFamily();
    expect((await rejection(store.devices.bindByCode(newCodeHash(), family, 'Mia', T0))).code).toBe('NOT_FOUND');
  });

  it('an expired binding code (now >= expires_at) is NOT_FOUND and binds nothing', async () => {
    const family = await newFamily();
    const { device, codeHash } = await registerNew(T0);
    const expiresAt = T0 + TEN_MIN;
    expect((await rejection(store.devices.bindByCode(codeHash, family, 'Mia', expiresAt))).code).toBe('NOT_FOUND');
    expect((await rejection(store.devices.bindByCode(codeHash, family, 'Mia', expiresAt + 60_000))).code).toBe('NOT_FOUND');
    const stored = await store.devices.findById(device.id);
    expect(stored?.family_id).toBeNull();
    expect(stored?.binding_code_hash).toBe(codeHash);
    // One millisecond before expiry it still works.
    const bound = await store.devices.bindByCode(codeHash, family, 'Mia', expiresAt - 1);
    expect(bound.family_id).toBe(family);
  });

  it('re-registering a bound watch keeps its binding; its fresh code then gives CONFLICT', async () => {
    const family = await newFamily();
    const other = await newFamily('The Joneses');
    const { device, codeHash } = await registerNew(T0);
    const bound = await store.devices.bindByCode(codeHash, family, 'Mia', T0 + 1000);
    await store.devices.setPermissions(device.id, family, { ...NONE, location: true }, CHANGE);

    const { device: again, codeHash: fresh } = await reRegister(bound, T0 + 2000, 'KW-300');
    expect(again.id).toBe(device.id);
    expect(again.token_version).toBe(1);
    expect(again.model).toBe('KW-300');
    expect(again.binding_code_hash).toBe(fresh);
    expect(again.family_id).toBe(family);
    expect(again.child_name).toBe('Mia');
    expect(again.bound_at).toBe(T0 + 1000);
    expect(permissionsOf(again)).toEqual({ ...NONE, location: true });
    expect(await store.devices.findById(device.id)).toEqual(again);

    for (const f of [other, family]) {
      expect((await rejection(store.devices.bindByCode(fresh, f, 'Leo', T0 + 3000))).code).toBe('CONFLICT');
    }
    const stored = await store.devices.findById(device.id);
    expect(stored?.family_id).toBe(family);
    expect(stored?.child_name).toBe('Mia');
    expect(stored?.binding_code_hash).toBe(fresh);
  });

  it('two families racing with one code: exactly one wins', async () => {
    const a = await newFamily('A');
    const b = await newFamily('B');
    const { device, codeHash } = await registerNew(T0);
    const results = await Promise.allSettled([
      store.devices.bindByCode(codeHash, a, 'Mia', T0 + 1000),
      store.devices.bindByCode(codeHash, b, 'Leo', T0 + 1000),
    ]);
    const won = results.filter((r): r is PromiseFulfilledResult<DeviceRow> => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(HubError);
    expect(['NOT_FOUND', 'CONFLICT']).toContain((lost[0]?.reason as HubError).code);
    const winner = won[0]!.value;
    const stored = await store.devices.findById(device.id);
    expect(stored?.family_id).toBe(winner.family_id);
    expect(stored?.child_name).toBe(winner.family_id === a ? 'Mia' : 'Leo');
  });

  it('many families racing with one code: exactly one wins', async () => {
    const families = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => newFamily(`F${i}`)));
    const { device, codeHash } = await registerNew(T0);
    const results = await Promise.allSettled(families.map((f) => store.devices.bindByCode(codeHash, f, 'Kid', T0 + 1)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const stored = await store.devices.findById(device.id);
    expect(families).toContain(stored?.family_id);
  });

  it('unbind works only within the right family and resets permissions', async () => {
    const family = await newFamily();
    const other = await newFamily('The Joneses');
    const { device, codeHash } = await registerNew(T0);
    await store.devices.bindByCode(codeHash, family, 'Mia', T0 + 1000);
    await store.devices.setPermissions(device.id, family, ALL, CHANGE);

    expect(await store.devices.unbind(device.id, other)).toBe(false);
    const still = await store.devices.findById(device.id);
    expect(still?.family_id).toBe(family);
    expect(permissionsOf(still!)).toEqual(ALL);

    expect(await store.devices.unbind(randomUUID(), family)).toBe(false);

    expect(await store.devices.unbind(device.id, family)).toBe(true);
    const after = await store.devices.findById(device.id);
    expect(after?.family_id).toBeNull();
    expect(after?.child_name).toBeNull();
    expect(after?.bound_at).toBeNull();
    expect(permissionsOf(after!)).toEqual(NONE);
    expect(after?.perm_location).toBe(0);
    expect(after?.perm_camera).toBe(0);
    expect(after?.perm_microphone).toBe(0);
    expect(after?.perm_contacts).toBe(0);

    // A second unbind finds nothing to do.
    expect(await store.devices.unbind(device.id, family)).toBe(false);

    // After a re-register it binds again to another family, with every permission off.
    const { codeHash: fresh } = await reRegister(after!, T0 + 5000);
    const rebound = await store.devices.bindByCode(fresh, other, 'Mia', T0 + 6000);
    expect(rebound.family_id).toBe(other);
    expect(permissionsOf(rebound)).toEqual(NONE);
  });

  it('setPermissions outside the family is undefined and changes nothing', async () => {
    const family = await newFamily();
    const other = await newFamily('The Joneses');
    const { device, codeHash } = await registerNew(T0);
    await store.devices.bindByCode(codeHash, family, 'Mia', T0 + 1000);

    expect(await store.devices.setPermissions(device.id, other, ALL, CHANGE)).toBeUndefined();
    expect(permissionsOf((await store.devices.findById(device.id))!)).toEqual(NONE);

    // An unbound watch belongs to no family at all.
    const { device: unbound } = await registerNew(T0);
    expect(await store.devices.setPermissions(unbound.id, family, ALL, CHANGE)).toBeUndefined();
    expect(permissionsOf((await store.devices.findById(unbound.id))!)).toEqual(NONE);
  });

  it('setPermissions in the right family persists each flag on its own', async () => {
    const family = await newFamily();
    const { device, codeHash } = await registerNew(T0);
    await store.devices.bindByCode(codeHash, family, 'Mia', T0 + 1000);

    for (const name of WATCH_PERMISSION_NAMES) {
      const wanted: Permissions = { ...NONE, [name]: true };
      const returned = await store.devices.setPermissions(device.id, family, wanted, CHANGE);
      expect(returned).toBeDefined();
      expect(permissionsOf(returned!)).toEqual(wanted);
      const stored = await store.devices.findById(device.id);
      expect(permissionsOf(stored!)).toEqual(wanted);
      expect(stored?.[`perm_${name}`]).toBe(1);
    }

    const all = await store.devices.setPermissions(device.id, family, ALL, CHANGE);
    expect(permissionsOf(all!)).toEqual(ALL);
    const mixed: Permissions = { location: true, camera: false, microphone: true, contacts: false, health: true };
    await store.devices.setPermissions(device.id, family, mixed, CHANGE);
    const stored = await store.devices.findById(device.id);
    expect(permissionsOf(stored!)).toEqual(mixed);
    // Binding data is untouched.
    expect(stored?.family_id).toBe(family);
    expect(stored?.child_name).toBe('Mia');
    expect(stored?.bound_at).toBe(T0 + 1000);
  });

  it("listByFamily lists the family's watches in binding order, and only those", async () => {
    const family = await newFamily();
    const other = await newFamily('The Joneses');
    const w1 = await registerNew(T0);
    const w2 = await registerNew(T0);
    const w3 = await registerNew(T0);
    const foreign = await registerNew(T0);
    await registerNew(T0); // never bound
    // Bind out of registration order to check ordering by bound_at.
    await store.devices.bindByCode(w2.codeHash, family, 'Second', T0 + 2000);
    await store.devices.bindByCode(w3.codeHash, family, 'Third', T0 + 3000);
    await store.devices.bindByCode(w1.codeHash, family, 'First', T0 + 1000);
    await store.devices.bindByCode(foreign.codeHash, other, 'Foreign', T0 + 1500);

    const list = await store.devices.listByFamily(family);
    expect(list.map((d) => d.id)).toEqual([w1.device.id, w2.device.id, w3.device.id]);
    expect(list.map((d) => d.child_name)).toEqual(['First', 'Second', 'Third']);
    for (const d of list) expect(typeof d.bound_at).toBe('number');

    expect((await store.devices.listByFamily(other)).map((d) => d.id)).toEqual([foreign.device.id]);
    expect(await store.devices.listByFamily(randomUUID())).toEqual([]);

    await store.devices.unbind(w2.device.id, family);
    expect((await store.devices.listByFamily(family)).map((d) => d.id)).toEqual([w1.device.id, w3.device.id]);
  });

  it('refuses to bind to a family that does not exist (foreign key)', async () => {
    const { device, codeHash } = await registerNew(T0);
    await expect(store.devices.bindByCode(codeHash, randomUUID(), 'Mia', T0 + 1)).rejects.toThrow();
    const stored = await store.devices.findById(device.id);
    expect(stored?.family_id).toBeNull();
    expect(stored?.binding_code_hash).toBe(codeHash);
  });

  it('permissionsOf maps each column to its flag', () => {
    const base: DeviceRow = {
      id: randomUUID(),
      imei: newImei(),
      model: 'KW-100',
      token_version: 0,
      binding_code_hash: null,
      binding_code_expires_at: null,
      family_id: null,
      child_name: null,
      bound_at: null,
      perm_location: 0,
      perm_camera: 0,
      perm_microphone: 0,
      perm_contacts: 0,
      perm_health: 0,
      watch_id: null,
      location_since: null,
      created_at: T0,
    };
    expect(permissionsOf(base)).toEqual(NONE);
    expect(permissionsOf({ ...base, perm_location: 1 })).toEqual({ ...NONE, location: true });
    expect(permissionsOf({ ...base, perm_camera: 1 })).toEqual({ ...NONE, camera: true });
    expect(permissionsOf({ ...base, perm_microphone: 1 })).toEqual({ ...NONE, microphone: true });
    expect(permissionsOf({ ...base, perm_contacts: 1 })).toEqual({ ...NONE, contacts: true });
    expect(permissionsOf({ ...base, perm_health: 1 })).toEqual({ ...NONE, health: true });
    expect(
      permissionsOf({ ...base, perm_location: 1, perm_camera: 1, perm_microphone: 1, perm_contacts: 1, perm_health: 1 }),
    ).toEqual(ALL);
  });

  it('records every permission change with who, when and the previous value', async () => {
    const family = await newFamily();
    const { device, codeHash } = await registerNew(T0);
    await store.devices.bindByCode(codeHash, family, 'Mia', T0 + 1000);
    await store.devices.setPermissions(
      device.id,
      family,
      { ...NONE, location: true, camera: true },
      { by: 'u1', at: T0 + 2000, newId: () => randomUUID() },
    );
    await store.devices.setPermissions(
      device.id,
      family,
      { ...NONE, location: true },
      { by: 'u2', at: T0 + 3000, newId: () => randomUUID() },
    );
    // No change, no record.
    await store.devices.setPermissions(
      device.id,
      family,
      { ...NONE, location: true },
      { by: 'u2', at: T0 + 4000, newId: () => randomUUID() },
    );
    const records = await store.devices.consents(device.id, family);
    expect(records.map((r) => [r.permission, r.previous, r.value, r.changed_by, r.at])).toEqual([
      ['camera', 0, 1, 'u1', T0 + 2000],
      ['location', 0, 1, 'u1', T0 + 2000],
      ['camera', 1, 0, 'u2', T0 + 3000],
    ]);
  });
});
