// The family's data rights, end to end: consent history, exports (streamed, bounded memory,
// audited), account cancellation checked by scanning the database, and incident notices.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase } from '../../src/store/db.js';
import {
  type TestHub,
  addMember,
  api,
  bindWatch,
  connect,
  connectError,
  createFamily,
  provisionWatch,
  registerUser,
  request,
  startHub,
  waitFor,
} from '../helpers/hub.js';
import { BOUND_A_WEEK_AGO, fix, setPermissions, sharingFamily } from '../helpers/location.js';

describe('privacy', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_SOCKET_RATE_POINTS: '100000' } });
  });
  afterAll(() => t.close());

  it('records who changed which permission, when and from what; owners read it', async () => {
    const a = await sharingFamily(t);
    const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
    await setPermissions(t, a.owner.accessToken, a.familyId, a.deviceId, false);
    const path = `/v1/families/${a.familyId}/devices/${a.deviceId}/consents`;
    const r = await api(t, 'GET', path, { token: a.owner.accessToken });
    expect(r.body.consents).toEqual([
      { permission: 'location', previous: false, value: true, changedBy: a.owner.id, at: expect.any(Number) },
      { permission: 'location', previous: true, value: false, changedBy: a.owner.id, at: expect.any(Number) },
    ]);
    expect((await api(t, 'GET', path, { token: guardian.accessToken })).status).toBe(403);
  });

  it('exports a user’s own data, and audits the export', async () => {
    const a = await sharingFamily(t);
    await request(a.parentSocket, 'chat:send', {
      conversationId: a.familyId,
      clientMsgId: 'e1',
      kind: 'text',
      text: 'export me',
    });
    await request(a.parentSocket, 'command:send', { deviceId: a.deviceId, type: 'find' });
    const r = await api(t, 'GET', '/v1/me/export', { token: a.owner.accessToken });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toMatch(/attachment/);
    expect(r.body.user).toMatchObject({ id: a.owner.id, email: a.owner.email });
    expect(r.body.families).toEqual([{ id: a.familyId, name: 'The Smiths', role: 'owner' }]);
    expect(r.body.messagesSent.map((m: { text: string }) => m.text)).toEqual(['export me']);
    expect(r.body.commandsSent.map((c: { type: string }) => c.type)).toEqual(['find']);
    expect(r.body.sessions.length).toBeGreaterThan(0);
    const audit = await t.store.privacy.auditByActor(a.owner.id);
    expect(audit.map((e) => e.action)).toContain('export.user');
  });

  it('streams a watch’s export of 300,000 fixes with bounded memory', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    await setPermissions(t, a.owner.accessToken, a.familyId, a.deviceId, true);
    const now = Date.now();
    const base = now - 300_000_000;
    const rows = Array.from({ length: 300_000 }, (_, i) => ({
      device_id: a.deviceId,
      ts: base + i * 1000,
      lat: 48.85 + (i % 1000) * 1e-5,
      lng: 2.35 + (i % 977) * 1e-5,
      acc: 8,
      alt: 35.5,
      speed: 1.25,
      heading: 90,
      battery: 80,
      source: 'gps',
      cell: '891fb466257ffff',
      received_at: now,
    }));
    for (let i = 0; i < rows.length; i += 20_000) await t.store.fixes.insertMany(rows.slice(i, i + 20_000));
    rows.length = 0;

    const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
    const path = `/v1/families/${a.familyId}/devices/${a.deviceId}/export`;
    expect((await api(t, 'GET', path, { token: guardian.accessToken })).status).toBe(403);

    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const res = await fetch(t.url + path, { headers: { authorization: `Bearer ${a.owner.accessToken}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const parts: string[] = [];
    let bytes = 0;
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      bytes += value.length;
      // Keep only a short tail: the test must not be what holds the export in memory.
      parts.push(decoder.decode(value, { stream: true }).slice(-200));
      if (parts.length > 2) parts.shift();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(bytes).toBeGreaterThan(30_000_000);
    expect(chunks).toBeGreaterThan(100);
    // Holding the whole export would take well over 100 MB here (rows as objects plus the text).
    expect(peak - before).toBeLessThan(80 * 1024 * 1024);
    expect(parts.join('').endsWith(']}')).toBe(true);
    const audit = await t.store.audit.forSubject(a.deviceId);
    expect(audit.map((e) => e.action)).toContain('export.device');
  }, 120_000);

  it('exports a watch’s data in full and valid JSON', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    await request(a.watchSocket, 'location:report', { fixes: [fix({ ts: Date.now() - 2000 }), fix({ ts: Date.now() - 1000 })] });
    await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now() });
    const r = await api(t, 'GET', `/v1/families/${a.familyId}/devices/${a.deviceId}/export`, { token: a.owner.accessToken });
    expect(r.body.watch).toMatchObject({ id: a.deviceId, imei: a.watch.imei, permissions: { location: true } });
    expect(r.body.fixes).toHaveLength(2);
    expect(r.body.alerts.map((x: { type: string }) => x.type)).toEqual(['sos']);
    expect(r.body.consentHistory).toHaveLength(1);
  });
});

describe('account cancellation', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(() => t.close());

  it('erases the account for good: a scan of every table finds nothing of it', async () => {
    const nickname = `Zelda-${Date.now()}`;
    const leaver = await registerUser(t, nickname);
    const own = await createFamily(t, leaver, 'Leaver family');
    const watch = await provisionWatch(t);
    await bindWatch(t, leaver, own, watch);
    await setPermissions(t, leaver.accessToken, own, watch.deviceId, true);
    const other = await sharingFamily(t);
    const invite = await api(t, 'POST', `/v1/families/${other.familyId}/invites`, {
      token: other.owner.accessToken,
      body: { role: 'guardian' },
    });
    await api(t, 'POST', `/v1/invites/${invite.body.code}/accept`, { token: leaver.accessToken });

    const s = await connect(t, leaver.accessToken);
    await request(s, 'chat:send', { conversationId: other.familyId, clientMsgId: 'bye', kind: 'text', text: 'see you all' });
    await request(s, 'chat:send', { conversationId: own, clientMsgId: 'mine', kind: 'text', text: 'private family note' });
    await request(s, 'location:history', { deviceId: other.deviceId, from: 0, to: Date.now() });
    const w = await connect(t, watch.deviceToken);
    await request(w, 'location:report', fix());

    expect((await api(t, 'DELETE', '/v1/me', { token: leaver.accessToken, body: { password: 'wrong password' } })).status).toBe(
      403,
    );
    const closed = new Promise<string>((resolve) => s.once('disconnect', resolve));
    const newCode = waitFor(w, 'binding:code');
    expect((await api(t, 'DELETE', '/v1/me', { token: leaver.accessToken, body: { password: leaver.password } })).status).toBe(
      204,
    );
    expect(await closed).toBe('io server disconnect');

    // Old tokens fail everywhere.
    expect((await api(t, 'GET', '/v1/me', { token: leaver.accessToken })).status).toBe(401);
    expect((await connectError(t, leaver.accessToken)).code).toBe('UNAUTHORIZED');
    expect((await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: leaver.refreshToken } })).status).toBe(401);
    expect((await api(t, 'POST', '/v1/auth/login', { body: { email: leaver.email, password: leaver.password } })).status).toBe(
      401,
    );

    // Scan every table, every row.
    const { db } = openDatabase(t.config.databaseUrl);
    try {
      const tables = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`.execute(db);
      expect(tables.rows.length).toBeGreaterThan(15);
      for (const { name } of tables.rows) {
        const rows = await sql`SELECT * FROM ${sql.table(name)}`.execute(db);
        const text = JSON.stringify(rows.rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v));
        for (const secret of [leaver.email, nickname, leaver.id, 'private family note']) {
          expect(text.includes(secret), `${secret} found in ${name}`).toBe(false);
        }
      }
    } finally {
      await db.destroy();
    }

    // The other family keeps the message, from "deleted user"; the sole-owner family is gone.
    const sync = await request(other.parentSocket, 'chat:sync', { conversationId: other.familyId, afterSeq: 0 });
    expect(sync.messages).toEqual([
      expect.objectContaining({ text: 'see you all', sender: { kind: 'user', id: 'deleted-user' } }),
    ]);
    expect((await api(t, 'GET', `/v1/families/${other.familyId}`, { token: other.owner.accessToken })).body.members).toHaveLength(
      1,
    );

    // Its watch was unbound and shows a new code, which binds it to another family.
    const code = await newCode;
    const adopter = await registerUser(t);
    const fid = await createFamily(t, adopter);
    const bound = await api(t, 'POST', `/v1/families/${fid}/devices`, {
      token: adopter.accessToken,
      body: { bindingCode: code.bindingCode, childName: 'Kid' },
    });
    expect(bound.status).toBe(201);
    expect(bound.body.permissions.location).toBe(false);
    w.disconnect();
  });
});

