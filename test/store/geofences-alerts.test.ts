// GeofenceRepository, AlertRepository and AuditRepository against SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { AlertRow } from '../../src/store/alerts.js';
import type { AuditEntry } from '../../src/store/audit.js';
import type { FenceStateName, GeofenceRow } from '../../src/store/geofences.js';
import { openStore, type Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;
const MIN = 60_000;

describe.each(STORE_KINDS)('geofences, alerts and audit (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  async function newFamily(): Promise<{ family: string; owner: string }> {
    const owner = randomUUID();
    await store.users.create({ id: owner, email: null, passwordHash: null, nickname: 'Owner', createdAt: T0 });
    const family = randomUUID();
    await store.families.create(family, 'The Smiths', owner, T0);
    return { family, owner };
  }

  function geofence(family: string, owner: string, over: Partial<GeofenceRow> = {}): GeofenceRow {
    return {
      id: randomUUID(),
      family_id: family,
      name: 'School',
      shape: JSON.stringify({ kind: 'circle', lat: 52.5, lng: 13.4, radiusM: 150 }),
      device_ids: null,
      created_by: owner,
      created_at: T0,
      updated_at: T0,
      ...over,
    };
  }

  function alert(family: string, over: Partial<AlertRow> = {}): AlertRow {
    return {
      id: randomUUID(),
      family_id: family,
      device_id: randomUUID(),
      type: 'sos',
      ts: T0,
      lat: 52.5,
      lng: 13.4,
      details: JSON.stringify({ note: 'pressed' }),
      created_at: T0,
      notified_at: T0,
      notify_count: 1,
      acked_at: null,
      acked_by: null,
      next_notify_at: null,
      ...over,
    };
  }

  const states = (m: Record<string, FenceStateName | null>): Map<string, FenceStateName | null> => new Map(Object.entries(m));
  const sortedStates = async (deviceId: string): Promise<{ geofenceId: string; state: FenceStateName; ts: number }[]> =>
    (await store.geofences.statesWithTs(deviceId)).sort((a, b) => a.geofenceId.localeCompare(b.geofenceId));

  describe('geofences', () => {
    it('insert and find, scoped by family', async () => {
      const { family, owner } = await newFamily();
      const { family: other } = await newFamily();
      const g = geofence(family, owner, { device_ids: JSON.stringify(['w1', 'w2']) });
      await store.geofences.insert(g);
      const found = await store.geofences.find(family, g.id);
      expect(found).toEqual(g);
      expect(typeof found?.created_at).toBe('number');
      expect(typeof found?.updated_at).toBe('number');
      expect(await store.geofences.find(other, g.id)).toBeUndefined();
      expect(await store.geofences.find(family, randomUUID())).toBeUndefined();
    });

    it('a geofence needs an existing family', async () => {
      await expect(store.geofences.insert(geofence(randomUUID(), randomUUID()))).rejects.toThrow();
    });

    it('update changes the fence only within its family and keeps created_at/created_by', async () => {
      const { family, owner } = await newFamily();
      const { family: other } = await newFamily();
      const g = geofence(family, owner);
      await store.geofences.insert(g);

      const changed: GeofenceRow = {
        ...g,
        name: 'Home',
        shape: JSON.stringify({ kind: 'circle', lat: 1, lng: 2, radiusM: 50 }),
        device_ids: JSON.stringify(['w9']),
        updated_at: T0 + MIN,
        created_at: T0 + 999,
        created_by: 'someone-else',
      };
      expect(await store.geofences.update({ ...changed, family_id: other })).toBe(false);
      expect(await store.geofences.find(family, g.id)).toEqual(g);

      expect(await store.geofences.update(changed)).toBe(true);
      expect(await store.geofences.find(family, g.id)).toEqual({ ...changed, created_at: T0, created_by: owner });

      expect(await store.geofences.update(geofence(family, owner))).toBe(false); // unknown id
    });

    it('delete only within the family, and removes the fence', async () => {
      const { family, owner } = await newFamily();
      const { family: other } = await newFamily();
      const g = geofence(family, owner);
      await store.geofences.insert(g);
      expect(await store.geofences.delete(other, g.id)).toBe(false);
      expect(await store.geofences.find(family, g.id)).toEqual(g);
      expect(await store.geofences.delete(family, g.id)).toBe(true);
      expect(await store.geofences.find(family, g.id)).toBeUndefined();
      expect(await store.geofences.delete(family, g.id)).toBe(false);
    });

    it('a delete from the wrong family leaves the fence states alone', async () => {
      const { family, owner } = await newFamily();
      const { family: other } = await newFamily();
      const g = geofence(family, owner);
      await store.geofences.insert(g);
      const watch = randomUUID();
      await store.geofences.saveStates(watch, states({ [g.id]: 'inside' }), T0 + 5);

      expect(await store.geofences.delete(other, g.id)).toBe(false);
      expect(await store.geofences.statesWithTs(watch)).toEqual([{ geofenceId: g.id, state: 'inside', ts: T0 + 5 }]);
    });

    it('countByFamily and listByFamily count only the family', async () => {
      const { family, owner } = await newFamily();
      const { family: other, owner: otherOwner } = await newFamily();
      expect(await store.geofences.countByFamily(family)).toBe(0);
      const gs = [0, 2, 1].map((i) => geofence(family, owner, { name: `g${i}`, created_at: T0 + i }));
      for (const g of gs) await store.geofences.insert(g);
      await store.geofences.insert(geofence(other, otherOwner));
      const n = await store.geofences.countByFamily(family);
      expect(n).toBe(3);
      expect(typeof n).toBe('number');
      expect(await store.geofences.countByFamily(other)).toBe(1);
      expect((await store.geofences.listByFamily(family)).map((g) => g.name)).toEqual(['g0', 'g1', 'g2']);
    });

    it('saveStates upserts, null deletes, statesWithTs returns the ts', async () => {
      const { family, owner } = await newFamily();
      const g1 = geofence(family, owner);
      const g2 = geofence(family, owner);
      const g3 = geofence(family, owner);
      for (const g of [g1, g2, g3]) await store.geofences.insert(g);
      const watch = randomUUID();
      const otherWatch = randomUUID();

      expect(await store.geofences.statesWithTs(watch)).toEqual([]);
      await store.geofences.saveStates(watch, states({ [g1.id]: 'inside', [g2.id]: 'outside' }), T0 + 10);
      await store.geofences.saveStates(otherWatch, states({ [g1.id]: 'outside' }), T0 + 11);
      const expected = (rows: { geofenceId: string; state: FenceStateName; ts: number }[]) =>
        rows.sort((a, b) => a.geofenceId.localeCompare(b.geofenceId));
      expect(await sortedStates(watch)).toEqual(
        expected([
          { geofenceId: g1.id, state: 'inside', ts: T0 + 10 },
          { geofenceId: g2.id, state: 'outside', ts: T0 + 10 },
        ]),
      );
      const [first] = await store.geofences.statesWithTs(watch);
      expect(typeof first?.ts).toBe('number');

      // Upsert g1, delete g2, add g3, and deleting an absent state is harmless.
      await store.geofences.saveStates(watch, states({ [g1.id]: 'outside', [g2.id]: null, [g3.id]: 'inside' }), T0 + 20);
      await store.geofences.saveStates(watch, states({ [g2.id]: null }), T0 + 21);
      expect(await sortedStates(watch)).toEqual(
        expected([
          { geofenceId: g1.id, state: 'outside', ts: T0 + 20 },
          { geofenceId: g3.id, state: 'inside', ts: T0 + 20 },
        ]),
      );
      // The other watch is untouched.
      expect(await store.geofences.statesWithTs(otherWatch)).toEqual([{ geofenceId: g1.id, state: 'outside', ts: T0 + 11 }]);
      // No changes: nothing happens.
      await store.geofences.saveStates(watch, new Map(), T0 + 30);
      expect(await store.geofences.statesWithTs(watch)).toHaveLength(2);
    });

    it('deleting a geofence removes its states, not others', async () => {
      const { family, owner } = await newFamily();
      const g1 = geofence(family, owner);
      const g2 = geofence(family, owner);
      for (const g of [g1, g2]) await store.geofences.insert(g);
      const watch = randomUUID();
      await store.geofences.saveStates(watch, states({ [g1.id]: 'inside', [g2.id]: 'inside' }), T0);
      expect(await store.geofences.delete(family, g1.id)).toBe(true);
      expect(await store.geofences.statesWithTs(watch)).toEqual([{ geofenceId: g2.id, state: 'inside', ts: T0 }]);
    });

    it('clearStates forgets every state of one watch only', async () => {
      const { family, owner } = await newFamily();
      const g1 = geofence(family, owner);
      const g2 = geofence(family, owner);
      for (const g of [g1, g2]) await store.geofences.insert(g);
      const watch = randomUUID();
      const keep = randomUUID();
      await store.geofences.saveStates(watch, states({ [g1.id]: 'inside', [g2.id]: 'outside' }), T0);
      await store.geofences.saveStates(keep, states({ [g2.id]: 'inside' }), T0);
      await store.geofences.clearStates(watch);
      expect(await store.geofences.statesWithTs(watch)).toEqual([]);
      expect(await store.geofences.statesWithTs(keep)).toEqual([{ geofenceId: g2.id, state: 'inside', ts: T0 }]);
      await store.geofences.clearStates(watch); // idempotent
    });
  });

  describe('alerts', () => {
    it('insert and find round-trip, numbers as numbers', async () => {
      const { family } = await newFamily();
      const a = alert(family, { lat: 52.123456, lng: 13.654321 });
      await store.alerts.insert(a);
      const found = await store.alerts.find(a.id);
      expect(found).toEqual(a);
      for (const key of ['ts', 'lat', 'lng', 'created_at', 'notified_at', 'notify_count'] as const) {
        expect(typeof found?.[key], key).toBe('number');
      }
      const bare = alert(family, { lat: null, lng: null, details: null, type: 'low_battery' });
      await store.alerts.insert(bare);
      expect(await store.alerts.find(bare.id)).toEqual(bare);
      expect(await store.alerts.find(randomUUID())).toBeUndefined();
    });

    it('an alert needs an existing family', async () => {
      await expect(store.alerts.insert(alert(randomUUID()))).rejects.toThrow();
    });

    it('ack succeeds once, and only within the family', async () => {
      const { family, owner } = await newFamily();
      const { family: other, owner: stranger } = await newFamily();
      const a = alert(family);
      await store.alerts.insert(a);

      expect(await store.alerts.ack(other, a.id, stranger, T0 + MIN)).toBe(false);
      expect((await store.alerts.find(a.id))?.acked_at).toBeNull();

      expect(await store.alerts.ack(family, a.id, owner, T0 + 2 * MIN)).toBe(true);
      expect(await store.alerts.ack(family, a.id, owner, T0 + 3 * MIN)).toBe(false);
      const stored = await store.alerts.find(a.id);
      expect(stored?.acked_at).toBe(T0 + 2 * MIN);
      expect(stored?.acked_by).toBe(owner);
      expect(await store.alerts.ack(family, randomUUID(), owner, T0)).toBe(false);
    });

    it('two concurrent acks: exactly one wins', async () => {
      const { family, owner } = await newFamily();
      const a = alert(family);
      await store.alerts.insert(a);
      const results = await Promise.all([
        store.alerts.ack(family, a.id, owner, T0 + 1),
        store.alerts.ack(family, a.id, owner, T0 + 2),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('due() returns open alerts of the type notified before the bound, oldest first', async () => {
      const { family, owner } = await newFamily();
      // A type unique to this test, so other tests' alerts do not interfere.
      const type = `sos-${randomUUID()}`;
      const old2 = alert(family, { type, notified_at: T0 - 2 * MIN });
      const old1 = alert(family, { type, notified_at: T0 - 3 * MIN });
      const atBound = alert(family, { type, notified_at: T0 });
      const recent = alert(family, { type, notified_at: T0 + MIN });
      const acked = alert(family, { type, notified_at: T0 - 5 * MIN });
      const otherType = alert(family, { type: `${type}-x`, notified_at: T0 - 5 * MIN });
      for (const a of [old2, old1, atBound, recent, acked, otherType]) await store.alerts.insert(a);
      expect(await store.alerts.ack(family, acked.id, owner, T0)).toBe(true);

      expect((await store.alerts.due(type, T0, 100)).map((a) => a.id)).toEqual([old1.id, old2.id]);
      expect((await store.alerts.due(type, T0, 1)).map((a) => a.id)).toEqual([old1.id]);
      expect((await store.alerts.due(type, T0 + 1, 100)).map((a) => a.id)).toEqual([old1.id, old2.id, atBound.id]);
      expect(await store.alerts.due(type, T0 - 10 * MIN, 100)).toEqual([]);
    });

    it('claimRenotify: two concurrent claims with the same seen notified_at, exactly one wins', async () => {
      const { family } = await newFamily();
      for (let round = 0; round < 5; round++) {
        const a = alert(family, { notified_at: T0 });
        await store.alerts.insert(a);
        const results = await Promise.all([
          store.alerts.claimRenotify(a.id, T0, T0 + MIN),
          store.alerts.claimRenotify(a.id, T0, T0 + MIN + 1),
        ]);
        expect(results.filter(Boolean), `round ${round}`).toHaveLength(1);
        const stored = await store.alerts.find(a.id);
        expect(stored?.notify_count).toBe(2);
        expect([T0 + MIN, T0 + MIN + 1]).toContain(stored?.notified_at);
      }
    });

    it('claimRenotify: a stale notified_at fails, the next round succeeds, none after ack', async () => {
      const { family, owner } = await newFamily();
      const a = alert(family, { notified_at: T0 });
      await store.alerts.insert(a);
      expect(await store.alerts.claimRenotify(a.id, T0, T0 + MIN)).toBe(true);
      expect(await store.alerts.claimRenotify(a.id, T0, T0 + MIN)).toBe(false); // already claimed this round
      expect(await store.alerts.claimRenotify(a.id, T0 + MIN, T0 + 2 * MIN)).toBe(true);
      let stored = await store.alerts.find(a.id);
      expect(stored?.notify_count).toBe(3);
      expect(stored?.notified_at).toBe(T0 + 2 * MIN);

      expect(await store.alerts.ack(family, a.id, owner, T0 + 3 * MIN)).toBe(true);
      expect(await store.alerts.claimRenotify(a.id, T0 + 2 * MIN, T0 + 4 * MIN)).toBe(false);
      stored = await store.alerts.find(a.id);
      expect(stored?.notify_count).toBe(3);
      expect(stored?.notified_at).toBe(T0 + 2 * MIN);
      expect(await store.alerts.claimRenotify(randomUUID(), T0, T0)).toBe(false);
    });
  });

  describe('audit', () => {
    it('record + forSubject: oldest first, only that subject, details round-trip', async () => {
      const watch = randomUUID();
      const user = randomUUID();
      const family = randomUUID(); // audit_log.family_id has no foreign key
      const entry = (at: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
        id: randomUUID(),
        at,
        actor: { kind: 'user', id: user },
        action: 'location.history',
        familyId: family,
        subject: { kind: 'device', id: watch },
        details: { from: T0 - MIN, to: T0, count: 42, nested: { ok: true, list: [1, 'two', null] } },
        ...over,
      });
      const late = entry(T0 + 2 * MIN);
      const early = entry(T0, { actor: { kind: 'device', id: watch }, action: 'location.self', familyId: null, details: {} });
      const middle = entry(T0 + MIN, { details: { quote: 'it\'s "fine" ✓' } });
      const unrelated = entry(T0 + MIN, { subject: { kind: 'device', id: randomUUID() } });
      const noSubject = entry(T0, { subject: null });
      for (const e of [late, early, middle, unrelated, noSubject]) await store.audit.record(e);

      const got = await store.audit.forSubject(watch);
      expect(got).toEqual([early, middle, late]);
      expect(typeof got[0]?.at).toBe('number');
      expect(await store.audit.forSubject(randomUUID())).toEqual([]);
    });
  });
});
