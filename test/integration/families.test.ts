// Families, invites, watch binding, permissions, and removals taking effect on live sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PROVISIONING_KEY,
  type TestHub,
  addMember,
  api,
  connect,
  createFamily,
  familyWithWatch,
  provisionWatch,
  randomImei,
  received,
  registerUser,
  request,
  startHub,
  waitFor,
} from '../helpers/hub.js';

describe('families', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(() => t.close());

  it('invites members with roles; each invite is single use', async () => {
    const owner = await registerUser(t, 'Owner');
    const fid = await createFamily(t, owner);
    const guardian = await addMember(t, owner, fid, 'guardian');
    const viewer = await addMember(t, owner, fid, 'viewer');

    const family = await api(t, 'GET', `/v1/families/${fid}`, { token: viewer.accessToken });
    expect(family.status).toBe(200);
    expect(family.body.role).toBe('viewer');
    expect(family.body.members.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual([
      [owner.id, 'owner'],
      [guardian.id, 'guardian'],
      [viewer.id, 'viewer'],
    ]);
    const list = await api(t, 'GET', '/v1/families', { token: guardian.accessToken });
    expect(list.body.families).toEqual([expect.objectContaining({ id: fid, role: 'guardian' })]);

    const invite = await api(t, 'POST', `/v1/families/${fid}/invites`, { token: owner.accessToken, body: { role: 'viewer' } });
    const first = await registerUser(t);
    const second = await registerUser(t);
    expect((await api(t, 'POST', `/v1/invites/${invite.body.code}/accept`, { token: first.accessToken })).status).toBe(200);
    const reuse = await api(t, 'POST', `/v1/invites/${invite.body.code}/accept`, { token: second.accessToken });
    expect(reuse.status).toBe(404);
    expect(reuse.body.error.code).toBe('NOT_FOUND');
  });

  it('lets only owners invite, change permissions and remove; viewers cannot bind watches', async () => {
    const owner = await registerUser(t);
    const fid = await createFamily(t, owner);
    const guardian = await addMember(t, owner, fid, 'guardian');
    const viewer = await addMember(t, owner, fid, 'viewer');

    const inv = await api(t, 'POST', `/v1/families/${fid}/invites`, { token: guardian.accessToken, body: { role: 'viewer' } });
    expect(inv.status).toBe(403);
    expect(inv.body.error.code).toBe('FORBIDDEN');

    const w1 = await provisionWatch(t);
    const byViewer = await api(t, 'POST', `/v1/families/${fid}/devices`, {
      token: viewer.accessToken,
      body: { bindingCode: w1.bindingCode, childName: 'Mia' },
    });
    expect(byViewer.status).toBe(403);
    const byGuardian = await api(t, 'POST', `/v1/families/${fid}/devices`, {
      token: guardian.accessToken,
      body: { bindingCode: w1.bindingCode, childName: 'Mia' },
    });
    expect(byGuardian.status).toBe(201);

    const perms = { location: true, camera: false, microphone: true, contacts: false };
    const path = `/v1/families/${fid}/devices/${w1.deviceId}/permissions`;
    expect((await api(t, 'PUT', path, { token: guardian.accessToken, body: perms })).status).toBe(403);
    const set = await api(t, 'PUT', path, { token: owner.accessToken, body: perms });
    expect(set.status).toBe(200);
    // health (v1.1) is left out of a v1 body, and stays as it was (off).
    expect(set.body.permissions).toEqual({ ...perms, health: false });
    const read = await api(t, 'GET', `/v1/families/${fid}`, { token: viewer.accessToken });
    expect(read.body.devices[0].permissions).toEqual({ ...perms, health: false });

    for (const body of [{ location: true }, { ...perms, extra: true }, { ...perms, camera: 'yes' }]) {
      const r = await api(t, 'PUT', path, { token: owner.accessToken, body });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('BAD_REQUEST');
    }

    const rm = await api(t, 'DELETE', `/v1/families/${fid}/members/${viewer.id}`, { token: guardian.accessToken });
    expect(rm.status).toBe(403);
    // The last owner cannot leave the family ownerless.
    const leave = await api(t, 'DELETE', `/v1/families/${fid}/members/${owner.id}`, { token: owner.accessToken });
    expect(leave.status).toBe(409);
    expect(leave.body.error.code).toBe('CONFLICT');
    // Any member may leave on their own.
    expect((await api(t, 'DELETE', `/v1/families/${fid}/members/${viewer.id}`, { token: viewer.accessToken })).status).toBe(204);
  });

  it('refuses a member of one family naming another family’s ids', async () => {
    const a = await familyWithWatch(t);
    const b = await familyWithWatch(t);
    const guardianA = await addMember(t, a.owner, a.familyId, 'guardian');
    const tok = { token: a.owner.accessToken };
    const tries = [
      await api(t, 'GET', `/v1/families/${b.familyId}`, { token: guardianA.accessToken }),
      await api(t, 'POST', `/v1/families/${b.familyId}/invites`, { ...tok, body: { role: 'owner' } }),
      await api(t, 'DELETE', `/v1/families/${b.familyId}/devices/${b.watch.deviceId}`, tok),
      await api(t, 'DELETE', `/v1/families/${b.familyId}/members/${b.owner.id}`, tok),
      await api(t, 'GET', `/v1/families/no-such-family`, tok),
    ];
    for (const r of tries) {
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('FORBIDDEN');
    }
    // Own family id with the other family's watch: not found there, and nothing changes.
    const perms = { location: true, camera: true, microphone: true, contacts: true };
    const cross = await api(t, 'PUT', `/v1/families/${a.familyId}/devices/${b.watch.deviceId}/permissions`, {
      ...tok,
      body: perms,
    });
    expect(cross.status).toBe(404);
    const crossDelete = await api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${b.watch.deviceId}`, tok);
    expect(crossDelete.status).toBe(404);
    const bView = await api(t, 'GET', `/v1/families/${b.familyId}`, { token: b.owner.accessToken });
    expect(bView.body.devices[0]).toMatchObject({ id: b.watch.deviceId, permissions: { location: false } });

    const s = await connect(t, guardianA.accessToken);
    const res = await request(s, 'presence:list', { familyId: b.familyId });
    expect(res).toEqual({ ok: false, error: { code: 'FORBIDDEN', reason: 'not_member', message: expect.any(String) } });
    const w = await connect(t, a.watch.deviceToken);
    expect((await request(w, 'presence:list', { familyId: b.familyId })).error.code).toBe('FORBIDDEN');
    s.disconnect();
    w.disconnect();
  });

  it('takes a removed member’s sockets out of the family room at once', async () => {
    const { owner, familyId, watch } = await familyWithWatch(t);
    const guardian = await addMember(t, owner, familyId, 'guardian');
    const ownerSocket = await connect(t, owner.accessToken);
    const guardianSocket = await connect(t, guardian.accessToken);

    const removedEvent = waitFor(guardianSocket, 'family:removed');
    const rm = await api(t, 'DELETE', `/v1/families/${familyId}/members/${guardian.id}`, { token: owner.accessToken });
    expect(rm.status).toBe(204);
    expect(await removedEvent).toEqual({ familyId, reason: 'removed' });

    // The watch comes online: the owner hears it, the removed guardian must not.
    const ownerHears = waitFor(ownerSocket, 'presence', (p) => p.id === watch.deviceId);
    const w = await connect(t, watch.deviceToken);
    await ownerHears;
    // A round trip on the guardian's socket orders us after anything sent to it before.
    const answer = await request(guardianSocket, 'presence:list', { familyId });
    expect(answer.error.code).toBe('FORBIDDEN');
    expect(received(guardianSocket, 'presence').filter((p) => p.id === watch.deviceId)).toEqual([]);

    // The removed member's still-valid token no longer opens the family.
    expect((await api(t, 'GET', `/v1/families/${familyId}`, { token: guardian.accessToken })).status).toBe(403);
    // And a new socket does not join the room.
    const again = await connect(t, guardian.accessToken);
    await request(again, 'presence:list', { familyId: 'x' });
    w.disconnect();
    await waitFor(ownerSocket, 'presence', (p) => p.id === watch.deviceId && !p.online);
    await request(again, 'presence:list', { familyId: 'x' });
    expect(received(again, 'presence').filter((p) => p.id === watch.deviceId)).toEqual([]);
    for (const s of [ownerSocket, guardianSocket, again]) s.disconnect();
  });

  it('takes a removed watch out of the family: sockets, permissions and binding', async () => {
    const { owner, familyId, watch } = await familyWithWatch(t);
    const path = `/v1/families/${familyId}/devices/${watch.deviceId}`;
    await api(t, 'PUT', `${path}/permissions`, {
      token: owner.accessToken,
      body: { location: true, camera: true, microphone: true, contacts: true },
    });
    const w = await connect(t, watch.deviceToken);
    const removed = waitFor(w, 'family:removed');
    expect((await api(t, 'DELETE', path, { token: owner.accessToken })).status).toBe(204);
    expect(await removed).toEqual({ familyId, reason: 'removed' });
    expect((await request(w, 'presence:list', { familyId })).error.code).toBe('FORBIDDEN');
    const fam = await api(t, 'GET', `/v1/families/${familyId}`, { token: owner.accessToken });
    expect(fam.body.devices).toEqual([]);
    expect((await api(t, 'DELETE', path, { token: owner.accessToken })).status).toBe(404);

    // Bound again (new code after re-registration): permissions start all off again.
    const again = await provisionWatch(t, watch.imei);
    const bind = await api(t, 'POST', `/v1/families/${familyId}/devices`, {
      token: owner.accessToken,
      body: { bindingCode: again.bindingCode, childName: 'Mia' },
    });
    expect(bind.body.permissions).toEqual({ location: false, camera: false, microphone: false, contacts: false, health: false });
    w.disconnect();
  });

  it('puts a watch bound while online into the family room at once', async () => {
    const owner = await registerUser(t);
    const fid = await createFamily(t, owner);
    const watch = await provisionWatch(t);
    const w = await connect(t, watch.deviceToken);
    expect((await request(w, 'presence:list', { familyId: fid })).error.code).toBe('FORBIDDEN');
    await api(t, 'POST', `/v1/families/${fid}/devices`, {
      token: owner.accessToken,
      body: { bindingCode: watch.bindingCode, childName: 'Mia' },
    });
    const res = await request(w, 'presence:list', { familyId: fid });
    expect(res.ok).toBe(true);
    const ownerOnline = waitFor(w, 'presence', (p) => p.id === owner.id && p.online);
    const o = await connect(t, owner.accessToken);
    await ownerOnline;
    o.disconnect();
    w.disconnect();
  });
});

describe('watch provisioning and binding codes', () => {
  let t: TestHub;
  beforeAll(async () => {
    // A binding code that expires well before the access tokens do.
    t = await startHub({ env: { HUB_BINDING_CODE_TTL_S: '60' } });
  });
  afterAll(() => t.close());

  const register = (headers: Record<string, string>, body: unknown = { imei: randomImei(), model: 'KW-7' }) =>
    api(t, 'POST', '/v1/devices/register', { body, headers });

  it('needs the provisioning key', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { 'x-provisioning-key': 'wrong-key-wrong-key-wrong' },
      { 'x-provisioning-key': '' },
    ];
    for (const headers of attempts) {
      const r = await register(headers);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('FORBIDDEN');
    }
  });

  it('validates the IMEI and model', async () => {
    const key = { 'x-provisioning-key': PROVISIONING_KEY };
    const good = randomImei();
    const badCheck = good.slice(0, 14) + String((Number(good[14]) + 1) % 10);
    for (const body of [
      { imei: badCheck, model: 'A' },
      { imei: '12345', model: 'A' },
      { imei: good },
      { imei: good, model: 'x'.repeat(65) },
    ]) {
      const r = await register(key, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('refuses a used code, an expired code, and a code of a watch bound elsewhere', async () => {
    const owner = await registerUser(t);
    const fid = await createFamily(t, owner);
    const other = await registerUser(t);
    const otherFid = await createFamily(t, other);
    const bind = (token: string, familyId: string, bindingCode: string) =>
      api(t, 'POST', `/v1/families/${familyId}/devices`, { token, body: { bindingCode, childName: 'Kid' } });

    const w = await provisionWatch(t);
    expect((await bind(owner.accessToken, fid, w.bindingCode)).status).toBe(201);
    const used = await bind(other.accessToken, otherFid, w.bindingCode);
    expect(used.status).toBe(404);
    expect(used.body.error.code).toBe('NOT_FOUND');

    const stale = await provisionWatch(t);
    t.clock.advance((t.config.bindingCodeTtlS + 1) * 1000);
    try {
      const expired = await bind(owner.accessToken, fid, stale.bindingCode);
      expect(expired.status).toBe(404);
      expect(expired.body.error.message).toMatch(/expired/);
    } finally {
      t.clock.advance(-(t.config.bindingCodeTtlS + 1) * 1000);
    }

    // The bound watch is re-registered (factory reset): its new code cannot steal it.
    const reset = await provisionWatch(t, w.imei);
    const steal = await bind(other.accessToken, otherFid, reset.bindingCode);
    expect(steal.status).toBe(409);
    expect(steal.body.error.code).toBe('CONFLICT');
  });
});
