// The path every family takes: register → login → family → provision a watch → bind it by code →
// both connect and see each other's presence in the family room.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVISIONING_KEY, type TestHub, api, connect, randomImei, request, startHub, waitFor } from '../helpers/hub.js';

describe('register → family → watch → presence', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(() => t.close());

  it('works end to end with the real client', async () => {
    const email = 'Ann.Parent@Example.test';
    const reg = await api(t, 'POST', '/v1/auth/register', {
      body: { email, password: 'correct horse battery', nickname: 'Ann' },
    });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toMatchObject({ email: 'ann.parent@example.test', nickname: 'Ann' });
    expect(typeof reg.body.accessToken).toBe('string');

    const login = await api(t, 'POST', '/v1/auth/login', { body: { email, password: 'correct horse battery' } });
    expect(login.status).toBe(200);
    expect(login.body.user.id).toBe(reg.body.user.id);
    const token = login.body.accessToken as string;

    const me = await api(t, 'GET', '/v1/me', { token });
    expect(me.body.user.id).toBe(reg.body.user.id);

    const fam = await api(t, 'POST', '/v1/families', { token, body: { name: 'The Parkers' } });
    expect(fam.status).toBe(201);
    expect(fam.body).toMatchObject({ name: 'The Parkers', role: 'owner', devices: [] });
    expect(fam.body.members).toEqual([
      { userId: reg.body.user.id, nickname: 'Ann', role: 'owner', joinedAt: expect.any(Number) },
    ]);
    const familyId = fam.body.id as string;

    const imei = randomImei();
    const prov = await api(t, 'POST', '/v1/devices/register', {
      body: { imei, model: 'KW-7' },
      headers: { 'x-provisioning-key': PROVISIONING_KEY },
    });
    expect(prov.status).toBe(201);
    expect(prov.body).toMatchObject({ deviceId: expect.any(String), deviceToken: expect.any(String) });
    expect(prov.body.bindingCode).toMatch(/^[0-9A-Z]{10}$/);

    // Parent's app is online before the watch is bound.
    const parent = await connect(t, token);

    // Codes are typed by people: lower case and dashes are fine.
    const code = prov.body.bindingCode as string;
    const typed = `${code.slice(0, 5).toLowerCase()}-${code.slice(5)}`;
    const bind = await api(t, 'POST', `/v1/families/${familyId}/devices`, {
      token,
      body: { bindingCode: typed, childName: 'Mia' },
    });
    expect(bind.status).toBe(201);
    expect(bind.body).toMatchObject({
      id: prov.body.deviceId,
      childName: 'Mia',
      permissions: { location: false, camera: false, microphone: false, contacts: false },
    });

    const watchOnline = waitFor(parent, 'presence', (p) => p.id === prov.body.deviceId && p.online);
    const watch = await connect(t, prov.body.deviceToken);
    // The watch learns the parent is online; the parent learns the watch came online.
    const parentSeen = await waitFor(watch, 'presence', (p) => p.id === reg.body.user.id, { past: true });
    expect(parentSeen).toMatchObject({ kind: 'user', online: true, lastSeen: expect.any(Number) });
    expect(await watchOnline).toMatchObject({ kind: 'device', online: true });

    const list = await request(parent, 'presence:list', { familyId });
    expect(list.ok).toBe(true);
    expect(list.presence).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'user', id: reg.body.user.id, online: true }),
        expect.objectContaining({ kind: 'device', id: prov.body.deviceId, online: true }),
      ]),
    );

    const family = await api(t, 'GET', `/v1/families/${familyId}`, { token });
    expect(family.body.devices.map((d: { id: string }) => d.id)).toEqual([prov.body.deviceId]);

    const watchOffline = waitFor(parent, 'presence', (p) => p.id === prov.body.deviceId && !p.online);
    watch.disconnect();
    expect(await watchOffline).toMatchObject({ kind: 'device', online: false, lastSeen: expect.any(Number) });
    parent.disconnect();
  });

  it('reports presence once per principal, not once per socket', async () => {
    const owner = await api(t, 'POST', '/v1/auth/register', {
      body: { email: 'two.tabs@example.test', password: 'correct horse battery', nickname: 'Tabs' },
    });
    const token = owner.body.accessToken as string;
    const fam = await api(t, 'POST', '/v1/families', { token, body: { name: 'Tabs' } });
    const prov = await api(t, 'POST', '/v1/devices/register', {
      body: { imei: randomImei(), model: 'KW-7' },
      headers: { 'x-provisioning-key': PROVISIONING_KEY },
    });
    await api(t, 'POST', `/v1/families/${fam.body.id}/devices`, {
      token,
      body: { bindingCode: prov.body.bindingCode, childName: 'Leo' },
    });
    const watch = await connect(t, prov.body.deviceToken);
    const events: { online: boolean }[] = [];
    watch.on('presence', (p) => {
      if (p.id === owner.body.user.id) events.push(p);
    });
    const a = await connect(t, token);
    await waitFor(watch, 'presence', (p) => p.id === owner.body.user.id && p.online);
    const b = await connect(t, token);
    a.disconnect();
    // b is still online: closing a is not "last disconnect". A round trip on the watch's socket
    // orders us after anything the hub emitted for a's close.
    await request(b, 'presence:list', { familyId: fam.body.id });
    await request(watch, 'presence:list', { familyId: fam.body.id });
    const offline = waitFor(watch, 'presence', (p) => p.id === owner.body.user.id && !p.online);
    b.disconnect();
    await offline;
    expect(events.map((e) => e.online)).toEqual([true, false]);
    watch.disconnect();
  });
});
