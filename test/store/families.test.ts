// FamilyRepository (membership, roles, invites) against SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomCode, sha256 } from '../../src/auth/secrets.js';
import { HubError } from '../../src/contract/errors.js';
import type { Role } from '../../src/contract/models.js';
import { openDatabase } from '../../src/store/db.js';
import { openStore, type Store } from '../../src/store/store.js';
import { freshDatabaseUrl, STORE_KINDS } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

async function rejection(p: Promise<unknown>): Promise<HubError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubError);
  return err as HubError;
}

describe.each(STORE_KINDS)('families (%s)', (kind) => {
  let store: Store;
  let url = '';
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    const fresh = await freshDatabaseUrl(kind);
    url = fresh.url;
    drop = fresh.drop;
    store = await openStore(fresh.url);
  });

  afterAll(async () => {
    await store?.close();
    await drop();
  });

  async function newUser(nickname: string): Promise<string> {
    const id = randomUUID();
    await store.users.create({ id, email: `${id}@example.org`, passwordHash: 'h', nickname, createdAt: T0 });
    return id;
  }

  async function newFamily(ownerId: string, name = 'The Smiths', now = T0): Promise<string> {
    const id = randomUUID();
    await store.families.create(id, name, ownerId, now);
    return id;
  }

  /** Creates an invite; returns its code hash. */
  async function invite(familyId: string, createdBy: string, role: Role, expiresAt = T0 + 7 * DAY): Promise<string> {
    const codeHash = sha256(randomCode());
    await store.families.createInvite({
      code_hash: codeHash,
      family_id: familyId,
      role,
      created_by: createdBy,
      expires_at: expiresAt,
      created_at: T0,
    });
    return codeHash;
  }

  it('create makes the creator the owner', async () => {
    const owner = await newUser('Alice');
    const id = randomUUID();
    const row = await store.families.create(id, 'The Smiths', owner, T0 + 5);
    expect(row).toEqual({ id, name: 'The Smiths', created_at: T0 + 5 });
    const found = await store.families.findById(id);
    expect(found).toEqual(row);
    expect(typeof found?.created_at).toBe('number');
    expect(await store.families.roleOf(id, owner)).toBe('owner');
    expect(await store.families.roleOf(id, await newUser('Stranger'))).toBeUndefined();
    expect(await store.families.findById(randomUUID())).toBeUndefined();
  });

  it("listForUser lists the user's families with their role, oldest first", async () => {
    const alice = await newUser('Alice');
    const bob = await newUser('Bob');
    const later = await newFamily(alice, 'Later', T0 + 2000);
    const earlier = await newFamily(alice, 'Earlier', T0 + 1000);
    const bobs = await newFamily(bob, "Bob's", T0 + 1500);
    await store.families.acceptInvite(await invite(bobs, bob, 'viewer'), alice, T0 + 3000);

    const list = await store.families.listForUser(alice);
    expect(list).toEqual([
      { id: earlier, name: 'Earlier', created_at: T0 + 1000, role: 'owner' },
      { id: bobs, name: "Bob's", created_at: T0 + 1500, role: 'viewer' },
      { id: later, name: 'Later', created_at: T0 + 2000, role: 'owner' },
    ]);
    for (const f of list) expect(typeof f.created_at).toBe('number');
    expect(await store.families.listForUser(await newUser('Nobody'))).toEqual([]);
  });

  it('familyIdsOf returns exactly the families the user belongs to', async () => {
    const alice = await newUser('Alice');
    const bob = await newUser('Bob');
    const a1 = await newFamily(alice);
    const a2 = await newFamily(alice);
    const b1 = await newFamily(bob);
    expect((await store.families.familyIdsOf(alice)).sort()).toEqual([a1, a2].sort());
    expect(await store.families.familyIdsOf(bob)).toEqual([b1]);
    await store.families.acceptInvite(await invite(b1, bob, 'guardian'), alice, T0 + 10);
    expect((await store.families.familyIdsOf(alice)).sort()).toEqual([a1, a2, b1].sort());
    expect(await store.families.familyIdsOf(randomUUID())).toEqual([]);
  });

  it('members joins nicknames, in joining order', async () => {
    const alice = await newUser('Alice');
    const bob = await newUser('Bob');
    const carol = await newUser('Carol');
    const family = await newFamily(alice, 'The Smiths', T0);
    await store.families.acceptInvite(await invite(family, alice, 'viewer'), carol, T0 + 2000);
    await store.families.acceptInvite(await invite(family, alice, 'guardian'), bob, T0 + 1000);

    const members = await store.families.members(family);
    expect(members).toEqual([
      { userId: alice, nickname: 'Alice', role: 'owner', joinedAt: T0 },
      { userId: bob, nickname: 'Bob', role: 'guardian', joinedAt: T0 + 1000 },
      { userId: carol, nickname: 'Carol', role: 'viewer', joinedAt: T0 + 2000 },
    ]);
    for (const m of members) expect(typeof m.joinedAt).toBe('number');
    expect(await store.families.members(randomUUID())).toEqual([]);
  });

  it('removeMember refuses to remove the last owner (CONFLICT)', async () => {
    const alice = await newUser('Alice');
    const bob = await newUser('Bob');
    const family = await newFamily(alice);
    await store.families.acceptInvite(await invite(family, alice, 'guardian'), bob, T0 + 1);

    expect((await rejection(store.families.removeMember(family, alice))).code).toBe('CONFLICT');
    expect(await store.families.roleOf(family, alice)).toBe('owner');
    expect((await store.families.members(family)).map((m) => m.userId)).toEqual([alice, bob]);
  });

  it('removeMember of a non-member is NOT_FOUND', async () => {
    const alice = await newUser('Alice');
    const bob = await newUser('Bob');
    const family = await newFamily(alice);
    const otherFamily = await newFamily(bob);
    expect((await rejection(store.families.removeMember(family, bob))).code).toBe('NOT_FOUND');
    expect((await rejection(store.families.removeMember(family, randomUUID()))).code).toBe('NOT_FOUND');
    expect((await rejection(store.families.removeMember(randomUUID(), alice))).code).toBe('NOT_FOUND');
    // Nothing was removed anywhere.
    expect(await store.families.roleOf(family, alice)).toBe('owner');
    expect(await store.families.roleOf(otherFamily, bob)).toBe('owner');
  });

  it('removeMember removes a non-owner, and an owner when another owner remains', async () => {
    const alice = await newUser('Alice');
    const bob = await newUser('Bob');
    const carol = await newUser('Carol');
    const family = await newFamily(alice);
    await store.families.acceptInvite(await invite(family, alice, 'owner'), bob, T0 + 1);
    await store.families.acceptInvite(await invite(family, alice, 'viewer'), carol, T0 + 2);

    await store.families.removeMember(family, carol);
    expect(await store.families.roleOf(family, carol)).toBeUndefined();
    expect(await store.families.familyIdsOf(carol)).toEqual([]);

    await store.families.removeMember(family, alice);
    expect(await store.families.roleOf(family, alice)).toBeUndefined();
    expect(await store.families.members(family)).toEqual([{ userId: bob, nickname: 'Bob', role: 'owner', joinedAt: T0 + 1 }]);

    // Bob is now the last owner.
    expect((await rejection(store.families.removeMember(family, bob))).code).toBe('CONFLICT');
    expect(await store.families.roleOf(family, bob)).toBe('owner');
  });

  it("createInvite + acceptInvite grants the invite's role", async () => {
    const alice = await newUser('Alice');
    const family = await newFamily(alice);
    for (const role of ['guardian', 'viewer', 'owner'] as const) {
      const user = await newUser(`New ${role}`);
      const code = await invite(family, alice, role);
      expect(await store.families.acceptInvite(code, user, T0 + 100)).toEqual({ familyId: family, role });
      expect(await store.families.roleOf(family, user)).toBe(role);
      const me = (await store.families.members(family)).find((m) => m.userId === user);
      expect(me).toEqual({ userId: user, nickname: `New ${role}`, role, joinedAt: T0 + 100 });
    }
  });

  it('an invite is single use: the second acceptance is NOT_FOUND', async () => {
    const alice = await newUser('Alice');
    const bob = await newUser('Bob');
    const carol = await newUser('Carol');
    const family = await newFamily(alice);
    const code = await invite(family, alice, 'guardian');
    await store.families.acceptInvite(code, bob, T0 + 1);
    expect((await rejection(store.families.acceptInvite(code, carol, T0 + 2))).code).toBe('NOT_FOUND');
    expect((await rejection(store.families.acceptInvite(code, bob, T0 + 3))).code).toBe('NOT_FOUND');
    expect(await store.families.roleOf(family, carol)).toBeUndefined();
  });

  it('an unknown invite is NOT_FOUND', async () => {
    const bob = await newUser('Bob');
    expect((await rejection(store.families.acceptInvite(sha256(randomCode()), bob, T0))).code).toBe('NOT_FOUND');
  });

  it('an expired invite (now >= expires_at) is NOT_FOUND', async () => {
    const alice = await newUser('Alice');
    const bob = await newUser('Bob');
    const family = await newFamily(alice);
    const expiresAt = T0 + DAY;
    const code = await invite(family, alice, 'viewer', expiresAt);
    expect((await rejection(store.families.acceptInvite(code, bob, expiresAt))).code).toBe('NOT_FOUND');
    expect((await rejection(store.families.acceptInvite(code, bob, expiresAt + DAY))).code).toBe('NOT_FOUND');
    expect(await store.families.roleOf(family, bob)).toBeUndefined();
    // One millisecond before expiry it still works (the failed tries did not use it up).
    expect(await store.families.acceptInvite(code, bob, expiresAt - 1)).toEqual({ familyId: family, role: 'viewer' });
  });

  it('accepting as an existing member is CONFLICT and leaves the invite unused', async () => {
    const alice = await newUser('Alice');
    const bob = await newUser('Bob');
    const family = await newFamily(alice);
    const code = await invite(family, alice, 'viewer');

    expect((await rejection(store.families.acceptInvite(code, alice, T0 + 1))).code).toBe('CONFLICT');
    // Alice keeps her role; she was not demoted to viewer.
    expect(await store.families.roleOf(family, alice)).toBe('owner');

    // The invite was rolled back to unused: another user can still accept it.
    expect(await store.families.acceptInvite(code, bob, T0 + 2)).toEqual({ familyId: family, role: 'viewer' });
    expect(await store.families.roleOf(family, bob)).toBe('viewer');
    expect((await rejection(store.families.acceptInvite(code, await newUser('Carol'), T0 + 3))).code).toBe('NOT_FOUND');
  });

  it('two users racing for one invite: exactly one joins', async () => {
    const alice = await newUser('Alice');
    const family = await newFamily(alice);
    const code = await invite(family, alice, 'guardian');
    const racers = await Promise.all([1, 2, 3, 4].map((i) => newUser(`Racer ${i}`)));
    const results = await Promise.allSettled(racers.map((u) => store.families.acceptInvite(code, u, T0 + 10)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as HubError).code).toBe('NOT_FOUND');
    }
    expect(await store.families.members(family)).toHaveLength(2);
  });

  it('create rolls back the family when the owner does not exist (foreign key)', async () => {
    const id = randomUUID();
    await expect(store.families.create(id, 'Ghosts', randomUUID(), T0)).rejects.toThrow();
    expect(await store.families.findById(id)).toBeUndefined();
  });

  it('refuses an invite for a family that does not exist (foreign key)', async () => {
    const alice = await newUser('Alice');
    await expect(invite(randomUUID(), alice, 'viewer')).rejects.toThrow();
  });

  it('refuses a member row for a family that does not exist (foreign key)', async () => {
    const alice = await newUser('Alice');
    const { db } = openDatabase(url);
    try {
      await expect(
        db
          .insertInto('family_members')
          .values({ family_id: randomUUID(), user_id: alice, role: 'owner', joined_at: T0 })
          .execute(),
      ).rejects.toThrow(/foreign key/i);
      // The same insert into a real family works, so the failure above is the foreign key.
      const family = await newFamily(await newUser('Bob'));
      await db
        .insertInto('family_members')
        .values({ family_id: family, user_id: alice, role: 'viewer', joined_at: T0 })
        .execute();
      expect(await store.families.roleOf(family, alice)).toBe('viewer');
    } finally {
      await db.destroy();
    }
  });
});
