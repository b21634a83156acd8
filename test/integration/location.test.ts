// Live location with real clients: ingest, consent, broadcast, latest, history with audit.
import { latLngToCell } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type TestHub,
  addMember,
  api,
  bindWatch,
  connect,
  provisionWatch,
  received,
  request,
  requestRaw,
  startHub,
  waitFor,
} from '../helpers/hub.js';
import { BOUND_A_WEEK_AGO, fix, setPermissions, sharingFamily } from '../helpers/location.js';

describe('location reports', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(() => t.close());

  it('tells the family, and only the family, with the fix’s H3 cell', async () => {
    const a = await sharingFamily(t);
    const b = await sharingFamily(t);
    const f = fix({ lat: 51.5007, lng: -0.1246, acc: 12, battery: 64 });
    const heard = waitFor(a.parentSocket, 'location');
    const res = await request(a.watchSocket, 'location:report', f);
    expect(res).toEqual({ ok: true, accepted: 1, rejected: [] });
    expect(await heard).toEqual({
      deviceId: a.deviceId,
      familyId: a.familyId,
      ts: f.ts,
      lat: f.lat,
      lng: f.lng,
      acc: 12,
      battery: 64,
      source: 'gps',
      cell: latLngToCell(f.lat, f.lng, 9),
    });
    // Family B hears nothing of A: a round trip on B's socket orders us after any emit.
    await request(b.parentSocket, 'location:latest', { familyId: b.familyId });
    expect(received(b.parentSocket, 'location')).toEqual([]);
  });

  it('stores nothing and answers CONSENT_REQUIRED while location is off', async () => {
    const a = await sharingFamily(t);
    await setPermissions(t, a.owner.accessToken, a.familyId, a.deviceId, false);
    const f = fix();
    const res = await request(a.watchSocket, 'location:report', { fixes: [f] });
    expect(res.ok).toBe(false);
    expect(res.error.code).toBe('CONSENT_REQUIRED');
    expect(await t.store.fixes.latest(a.deviceId)).toBeUndefined();
    await setPermissions(t, a.owner.accessToken, a.familyId, a.deviceId, true);
    expect((await request(a.watchSocket, 'location:report', f)).accepted).toBe(1);
    expect((await t.store.fixes.latest(a.deviceId))?.ts).toBe(f.ts);
  });

  it('accepts 97 of a batch of 100 with 3 bad fixes, naming the bad ones', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    const start = Date.now() - 100_000;
    const fixes: unknown[] = Array.from({ length: 100 }, (_, i) => fix({ ts: start + i * 1000, lat: 48.85 + i * 1e-4 }));
    fixes[7] = { ...(fixes[7] as object), lat: 91 };
    fixes[42] = { ...(fixes[42] as object), ts: Date.now() + 3_600_000 };
    fixes[99] = { ...(fixes[99] as object), source: 'telepathy' };
    const heard = waitFor(a.parentSocket, 'location');
    const res = await requestRaw(a.watchSocket, 'location:report', { fixes });
    expect(res.accepted).toBe(97);
    expect(res.rejected.map((r: { index: number }) => r.index)).toEqual([7, 42, 99]);
    for (const r of res.rejected) expect(r.code).toBe('BAD_REQUEST');
    // Only the newest accepted fix is broadcast.
    expect((await heard).ts).toBe(start + 98_000);
    const stored = await t.store.fixes.history(a.deviceId, 0, Date.now(), undefined, 1000);
    expect(stored).toHaveLength(97);
  });

  it('rejects malformed reports and hostile fixes without losing the good ones', async () => {
    const a = await sharingFamily(t);
    for (const payload of [{ fixes: [] }, { fixes: Array.from({ length: 101 }, () => fix()) }, 'x', [fix()], { fixes: 'no' }]) {
      const r = await requestRaw(a.watchSocket, 'location:report', payload);
      expect(r.ok, JSON.stringify(payload).slice(0, 60)).toBe(false);
      expect(r.error.code).toBe('BAD_REQUEST');
    }
    const now = Date.now();
    const hostile: unknown[] = [
      fix({ ts: now - 10 }),
      { ...fix({ ts: now - 9 }), lat: 'north' },
      { ...fix({ ts: now - 8 }), lng: -180.5 },
      { ...fix({ ts: now - 7 }), acc: -1 },
      { ...fix({ ts: now - 6 }), battery: 101 },
      { ...fix({ ts: now - 5 }), ts: 1.5 },
      { ...fix({ ts: now - 4 }), extra: true },
      fix({ ts: now - 40 * 86_400_000 }),
      null,
      fix({ ts: now - 10 }),
    ];
    const r = await requestRaw(a.watchSocket, 'location:report', { fixes: hostile });
    expect(r.accepted).toBe(1);
    expect(r.rejected.map((x: { index: number; code: string }) => [x.index, x.code])).toEqual([
      [1, 'BAD_REQUEST'],
      [2, 'BAD_REQUEST'],
      [3, 'BAD_REQUEST'],
      [4, 'BAD_REQUEST'],
      [5, 'BAD_REQUEST'],
      [6, 'BAD_REQUEST'],
      [7, 'BAD_REQUEST'],
      [8, 'BAD_REQUEST'],
      [9, 'CONFLICT'],
    ]);
    // Users cannot report.
    const user = await request(a.parentSocket, 'location:report', fix());
    expect(user.error.code).toBe('FORBIDDEN');
  });

  it('stores late fixes without telling them, and stores a re-sent batch once', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    const now = Date.now();
    const heard = waitFor(a.parentSocket, 'location');
    await request(a.watchSocket, 'location:report', fix({ ts: now }));
    expect((await heard).ts).toBe(now);
    const late = [fix({ ts: now - 3000 }), fix({ ts: now - 2000 })];
    expect((await request(a.watchSocket, 'location:report', { fixes: late })).accepted).toBe(2);
    // Re-sent after a lost ack: accepted again, stored once.
    expect((await request(a.watchSocket, 'location:report', { fixes: late })).accepted).toBe(2);
    await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
    expect(received(a.parentSocket, 'location').map((e) => e.ts)).toEqual([now]);
    const stored = await t.store.fixes.history(a.deviceId, 0, now, undefined, 100);
    expect(stored.map((r) => r.ts)).toEqual([now - 3000, now - 2000, now]);
  });

  it('keeps a watch’s positions in order when its reports are in flight at once', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    const base = Date.now() - 60_000;
    const sent = Array.from({ length: 20 }, (_, i) => fix({ ts: base + i * 1000, lat: 48 + i / 1000 }));
    // Sent back to back, no report waiting for the previous one's ack (the family is told while
    // each batch commits, so the order must come from the hub, not from the acks).
    const acks = await Promise.all(sent.map((f) => request(a.watchSocket, 'location:report', f)));
    expect(acks.map((r) => r.accepted)).toEqual(sent.map(() => 1));
    await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
    const told = received(a.parentSocket, 'location').map((e) => e.ts);
    expect(told.length).toBeGreaterThan(0);
    for (let i = 1; i < told.length; i++) expect(told[i]).toBeGreaterThan(told[i - 1]!);
    expect(told.at(-1)).toBe(sent.at(-1)!.ts);
    const stored = await t.store.fixes.history(a.deviceId, 0, Date.now(), undefined, 100);
    expect(stored.map((r) => r.ts)).toEqual(sent.map((f) => f.ts));
  });

  it('serves the latest position of each sharing watch to members only', async () => {
    const a = await sharingFamily(t);
    const b = await sharingFamily(t);
    const f = fix({ lat: 40.4168, lng: -3.7038 });
    await request(a.watchSocket, 'location:report', f);
    const latest = await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
    expect(latest.positions).toEqual([expect.objectContaining({ deviceId: a.deviceId, ts: f.ts, lat: f.lat })]);
    const viewer = await addMember(t, b.owner, b.familyId, 'viewer');
    const vs = await connect(t, viewer.accessToken);
    for (const [event, payload] of [
      ['location:latest', { familyId: a.familyId }],
      ['location:history', { deviceId: a.deviceId, from: 0, to: Date.now() }],
    ] as const) {
      const r = await request(vs, event, payload);
      expect(r.error.code, event).toBe('FORBIDDEN');
    }
    vs.disconnect();
  });

  it('pages history back exactly as stored, and audits every read', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    const viewer = await addMember(t, a.owner, a.familyId, 'viewer');
    const start = Date.now() - 1_000_000;
    for (let batch = 0; batch < 3; batch++) {
      const fixes = Array.from({ length: 84 }, (_, i) => fix({ ts: start + (batch * 84 + i) * 1000, lat: 10 + i * 1e-3 }));
      expect((await request(a.watchSocket, 'location:report', { fixes })).accepted).toBe(84);
    }
    const vs = await connect(t, viewer.accessToken);
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await request(vs, 'location:history', {
        deviceId: a.deviceId,
        from: start,
        to: start + 251_000,
        limit: 100,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.ok).toBe(true);
      seen.push(...page.fixes.map((f: { ts: number }) => f.ts));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 252 }, (_, i) => start + i * 1000));

    const audit = await t.store.audit.forSubject(a.deviceId);
    expect(audit).toHaveLength(3);
    for (const entry of audit) {
      expect(entry).toMatchObject({ action: 'location.history', actor: { kind: 'user', id: viewer.id }, familyId: a.familyId });
      expect(entry.details).toMatchObject({ from: start, to: start + 251_000 });
    }
    const bad = await request(vs, 'location:history', { deviceId: a.deviceId, from: 0, to: 1, cursor: '!!' });
    expect(bad.error.code).toBe('BAD_REQUEST');
    vs.disconnect();
  });

  it('keeps a watch’s positions from a sibling’s watch', async () => {
    const a = await sharingFamily(t);
    const sibling = await provisionWatch(t);
    await bindWatch(t, a.owner, a.familyId, sibling);
    const siblingSocket = await connect(t, sibling.deviceToken);
    const heard = waitFor(a.parentSocket, 'location');
    await request(a.watchSocket, 'location:report', fix());
    await heard;
    await request(siblingSocket, 'chat:sync', { conversationId: a.familyId, afterSeq: 0 });
    expect(received(siblingSocket, 'location')).toEqual([]);
    siblingSocket.disconnect();
  });

  it('never shows a new family what the watch reported for its previous one', async () => {
    const a = await sharingFamily(t);
    const old = Date.now() - 60_000;
    await request(a.watchSocket, 'location:report', { fixes: [fix({ ts: old }), fix({ ts: old + 1000 })] });
    expect(
      (await api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${a.deviceId}`, { token: a.owner.accessToken })).status,
    ).toBe(204);

    const b = await sharingFamily(t);
    const again = await provisionWatch(t, a.watch.imei);
    expect(
      (
        await api(t, 'POST', `/v1/families/${b.familyId}/devices`, {
          token: b.owner.accessToken,
          body: { bindingCode: again.bindingCode, childName: 'Sam' },
        })
      ).status,
    ).toBe(201);
    await setPermissions(t, b.owner.accessToken, b.familyId, a.deviceId, true);
    const history = await request(b.parentSocket, 'location:history', { deviceId: a.deviceId, from: 0, to: Date.now() });
    expect(history.fixes).toEqual([]);
    const latest = await request(b.parentSocket, 'location:latest', { familyId: b.familyId });
    expect(latest.positions.filter((p: { deviceId: string }) => p.deviceId === a.deviceId)).toEqual([]);
    // What it reports now is the new family's.
    const w = await connect(t, again.deviceToken);
    await request(w, 'location:report', fix({ ts: Date.now() }));
    const after = await request(b.parentSocket, 'location:history', { deviceId: a.deviceId, from: 0, to: Date.now() });
    expect(after.fixes).toHaveLength(1);
    w.disconnect();
  });

  it('lets a guardian make a connected watch report at once', async () => {
    const a = await sharingFamily(t);
    const command = waitFor(a.watchSocket, 'command');
    const sent = await request(a.parentSocket, 'command:send', { deviceId: a.deviceId, type: 'locate' });
    expect(sent.command).toMatchObject({ type: 'locate', status: 'sent', deviceId: a.deviceId });
    const got = await command;
    expect(got).toEqual({ id: sent.command.id, type: 'locate', params: {}, expiresAt: sent.command.expiresAt });
    const heard = waitFor(a.parentSocket, 'location');
    await request(a.watchSocket, 'location:report', fix());
    await heard;

    const viewer = await addMember(t, a.owner, a.familyId, 'viewer');
    const vs = await connect(t, viewer.accessToken);
    expect((await request(vs, 'command:send', { deviceId: a.deviceId, type: 'locate' })).error.code).toBe('FORBIDDEN');
    vs.disconnect();
  });
});
