// Family care (issue #17): rename, delete, members' roles and ownership, leaving, and the fresh
// binding code a watch gets on its own connection when it leaves its family; on both stores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, freshDatabaseUrl } from '../helpers/databases.js';
import {
  type TestHub,
  addMember,
  api,
  connect,
  createFamily,
  familyWithWatch,
  registerUser,
  request,
  startHub,
  waitFor,
} from '../helpers/hub.js';
import { fix, sharingFamily } from '../helpers/location.js';

const MANY = { HUB_HTTP_AUTH_RATE_PER_MIN: '100000', HUB_SOCKET_RATE_POINTS: '10000' };
const circle = { name: 'School', kind: 'circle', center: { lat: 48.85, lng: 2.35 }, radius: 200 };

describe.each(STORE_KINDS)('family care on %s', (kind) => {
  let t: TestHub;
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    const db = await freshDatabaseUrl(kind);
    drop = db.drop;
    t = await startHub({ databaseUrl: db.url, env: MANY });
  });
  afterAll(async () => {
    await t?.close();
    await drop();
  });

  it('renames a family: owners only, and the family room hears the new name', async () => {
    const owner = await registerUser(t);
    const fid = await createFamily(t, owner);
    const guardian = await addMember(t, owner, fid, 'guardian');
    const viewer = await addMember(t, owner, fid, 'viewer');
    const other = await registerUser(t);
    const otherFid = await createFamily(t, other);
    const path = `/v1/families/${fid}`;

    const refusals: [string, number, string][] = [];
    for (const [who, token] of [
      ['guardian', guardian.accessToken],
      ['viewer', viewer.accessToken],
      ['other family’s owner', other.accessToken],
    ] as const) {
      const r = await api(t, 'PATCH', path, { token, body: { name: 'Hijacked' } });
      refusals.push([who, r.status, r.body.error.reason]);
    }
    expect(refusals).toEqual([
      ['guardian', 403, 'role_required'],
      ['viewer', 403, 'role_required'],
      ['other family’s owner', 403, 'not_member'],
    ]);
    // The owner of another family cannot rename this one by naming its id either.
    expect((await api(t, 'PATCH', `/v1/families/${otherFid}`, { token: owner.accessToken, body: { name: 'X' } })).status).toBe(
      403,
    );
    for (const name of ['', ' \u200b ', 'n'.repeat(81)]) {
      expect((await api(t, 'PATCH', path, { token: owner.accessToken, body: { name } })).status).toBe(400);
    }

    const viewerSocket = await connect(t, viewer.accessToken);
    const told = waitFor(viewerSocket, 'family:updated');
    const ok = await api(t, 'PATCH', path, { token: owner.accessToken, body: { name: ' The Joneses ' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: fid, name: 'The Joneses', role: 'owner' });
    expect(await told).toEqual({ familyId: fid, name: 'The Joneses' });
    expect((await api(t, 'GET', '/v1/families', { token: viewer.accessToken })).body.families[0].name).toBe('The Joneses');
    viewerSocket.disconnect();
  });

  it('gives an unbound watch a fresh binding code on its own connection, which binds it again', async () => {
    const { owner, familyId, watch } = await familyWithWatch(t);
    const guardian = await addMember(t, owner, familyId, 'guardian');
    const w = await connect(t, watch.deviceToken);
    const path = `/v1/families/${familyId}/devices/${watch.deviceId}`;
    expect((await api(t, 'DELETE', path, { token: guardian.accessToken })).status).toBe(403);

    const code = waitFor(w, 'binding:code');
    expect((await api(t, 'DELETE', path, { token: owner.accessToken })).status).toBe(204);
    const { bindingCode, expiresAt } = await code;
    expect(bindingCode).toMatch(/^[0-9A-Z]{10}$/);
    expect(expiresAt).toBeGreaterThan(Date.now());

    const next = await registerUser(t);
    const nextFid = await createFamily(t, next);
    const bound = await api(t, 'POST', `/v1/families/${nextFid}/devices`, {
      token: next.accessToken,
      body: { bindingCode, childName: 'Mia' },
    });
    expect(bound.status).toBe(201);
    expect(bound.body.permissions).toEqual({ location: false, camera: false, microphone: false, contacts: false, health: false });
    // Single use.
    const again = await api(t, 'POST', `/v1/families/${familyId}/devices`, {
      token: owner.accessToken,
      body: { bindingCode, childName: 'Mia' },
    });
    expect(again.status).toBe(404);
    w.disconnect();
  });

  it('deletes a family for the owner only: watches freed with fresh codes, members told, its data gone', async () => {
    const fam = await sharingFamily(t);
    const { owner, familyId, deviceId } = fam;
    const guardian = await addMember(t, owner, familyId, 'guardian');
    const viewer = await addMember(t, owner, familyId, 'viewer');
    const stranger = await registerUser(t);
    expect((await request(fam.watchSocket, 'location:report', fix())).ok).toBe(true);
    expect(await t.store.fixes.latest(deviceId)).toBeDefined();
    const sent = await request(fam.parentSocket, 'chat:send', {
      conversationId: familyId,
      clientMsgId: 'm1',
      kind: 'text',
      text: 'hello',
    });
    expect(sent.ok).toBe(true);
    expect((await api(t, 'POST', `/v1/families/${familyId}/geofences`, { token: owner.accessToken, body: circle })).status).toBe(
      201,
    );

    for (const u of [guardian, viewer, stranger]) {
      expect((await api(t, 'DELETE', `/v1/families/${familyId}`, { token: u.accessToken })).status).toBe(403);
    }

    const guardianSocket = await connect(t, guardian.accessToken);
    const memberTold = waitFor(guardianSocket, 'family:removed');
    const ownerTold = waitFor(fam.parentSocket, 'family:removed');
    const watchTold = waitFor(fam.watchSocket, 'family:removed');
    const code = waitFor(fam.watchSocket, 'binding:code');
    expect((await api(t, 'DELETE', `/v1/families/${familyId}`, { token: owner.accessToken })).status).toBe(204);
    expect(await memberTold).toEqual({ familyId, reason: 'deleted' });
    expect(await ownerTold).toEqual({ familyId, reason: 'deleted' });
    expect(await watchTold).toEqual({ familyId, reason: 'deleted' });
    const { bindingCode } = await code;

    // Gone for every member; gone from the store; the watch no longer reports into it.
    for (const u of [owner, guardian, viewer]) {
      expect((await api(t, 'GET', `/v1/families/${familyId}`, { token: u.accessToken })).status).toBe(403);
      expect((await api(t, 'GET', '/v1/families', { token: u.accessToken })).body.families).toEqual([]);
    }
    expect(await t.store.families.findById(familyId)).toBeUndefined();
    expect(await t.store.families.members(familyId)).toEqual([]);
    expect(await t.store.geofences.listByFamily(familyId)).toEqual([]);
    expect((await t.store.devices.findById(deviceId))?.family_id).toBeNull();
    expect(await t.store.fixes.latest(deviceId)).toBeUndefined();
    expect(await t.store.messages.after(familyId, 0, 100)).toEqual([]);
    expect((await request(fam.watchSocket, 'location:report', fix())).error.reason).toBe('watch_unbound');
    expect(
      (await request(guardianSocket, 'chat:send', { conversationId: familyId, clientMsgId: 'm2', kind: 'text', text: 'x' })).ok,
    ).toBe(false);
    expect((await api(t, 'DELETE', `/v1/families/${familyId}`, { token: owner.accessToken })).status).toBe(403);

    // The watch binds again, into a new family that sees none of the old one's data.
    const next = await createFamily(t, stranger);
    expect(
      (
        await api(t, 'POST', `/v1/families/${next}/devices`, {
          token: stranger.accessToken,
          body: { bindingCode, childName: 'Mia' },
        })
      ).status,
    ).toBe(201);
    const history = await request(await connect(t, stranger.accessToken), 'location:history', {
      deviceId,
      from: 0,
      to: Date.now() + 60_000,
    });
    expect(history.fixes).toEqual([]);
    guardianSocket.disconnect();
  });

  it('changes roles at once on live sockets, keeps an owner, and passes ownership on', async () => {
    const owner = await registerUser(t, 'Owner');
    const fid = await createFamily(t, owner);
    const guardian = await addMember(t, owner, fid, 'guardian');
    const viewer = await addMember(t, owner, fid, 'viewer');
    const stranger = await registerUser(t);
    const strangerFid = await createFamily(t, stranger);
    const role = (token: string, uid: string, r: string, family = fid) =>
      api(t, 'PUT', `/v1/families/${family}/members/${uid}`, { token, body: { role: r } });

    // Who may not.
    expect((await role(guardian.accessToken, viewer.id, 'guardian')).body.error.reason).toBe('role_required');
    expect((await role(viewer.accessToken, viewer.id, 'owner')).body.error.reason).toBe('role_required');
    expect((await role(stranger.accessToken, stranger.id, 'owner')).body.error.reason).toBe('not_member');
    // Another family's member, an unknown user, a bad role.
    expect((await role(owner.accessToken, stranger.id, 'viewer')).body.error.reason).toBe('no_such_member');
    expect((await role(owner.accessToken, 'no-such-user', 'viewer')).body.error.reason).toBe('no_such_member');
    expect((await role(owner.accessToken, guardian.id, 'viewer', strangerFid)).body.error.reason).toBe('not_member');
    expect((await role(owner.accessToken, guardian.id, 'admin')).status).toBe(400);
    // The last owner cannot step down.
    const last = await role(owner.accessToken, owner.id, 'guardian');
    expect(last.status).toBe(409);
    expect(last.body.error.reason).toBe('last_owner');

    // A demoted writer can no longer write, on its live socket and over HTTP, at once.
    const gSocket = await connect(t, guardian.accessToken);
    const ownerSocket = await connect(t, owner.accessToken);
    const say = (n: number) =>
      request(gSocket, 'chat:send', { conversationId: fid, clientMsgId: `g${n}`, kind: 'text', text: `hi ${n}` });
    expect((await say(1)).ok).toBe(true);
    expect((await api(t, 'POST', `/v1/families/${fid}/geofences`, { token: guardian.accessToken, body: circle })).status).toBe(
      201,
    );
    const told = waitFor(ownerSocket, 'member:updated', (e) => e.member.userId === guardian.id);
    const demoted = await role(owner.accessToken, guardian.id, 'viewer');
    expect(demoted.status).toBe(200);
    expect(demoted.body.members.find((m: { userId: string }) => m.userId === guardian.id).role).toBe('viewer');
    expect((await told).member.role).toBe('viewer');
    const refused = await say(2);
    expect(refused.error).toMatchObject({ code: 'FORBIDDEN', reason: 'role_required' });
    expect((await api(t, 'POST', `/v1/families/${fid}/geofences`, { token: guardian.accessToken, body: circle })).status).toBe(
      403,
    );
    // Still a member: reads go on.
    expect((await api(t, 'GET', `/v1/families/${fid}/geofences`, { token: guardian.accessToken })).status).toBe(200);

    // Ownership passes: the viewer becomes owner, the old owner steps down, and rights follow.
    expect((await role(owner.accessToken, viewer.id, 'owner')).status).toBe(200);
    const stepDown = await role(owner.accessToken, owner.id, 'guardian');
    expect(stepDown.status).toBe(200);
    expect(stepDown.body.role).toBe('guardian');
    expect(
      (await api(t, 'POST', `/v1/families/${fid}/invites`, { token: owner.accessToken, body: { role: 'viewer' } })).status,
    ).toBe(403);
    expect(
      (await api(t, 'POST', `/v1/families/${fid}/invites`, { token: viewer.accessToken, body: { role: 'viewer' } })).status,
    ).toBe(201);
    expect((await role(viewer.accessToken, viewer.id, 'viewer')).body.error.reason).toBe('last_owner');
    gSocket.disconnect();
    ownerSocket.disconnect();
  });

  it('lets members leave; the last owner cannot, even alone', async () => {
    const owner = await registerUser(t);
    const fid = await createFamily(t, owner);
    const viewer = await addMember(t, owner, fid, 'viewer');
    const stranger = await registerUser(t);
    const leave = (token: string, family = fid) => api(t, 'POST', `/v1/families/${family}/leave`, { token });

    expect((await leave(stranger.accessToken)).body.error.reason).toBe('not_member');
    const vSocket = await connect(t, viewer.accessToken);
    const told = waitFor(vSocket, 'family:removed');
    expect((await leave(viewer.accessToken)).status).toBe(204);
    expect(await told).toEqual({ familyId: fid, reason: 'left' });
    expect((await api(t, 'GET', `/v1/families/${fid}`, { token: viewer.accessToken })).status).toBe(403);
    expect((await request(vSocket, 'presence:list', { familyId: fid })).error.code).toBe('FORBIDDEN');
    expect((await leave(viewer.accessToken)).status).toBe(403);

    // Alone, the owner is still the last one: delete the family instead.
    const alone = await leave(owner.accessToken);
    expect(alone.status).toBe(409);
    expect(alone.body.error.reason).toBe('last_owner');
    // With a second owner, the first may go.
    const coOwner = await addMember(t, owner, fid, 'owner');
    expect((await leave(owner.accessToken)).status).toBe(204);
    expect((await leave(coOwner.accessToken)).body.error.reason).toBe('last_owner');
    vSocket.disconnect();
  });
});
