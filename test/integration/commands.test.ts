// Commands to a watch with real clients: queued while offline and delivered on connect, results
// told to the family, expiry, per-type params, consent, encryption at rest and audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestHub, addMember, api, connect, received, request, requestRaw, startHub, waitFor } from '../helpers/hub.js';
import { sharingFamily } from '../helpers/location.js';

async function setPerms(t: TestHub, token: string, fid: string, did: string, perms: Partial<Record<string, boolean>>) {
  const body = { location: true, camera: false, microphone: false, contacts: false, ...perms };
  expect((await api(t, 'PUT', `/v1/families/${fid}/devices/${did}/permissions`, { token, body })).status).toBe(200);
}

describe('commands', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_MAX_CONTACTS: '50' } });
  });
  afterAll(() => t.close());

  it('queues for an offline watch, delivers in order on connect, and tells the family the result', async () => {
    const a = await sharingFamily(t);
    a.watchSocket.disconnect();
    await waitFor(a.parentSocket, 'presence', (p) => p.id === a.deviceId && !p.online);
    const first = await request(a.parentSocket, 'command:send', {
      deviceId: a.deviceId,
      type: 'set_interval',
      params: { seconds: 30 },
    });
    expect(first.command).toMatchObject({
      status: 'queued',
      type: 'set_interval',
      params: { seconds: 30 },
      createdBy: a.owner.id,
    });
    const second = await request(a.parentSocket, 'command:send', { deviceId: a.deviceId, type: 'find' });

    const { io } = await import('socket.io-client');
    const watch = io(t.url, {
      auth: { token: a.watch.deviceToken },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const delivered: { id: string; type: string; params: object }[] = [];
    watch.on('command', (c) => delivered.push(c));
    const sentUpdate = waitFor(
      a.parentSocket,
      'command:update',
      (e) => e.command.id === second.command.id && e.command.status === 'sent',
    );
    await new Promise<void>((resolve) => watch.once('connect', () => resolve()));
    await sentUpdate;
    expect(delivered.map((c) => c.id)).toEqual([first.command.id, second.command.id]);
    expect(delivered[0]).toMatchObject({ type: 'set_interval', params: { seconds: 30 } });

    const done = waitFor(
      a.parentSocket,
      'command:update',
      (e) => e.command.id === first.command.id && e.command.status === 'done',
    );
    const res = await watch
      .timeout(5000)
      .emitWithAck('command:result', { id: first.command.id, status: 'done', result: { applied: true } });
    expect(res.command).toMatchObject({ status: 'done', result: { applied: true } });
    expect((await done).command.result).toEqual({ applied: true });
    // A result once is final; someone else's command is not this watch's to answer.
    expect((await watch.timeout(5000).emitWithAck('command:result', { id: first.command.id, status: 'failed' })).error.code).toBe(
      'CONFLICT',
    );
    const b = await sharingFamily(t);
    const foreign = await request(b.parentSocket, 'command:send', { deviceId: b.deviceId, type: 'find' });
    expect((await watch.timeout(5000).emitWithAck('command:result', { id: foreign.command.id, status: 'done' })).error.code).toBe(
      'NOT_FOUND',
    );
    watch.close();
  });

  it('expires a command past its ttl', async () => {
    const a = await sharingFamily(t);
    a.watchSocket.disconnect();
    await waitFor(a.parentSocket, 'presence', (p) => p.id === a.deviceId && !p.online);
    const sent = await request(a.parentSocket, 'command:send', { deviceId: a.deviceId, type: 'locate', ttlMs: 10_000 });
    const expired = waitFor(
      a.parentSocket,
      'command:update',
      (e) => e.command.id === sent.command.id && e.command.status === 'expired',
      {
        timeoutMs: 10_000,
      },
    );
    t.clock.advance(11_000);
    try {
      await expired;
      // It is not delivered any more.
      const watch = await connect(t, a.watch.deviceToken);
      await request(watch, 'chat:sync', { conversationId: a.familyId, afterSeq: 0 });
      expect(received(watch, 'command')).toEqual([]);
      watch.disconnect();
    } finally {
      t.clock.advance(-11_000);
    }
  });

  it('validates params per type and refuses other families, viewers and missing consent', async () => {
    const a = await sharingFamily(t);
    const b = await sharingFamily(t);
    const send = (body: object) => requestRaw(a.parentSocket, 'command:send', { deviceId: a.deviceId, ...body });
    for (const body of [
      { type: 'set_interval', params: { seconds: 1 } },
      { type: 'set_interval' },
      { type: 'find', params: { loud: true } },
      { type: 'set_quiet_hours', params: { ranges: [{ days: [7], start: '08:00', end: '12:00' }] } },
      { type: 'set_quiet_hours', params: { ranges: [{ days: [1], start: '25:00', end: '12:00' }] } },
      { type: 'set_sos_numbers', params: { numbers: ['call me maybe'] } },
      { type: 'voice_reminder', params: { mediaId: 'not-ours' } },
      { type: 'self_destruct' },
    ]) {
      const r = await send(body);
      expect(r.error?.code, JSON.stringify(body)).toBe('BAD_REQUEST');
    }
    expect((await send({ type: 'photo' })).error.code).toBe('CONSENT_REQUIRED');
    const contacts = { contacts: [{ name: 'Grandma', phone: '+33 6 12 34 56 78' }] };
    expect((await send({ type: 'set_contacts', params: contacts })).error.code).toBe('CONSENT_REQUIRED');
    expect((await request(b.parentSocket, 'command:send', { deviceId: a.deviceId, type: 'find' })).error.code).toBe('FORBIDDEN');
    const viewer = await addMember(t, a.owner, a.familyId, 'viewer');
    const vs = await connect(t, viewer.accessToken);
    expect((await request(vs, 'command:send', { deviceId: a.deviceId, type: 'find' })).error.code).toBe('FORBIDDEN');
    vs.disconnect();
  });

  it('encrypts contact lists at rest, bounds them, and audits remote photos', async () => {
    const a = await sharingFamily(t);
    await setPerms(t, a.owner.accessToken, a.familyId, a.deviceId, { contacts: true, camera: true });
    const send = (body: object) => requestRaw(a.parentSocket, 'command:send', { deviceId: a.deviceId, ...body });
    const many = (n: number) => ({
      contacts: Array.from({ length: n }, (_, i) => ({ name: `Contact ${i}`, phone: `+4470000${String(i).padStart(5, '0')}` })),
    });
    expect((await send({ type: 'set_contacts', params: many(10_000) })).error.code).toBe('TOO_LARGE');
    expect((await send({ type: 'set_contacts', params: many(51) })).error.code).toBe('BAD_REQUEST');

    const delivered = waitFor(a.watchSocket, 'command', (c) => c.type === 'set_contacts');
    const sent = await send({ type: 'set_contacts', params: { contacts: [{ name: 'Grandma', phone: '+33 6 12 34 56 78' }] } });
    expect(sent.command.status).toBe('sent');
    expect((await delivered).params).toEqual({ contacts: [{ name: 'Grandma', phone: '+33 6 12 34 56 78' }] });
    const row = await t.store.commands.find(sent.command.id);
    expect(row!.params.startsWith('v1.')).toBe(true);
    expect(row!.params).not.toContain('Grandma');
    expect(row!.params).not.toContain('56 78');

    const photo = await send({ type: 'photo' });
    expect(photo.command.status).toBe('sent');
    const audit = await t.store.audit.forSubject(a.deviceId);
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'command.photo',
        actor: { kind: 'user', id: a.owner.id },
        details: { commandId: photo.command.id },
      }),
    ]);
  });

  it('withdraws open commands when the watch leaves the family or a needed permission is turned off', async () => {
    const a = await sharingFamily(t);
    await setPerms(t, a.owner.accessToken, a.familyId, a.deviceId, { camera: true, contacts: true });
    a.watchSocket.disconnect();
    await waitFor(a.parentSocket, 'presence', (p) => p.id === a.deviceId && !p.online);
    const photo = await request(a.parentSocket, 'command:send', { deviceId: a.deviceId, type: 'photo' });
    const contacts = await request(a.parentSocket, 'command:send', {
      deviceId: a.deviceId,
      type: 'set_contacts',
      params: { contacts: [{ name: 'Grandma', phone: '+33 6 12 34 56 78' }] },
    });
    const find = await request(a.parentSocket, 'command:send', { deviceId: a.deviceId, type: 'find' });
    const photoWithdrawn = waitFor(
      a.parentSocket,
      'command:update',
      (e) => e.command.id === photo.command.id && e.command.status === 'expired',
    );
    await setPerms(t, a.owner.accessToken, a.familyId, a.deviceId, { camera: false, contacts: true });
    await photoWithdrawn;
    expect((await t.store.commands.find(contacts.command.id))?.status).toBe('queued');

    // Unbound and bound to another family: nothing of the first family's queue reaches it.
    await api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${a.deviceId}`, { token: a.owner.accessToken });
    for (const id of [contacts.command.id, find.command.id]) expect((await t.store.commands.find(id))?.status).toBe('expired');
    const b = await sharingFamily(t);
    const again = await (await import('../helpers/hub.js')).provisionWatch(t, a.watch.imei);
    await api(t, 'POST', `/v1/families/${b.familyId}/devices`, {
      token: b.owner.accessToken,
      body: { bindingCode: again.bindingCode, childName: 'Sam' },
    });
    const w = await connect(t, again.deviceToken);
    await request(w, 'chat:sync', { conversationId: b.familyId, afterSeq: 0 });
    expect(received(w, 'command')).toEqual([]);
    w.disconnect();
  });
});
