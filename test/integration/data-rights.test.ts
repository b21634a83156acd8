// The data rights the policy promises (issue 17), against the real hub on both databases:
// deleting a message (its sender or an owner), deleting a watch's history (wholly or a range,
// racing reports in flight), a former family's export of its own period, the owner's audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, freshDatabaseUrl } from '../helpers/databases.js';
import { type TestHub, addMember, api, connect, received, request, startHub, waitFor } from '../helpers/hub.js';
import { sharingFamily } from '../helpers/location.js';
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
      env: { HUB_SOCKET_RATE_POINTS: '10000', HUB_MAX_VOICE_BYTES: '65536' },
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
});