describe('incident notices', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(() => t.close());

  it('reach every affected family on its sockets and are audited; only with the ops scope', async () => {
    const a = await sharingFamily(t);
    const b = await sharingFamily(t);
    const ops = await registerUser(t);
    const opsToken = t.hub.services.tokens.signUser(ops.id, 0, ['ops']);
    const body = { message: 'We found and fixed a problem that exposed location data on 3 May.', familyIds: [a.familyId] };
    expect((await api(t, 'POST', '/v1/ops/incidents', { token: a.owner.accessToken, body })).status).toBe(403);
    const heard = waitFor(a.parentSocket, 'incident');
    const r = await api(t, 'POST', '/v1/ops/incidents', { token: opsToken, body });
    expect(r.status).toBe(202);
    expect(r.body.notifiedFamilies).toBe(1);
    expect(await heard).toMatchObject({ id: r.body.id, message: body.message });
    await request(b.parentSocket, 'location:latest', { familyId: b.familyId });
    const { received } = await import('../helpers/hub.js');
    expect(received(b.parentSocket, 'incident')).toEqual([]);
    const audit = await t.store.privacy.auditByActor(ops.id);
    expect(audit.map((e) => [e.action, e.family_id])).toEqual([['incident.notified', a.familyId]]);
  });
});
