// The data rights the policy promises (issue 17), against the real hub on both databases:
// deleting a message (its sender or an owner), deleting a watch's history (wholly or a range,
// racing reports in flight), a former family's export of its own period, the owner's audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, freshDatabaseUrl } from '../helpers/databases.js';
import {
  type TestHub,
  addMember,
  api,
  connect,
  createFamily,
  provisionWatch,
  received,
  registerUser,
  request,
  startHub,
  waitFor,
} from '../helpers/hub.js';
import { BOUND_A_WEEK_AGO, fix, sharingFamily } from '../helpers/location.js';
import { amrFile } from '../helpers/media.js';

let n = 0;
const text = (conversationId: string, body = 'hello') => ({
  conversationId,
  clientMsgId: `dr-${++n}`,
  kind: 'text' as const,
  text: body,
});

async function setPerms(t: TestHub, token: string, fid: string, did: string, perms: Partial<Record<string, boolean>>) {
  const body = { location: false, camera: false, microphone: false, contacts: false, ...perms };
  expect((await api(t, 'PUT', `/v1/families/${fid}/devices/${did}/permissions`, { token, body })).status).toBe(200);
}

describe.each(STORE_KINDS)('data rights on %s', (kind) => {
  let t: TestHub;
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const db = kind === 'postgres' ? await freshDatabaseUrl('postgres') : undefined;
    if (db) drop = db.drop;
    t = await startHub({
      ...(db ? { databaseUrl: db.url } : {}),
      // A slow group commit keeps reports in flight long enough to race a deletion.
      env: { HUB_SOCKET_RATE_POINTS: '10000', HUB_MAX_VOICE_BYTES: '65536', HUB_FIX_BATCH_MAX_DELAY_MS: '60' },
    });
  });
  afterAll(async () => {
    await t.close();
    await drop();
  });

  describe('deleting a message', () => {
    it('lets its sender or an owner delete it: content and media go, the seq slot stays, the room is told', async () => {
      const a = await sharingFamily(t);
      const fid = a.familyId;
      await setPerms(t, a.owner.accessToken, fid, a.deviceId, { location: true, microphone: true });
      const guardian = await addMember(t, a.owner, fid, 'guardian');
      const gSocket = await connect(t, guardian.accessToken);
      const mine = await request(gSocket, 'chat:send', text(fid, 'secret plan'));
      const voice = await request(a.watchSocket, 'chat:send', {
        conversationId: fid,
        clientMsgId: 'dr-voice',
        kind: 'voice',
        media: { data: amrFile(1), mime: 'audio/amr' },
      });
      expect(voice.ok).toBe(true);
      const mediaId = voice.message.media!.id;
      const after = await request(a.parentSocket, 'chat:send', text(fid, 'see you'));

      // The guardian deletes their own message; everyone in the room is told.
      const told = waitFor(a.parentSocket, 'chat:deleted', (e) => e.id === mine.message.id);
      const del = await api(t, 'DELETE', `/v1/families/${fid}/messages/${mine.message.id}`, { token: guardian.accessToken });
      expect(del.status).toBe(204);
      expect(await told).toEqual({ conversationId: fid, id: mine.message.id });

      // The owner deletes the watch's voice note: the media record and its bytes go too.
      const ownerDel = await api(t, 'DELETE', `/v1/families/${fid}/messages/${voice.message.id}`, {
        token: a.owner.accessToken,
      });
      expect(ownerDel.status).toBe(204);
      expect(await t.store.messages.mediaById(mediaId)).toBeUndefined();
      expect(await t.store.mediaBlobs.get(mediaId)).toBeUndefined();
      const download = await fetch(`${t.url}/v1/media/${mediaId}`, {
        headers: { authorization: `Bearer ${a.owner.accessToken}` },
      });
      expect(download.status).toBe(404);

      // chat:sync keeps both slots, with nothing of their content.
      const synced = await request(a.watchSocket, 'chat:sync', { conversationId: fid, afterSeq: 0 });
      expect(synced.messages).toEqual([
        { id: mine.message.id, conversationId: fid, seq: mine.message.seq, deleted: true },
        { id: voice.message.id, conversationId: fid, seq: voice.message.seq, deleted: true },
        after.message,
      ]);
      const row = await t.store.messages.find(fid, mine.message.id);
      expect(row).toMatchObject({ text: null, media_id: null });
      expect(row?.deleted_at).toEqual(expect.any(Number));

      // Deleting again answers the same and tells no one; the next message takes the next seq.
      const again = await api(t, 'DELETE', `/v1/families/${fid}/messages/${mine.message.id}`, { token: guardian.accessToken });
      expect(again.status).toBe(204);
      const next = await request(a.parentSocket, 'chat:send', text(fid));
      expect(next.message.seq).toBe(after.message.seq + 1);
      expect(received(a.parentSocket, 'chat:deleted').filter((e) => e.id === mine.message.id)).toHaveLength(1);

      // A retry of a deleted send does not bring it back.
      const retry = await request(gSocket, 'chat:send', {
        conversationId: fid,
        clientMsgId: 'dr-retry',
        kind: 'text',
        text: 'x',
      });
      await api(t, 'DELETE', `/v1/families/${fid}/messages/${retry.message.id}`, { token: guardian.accessToken });
      const retried = await request(gSocket, 'chat:send', {
        conversationId: fid,
        clientMsgId: 'dr-retry',
        kind: 'text',
        text: 'x',
      });
      expect(retried.ok).toBe(false);
      expect(retried.error).toMatchObject({ code: 'CONFLICT', reason: 'message_deleted' });

      // The watch's export no longer carries the deleted voice note.
      const exported = await api(t, 'GET', `/v1/families/${fid}/devices/${a.deviceId}/export`, { token: a.owner.accessToken });
      expect(exported.status).toBe(200);
      expect(exported.body.messagesSent).toEqual([]);
      // Both deletions are in the audit.
      const audit = await t.store.audit.forSubject(guardian.id);
      expect(audit.map((e) => e.action)).toContain('message.delete');
    });

    it('refuses others’ messages to guardians and viewers, and answers another family’s ids like missing ones', async () => {
      const a = await sharingFamily(t);
      const fid = a.familyId;
      const guardian = await addMember(t, a.owner, fid, 'guardian');
      const viewer = await addMember(t, a.owner, fid, 'viewer');
      const ownerMsg = await request(a.parentSocket, 'chat:send', text(fid, 'owner says'));
      const path = `/v1/families/${fid}/messages/${ownerMsg.message.id}`;
      for (const who of [guardian, viewer]) {
        const r = await api(t, 'DELETE', path, { token: who.accessToken });
        expect(r.status).toBe(403);
        expect(r.body.error.reason).toBe('not_your_message');
      }
      // The watch cannot delete the owner's message either.
      const byWatch = await api(t, 'DELETE', path, { token: a.watch.deviceToken });
      expect(byWatch.status).toBe(403);

      const b = await sharingFamily(t);
      // Their own family id with our message id: no such message there.
      const foreign = await api(t, 'DELETE', `/v1/families/${b.familyId}/messages/${ownerMsg.message.id}`, {
        token: b.owner.accessToken,
      });
      expect(foreign.status).toBe(404);
      expect(foreign.body.error.reason).toBe('no_such_message');
      // Our family id: not theirs.
      const intoOurs = await api(t, 'DELETE', path, { token: b.owner.accessToken });
      expect(intoOurs.status).toBe(403);
      expect(intoOurs.body.error.reason).toBe('not_member');
      const missing = await api(t, 'DELETE', `/v1/families/${fid}/messages/no-such-id`, { token: a.owner.accessToken });
      expect(missing.status).toBe(404);
      expect(missing.body.error.reason).toBe('no_such_message');

      const synced = await request(a.parentSocket, 'chat:sync', { conversationId: fid, afterSeq: 0 });
      expect(synced.messages).toEqual([ownerMsg.message]);
    });
  });

  describe('deleting a watch’s history', () => {
    const H = 3_600_000;

    it('deletes a range, then everything, with the cells, alert positions and newest position that reveal it', async () => {
      const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
      const now = Date.now();
      const ts = [5, 4, 3, 2, 1].map((h) => now - h * H);
      const fixes = ts.map((at, i) =>
        fix({ ts: at, lat: 48.85 + i / 1000, ...(i === 2 ? { cells: [{ mcc: 208, mnc: 1, lac: 7, cid: 42 }] } : {}) }),
      );
      const sent = await request(a.watchSocket, 'location:report', { fixes });
      expect(sent).toMatchObject({ ok: true, accepted: 5 });
      const sos = await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: ts[2]!, lat: 48.9, lng: 2.3 });
      expect(sos.ok).toBe(true);
      const alertId = (await t.store.alerts.listByFamily(a.familyId, 10))[0]!.id;

      const path = `/v1/families/${a.familyId}/devices/${a.deviceId}/history`;
      const ranged = await api(t, 'DELETE', path, {
        token: a.owner.accessToken,
        body: { from: now - 3.5 * H, to: now - 1.5 * H },
      });
      expect(ranged.status).toBe(200);
      expect(ranged.body).toEqual({ deleted: 2 });
      const history = await request(a.parentSocket, 'location:history', { deviceId: a.deviceId, from: 0, to: now + H });
      expect(history.fixes.map((f) => f.ts)).toEqual([ts[0], ts[1], ts[4]]);
      expect(await t.store.fixObservations.between(a.deviceId, 0, now + H, 100)).toEqual([]);
      expect(await t.store.alerts.find(alertId)).toMatchObject({ type: 'sos', ts: ts[2], lat: null, lng: null });
      // The newest position is outside the range: it stays.
      const latest = await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
      expect(latest.positions.map((p) => p.ts)).toEqual([ts[4]]);

      // A fix from the deleted range uploaded late is refused; one from outside it is kept.
      const late = await request(a.watchSocket, 'location:report', {
        fixes: [fix({ ts: now - 2.5 * H }), fix({ ts: now - 0.5 * H })],
      });
      expect(late).toMatchObject({ accepted: 1, rejected: [{ index: 0, code: 'BAD_REQUEST' }] });

      // Everything (no range, the range in the query string works too: here, none).
      const all = await api(t, 'DELETE', path, { token: a.owner.accessToken });
      expect(all.status).toBe(200);
      expect(all.body).toEqual({ deleted: 4 });
      const empty = await request(a.parentSocket, 'location:history', { deviceId: a.deviceId, from: 0, to: now + H });
      expect(empty.fixes).toEqual([]);
      const none = await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
      expect(none.positions).toEqual([]);
      // What the watch reports afterwards is kept and told as usual.
      const told = waitFor(a.parentSocket, 'location', (e) => e.deviceId === a.deviceId);
      expect(await request(a.watchSocket, 'location:report', fix({ ts: Date.now() }))).toMatchObject({ accepted: 1 });
      await told;
      const audit = await t.store.audit.forSubject(a.deviceId);
      expect(audit.filter((e) => e.action === 'history.delete').map((e) => e.details)).toEqual([
        expect.objectContaining({ from: now - 3.5 * H, to: now - 1.5 * H, fixes: 2, alertPositions: 1 }),
        expect.objectContaining({ from: null, to: null, fixes: 4 }),
      ]);
    });

    it('takes the range from the query string too, and refuses guardians, other families and bad ranges', async () => {
      const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
      const now = Date.now();
      await request(a.watchSocket, 'location:report', { fixes: [fix({ ts: now - 2 * H }), fix({ ts: now - H })] });
      const path = `/v1/families/${a.familyId}/devices/${a.deviceId}/history`;
      const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
      const byGuardian = await api(t, 'DELETE', path, { token: guardian.accessToken });
      expect(byGuardian.status).toBe(403);
      expect(byGuardian.body.error.reason).toBe('role_required');
      const b = await sharingFamily(t);
      const theirs = await api(t, 'DELETE', `/v1/families/${b.familyId}/devices/${a.deviceId}/history`, {
        token: b.owner.accessToken,
      });
      expect(theirs.status).toBe(404);
      expect(theirs.body.error.reason).toBe('no_such_watch');
      const ours = await api(t, 'DELETE', path, { token: b.owner.accessToken });
      expect(ours.status).toBe(403);
      expect(ours.body.error.reason).toBe('not_member');
      const byWatch = await api(t, 'DELETE', path, { token: a.watch.deviceToken });
      expect(byWatch.status).toBe(403);
      const backwards = await api(t, 'DELETE', path, { token: a.owner.accessToken, body: { from: now, to: now - H } });
      expect(backwards.status).toBe(400);
      const junk = await api(t, 'DELETE', path, { token: a.owner.accessToken, body: { from: 'yesterday' } });
      expect(junk.status).toBe(400);
      const extra = await api(t, 'DELETE', path, { token: a.owner.accessToken, body: { from: 0, everything: true } });
      expect(extra.status).toBe(400);
      // Nothing was deleted by any of them.
      const kept = await request(a.parentSocket, 'location:history', { deviceId: a.deviceId, from: 0, to: now });
      expect(kept.fixes).toHaveLength(2);
      const q = await api(t, 'DELETE', `${path}?from=${now - 1.5 * H}`, { token: a.owner.accessToken });
      expect(q.body).toEqual({ deleted: 1 });
    });

    it('leaves no deleted fix stored, cached or told again when a report is in flight during the deletion', async () => {
      for (let round = 0; round < 6; round++) {
        const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
        const inFlight = fix({ ts: Date.now() - 1000 });
        const report = request(a.watchSocket, 'location:report', inFlight);
        const deletion = api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${a.deviceId}/history`, {
          token: a.owner.accessToken,
        });
        const [answer, deleted] = await Promise.all([report, deletion]);
        expect(deleted.status).toBe(200);
        expect(answer.ok).toBe(true);
        // Not stored, not the newest position.
        expect(await t.store.fixes.history(a.deviceId, 0, Date.now() + 60_000, undefined, 10)).toEqual([]);
        const latest = await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
        expect(latest.positions).toEqual([]);
        // The watch, unsure of its ack, sends it again: refused, not told again.
        const again = await request(a.watchSocket, 'location:report', inFlight);
        expect(again).toMatchObject({ accepted: 0, rejected: [{ index: 0, code: 'BAD_REQUEST' }] });
        await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
        expect(received(a.parentSocket, 'location').filter((e) => e.ts === inFlight.ts).length).toBeLessThanOrEqual(1);
        expect(await t.store.fixes.history(a.deviceId, 0, Date.now() + 60_000, undefined, 10)).toEqual([]);
      }
    });
  });

  describe('a former family', () => {
    it('exports what the watch recorded while it was theirs, and only that; the new family only its own', async () => {
      const a = await sharingFamily(t);
      const aFix = fix({ ts: Date.now(), lat: 10.5 });
      expect((await request(a.watchSocket, 'location:report', aFix)).accepted).toBe(1);
      const aText = await request(a.watchSocket, 'chat:send', text(a.familyId, 'for family A'));
      const unbind = await api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${a.deviceId}`, { token: a.owner.accessToken });
      expect(unbind.status).toBe(204);

      const again = await provisionWatch(t, a.watch.imei);
      const bOwner = await registerUser(t, 'B owner');
      const bFamily = await createFamily(t, bOwner, 'Family B');
      const bind = await api(t, 'POST', `/v1/families/${bFamily}/devices`, {
        token: bOwner.accessToken,
        body: { bindingCode: again.bindingCode, childName: 'Sam' },
      });
      expect(bind.status).toBe(201);
      await setPerms(t, bOwner.accessToken, bFamily, a.deviceId, { location: true });
      const bWatch = await connect(t, again.deviceToken);
      const bFix = fix({ ts: Date.now() + 1, lat: 20.5 });
      expect((await request(bWatch, 'location:report', bFix)).accepted).toBe(1);
      const bText = await request(bWatch, 'chat:send', text(bFamily, 'for family B'));

      const path = (fid: string) => `/v1/families/${fid}/devices/${a.deviceId}/export`;
      const forA = await api(t, 'GET', path(a.familyId), { token: a.owner.accessToken });
      expect(forA.status).toBe(200);
      expect(forA.body.watch).toMatchObject({ id: a.deviceId, childName: 'Mia', boundAt: null, permissions: null });
      expect(forA.body.bindings).toEqual([{ boundAt: expect.any(Number), unboundAt: expect.any(Number), childName: 'Mia' }]);
      expect(forA.body.fixes.map((f: { lat: number }) => f.lat)).toEqual([10.5]);
      expect(forA.body.messagesSent.map((m: { id: string }) => m.id)).toEqual([aText.message.id]);

      const forB = await api(t, 'GET', path(bFamily), { token: bOwner.accessToken });
      expect(forB.status).toBe(200);
      expect(forB.body.watch).toMatchObject({ childName: 'Sam', permissions: expect.objectContaining({ location: true }) });
      expect(forB.body.fixes.map((f: { lat: number }) => f.lat)).toEqual([20.5]);
      expect(forB.body.messagesSent.map((m: { id: string }) => m.id)).toEqual([bText.message.id]);

      // Hostile: a family that never had the watch, another family's period, a guardian of A.
      const c = await sharingFamily(t);
      const never = await api(t, 'GET', path(c.familyId), { token: c.owner.accessToken });
      expect(never.status).toBe(404);
      expect(never.body.error.reason).toBe('no_such_watch');
      const intoA = await api(t, 'GET', path(a.familyId), { token: bOwner.accessToken });
      expect(intoA.status).toBe(403);
      const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
      expect((await api(t, 'GET', path(a.familyId), { token: guardian.accessToken })).status).toBe(403);
      // A cannot read the watch's live data any more: only its export and its deletion remain.
      const history = await request(a.parentSocket, 'location:history', { deviceId: a.deviceId, from: 0, to: Date.now() + 10 });
      expect(history.ok).toBe(false);

      // A deletes what it recorded: B's fixes stay.
      const del = await api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${a.deviceId}/history`, {
        token: a.owner.accessToken,
      });
      expect(del.body).toEqual({ deleted: 1 });
      const forBAfter = await api(t, 'GET', path(bFamily), { token: bOwner.accessToken });
      expect(forBAfter.body.fixes.map((f: { lat: number }) => f.lat)).toEqual([20.5]);
      const forAAfter = await api(t, 'GET', path(a.familyId), { token: a.owner.accessToken });
      expect(forAAfter.body.fixes).toEqual([]);
      // Each export is audited, with the periods it covered.
      const audit = await t.store.audit.forSubject(a.deviceId);
      expect(audit.filter((e) => e.action === 'export.device' && e.familyId === a.familyId)).toHaveLength(2);
    });
  });

  describe('the audit', () => {
    it('records every read of a child’s data, and owners page through it, newest first', async () => {
      const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
      const fid = a.familyId;
      await setPerms(t, a.owner.accessToken, fid, a.deviceId, { location: true, microphone: true });
      const guardian = await addMember(t, a.owner, fid, 'guardian');
      const viewer = await addMember(t, a.owner, fid, 'viewer');
      const vSocket = await connect(t, viewer.accessToken);
      const gSocket = await connect(t, guardian.accessToken);
      const now = Date.now();
      expect((await request(a.watchSocket, 'location:report', fix({ ts: now - 1000 }))).accepted).toBe(1);
      const voice = await request(a.watchSocket, 'chat:send', {
        conversationId: fid,
        clientMsgId: 'audit-voice',
        kind: 'voice',
        media: { data: amrFile(1), mime: 'audio/amr' },
      });
      const mediaUrl = `${t.url}/v1/media/${voice.message.media!.id}`;

      // The reads: newest positions, history, a media download in two ranges, an export.
      expect((await request(vSocket, 'location:latest', { familyId: fid })).positions).toHaveLength(1);
      await request(gSocket, 'location:history', { deviceId: a.deviceId, from: 0, to: now });
      for (const range of ['bytes=0-9', 'bytes=10-']) {
        const r = await fetch(mediaUrl, { headers: { authorization: `Bearer ${viewer.accessToken}`, range } });
        expect(r.status).toBe(206);
        await r.arrayBuffer();
      }
      const exported = await api(t, 'GET', `/v1/families/${fid}/devices/${a.deviceId}/export`, { token: a.owner.accessToken });
      expect(exported.status).toBe(200);
      // Alerts carry where the child was: a list with one is a read of the watch's position.
      await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now(), lat: 48.85, lng: 2.35 });
      const listed = await api(t, 'GET', `/v1/families/${fid}/alerts`, { token: guardian.accessToken });
      expect(listed.body.alerts.filter((x: { lat?: number }) => x.lat !== undefined)).toHaveLength(1);

      // Paged two at a time, newest first, until the end.
      const entries: {
        at: number;
        action: string;
        actor: { kind: string; id: string; nickname?: string };
        subject: unknown;
        details?: unknown;
      }[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
        const page = await api(t, 'GET', `/v1/families/${fid}/audit${q}`, { token: a.owner.accessToken });
        expect(page.status).toBe(200);
        expect(page.body.entries.length).toBeLessThanOrEqual(2);
        entries.push(...page.body.entries);
        cursor = page.body.nextCursor;
      } while (cursor);
      const alertRead = entries.shift();
      expect(alertRead).toMatchObject({ action: 'alert.list', actor: { kind: 'user', id: guardian.id }, details: { alerts: 1 } });
      expect(entries.map((e) => e.action)).toEqual(['export.device', 'media.download', 'location.history', 'location.latest']);
      const ats = entries.map((e) => e.at);
      expect([...ats].sort((x, y) => y - x)).toEqual(ats);
      const watch = { kind: 'device', id: a.deviceId };
      expect(alertRead).toMatchObject({ subject: watch });
      expect(entries[1]).toMatchObject({ actor: { kind: 'user', id: viewer.id, nickname: 'viewer' }, subject: watch });
      expect(entries[2]).toMatchObject({ actor: { kind: 'user', id: guardian.id }, subject: watch });
      expect(entries[3]).toMatchObject({ actor: { kind: 'user', id: viewer.id }, subject: watch });

      // Only owners read it; other families' owners are strangers; cursors are the hub's own.
      for (const who of [guardian, viewer]) {
        const r = await api(t, 'GET', `/v1/families/${fid}/audit`, { token: who.accessToken });
        expect(r.status).toBe(403);
        expect(r.body.error.reason).toBe('role_required');
      }
      const b = await sharingFamily(t);
      const stranger = await api(t, 'GET', `/v1/families/${fid}/audit`, { token: b.owner.accessToken });
      expect(stranger.status).toBe(403);
      expect(stranger.body.error.reason).toBe('not_member');
      expect(
        JSON.stringify((await api(t, 'GET', `/v1/families/${b.familyId}/audit`, { token: b.owner.accessToken })).body),
      ).not.toContain(a.deviceId);
      const forged = await api(t, 'GET', `/v1/families/${fid}/audit?cursor=${Buffer.from('x').toString('base64url')}`, {
        token: a.owner.accessToken,
      });
      expect(forged.status).toBe(400);
      expect(forged.body.error.reason).toBe('bad_cursor');
      expect((await api(t, 'GET', `/v1/families/${fid}/audit?limit=0`, { token: a.owner.accessToken })).status).toBe(400);
    });

    it('records who opened a live position stream (ops), on which cells', async () => {
      const ops = await registerUser(t, 'Operator');
      const s = await connect(t, t.hub.services.tokens.signUser(ops.id, 0, ['ops']));
      const cells = ['871fb4662ffffff'];
      expect((await request(s, 'area:subscribe', { cells, mode: 'positions' })).ok).toBe(true);
      const entries = await t.store.privacy.auditByActor(ops.id);
      expect(entries.map((e) => [e.action, JSON.parse(e.details)])).toEqual([['area.positions', { cells }]]);
    });
  });
});
