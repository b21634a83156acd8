// A watch unbound by family A, re-registered and bound by family B: what it did for A (its chat,
// its positions, even positions it buffered offline and uploads only after the new binding)
// never reaches B, and its restarted message counter is not taken for replays of A's messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientSocket,
  type TestHub,
  api,
  connect,
  createFamily,
  provisionWatch,
  received,
  registerUser,
  request,
  startHub,
} from '../helpers/hub.js';
import { fix, sharingFamily } from '../helpers/location.js';
import { pngFile } from '../helpers/media.js';

const perms = (over: Record<string, boolean>) => ({
  location: false,
  camera: false,
  microphone: false,
  contacts: false,
  ...over,
});

describe('a watch re-bound to another family', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_SOCKET_RATE_POINTS: '10000' } });
  });
  afterAll(() => t.close());

  /** A's life with the watch, then B binds it. */
  async function rebound() {
    const a = await sharingFamily(t);
    const put = (token: string, fid: string, body: object) =>
      api(t, 'PUT', `/v1/families/${fid}/devices/${a.deviceId}/permissions`, { token, body });
    expect((await put(a.owner.accessToken, a.familyId, perms({ location: true, camera: true }))).status).toBe(200);
    const inA = {
      text: await request(a.watchSocket, 'chat:send', {
        conversationId: a.familyId,
        clientMsgId: '1',
        kind: 'text',
        text: 'the secret of family A',
      }),
      photo: await request(a.watchSocket, 'chat:send', {
        conversationId: a.familyId,
        clientMsgId: '2',
        kind: 'image',
        media: { data: pngFile(3, 3), mime: 'image/png' },
      }),
    };
    expect(inA.text.ok && inA.photo.ok).toBe(true);
    const aFix = fix({ ts: Date.now(), lat: 10.5 });
    expect((await request(a.watchSocket, 'location:report', aFix)).accepted).toBe(1);
    await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now() });
    expect((await request(a.parentSocket, 'command:send', { deviceId: a.deviceId, type: 'locate' })).ok).toBe(true);
    // Taken while still A's, not uploaded yet (the watch is about to go offline).
    const buffered = [fix({ ts: Date.now() - 20_000, lat: 11.5 }), fix({ ts: Date.now(), lat: 12.5 })];

    expect(
      (await api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${a.deviceId}`, { token: a.owner.accessToken })).status,
    ).toBe(204);
    // Sold on: the new family re-registers and binds it.
    const again = await provisionWatch(t, a.watch.imei);
    const owner = await registerUser(t, 'B owner');
    const familyId = await createFamily(t, owner, 'Family B');
    const bind = await api(t, 'POST', `/v1/families/${familyId}/devices`, {
      token: owner.accessToken,
      body: { bindingCode: again.bindingCode, childName: 'Sam' },
    });
    expect(bind.status).toBe(201);
    const boundAt = bind.body.boundAt as number;
    expect(boundAt).toBeGreaterThan(buffered[1]!.ts);
    expect((await put(owner.accessToken, familyId, perms({ location: true }))).status).toBe(200);
    const parent = await connect(t, owner.accessToken);
    const watch = await connect(t, again.deviceToken);
    const b = { owner, familyId, parent, watch, boundAt };
    return { a, inA, aFix, buffered, b };
  }

  /** Every location event the socket got, after a round trip that orders us behind them. */
  async function heard(s: ClientSocket, familyId: string): Promise<number[]> {
    await request(s, 'location:latest', { familyId });
    return received(s, 'location').map((e: { ts: number }) => e.ts);
  }

  it('never shows B the positions the watch buffered for A and uploads after B bound it', async () => {
    const { a, buffered, b } = await rebound();
    // The watch comes back online and uploads its buffer.
    const r = await request(b.watch, 'location:report', { fixes: buffered });
    expect(r).toMatchObject({ ok: true, accepted: 0 });
    expect(r.rejected).toEqual(
      buffered.map((_, index) => ({ index, code: 'BAD_REQUEST', message: 'ts is before the watch was bound to its family' })),
    );
    expect(await heard(b.parent, b.familyId)).toEqual([]);
    expect(received(a.parentSocket, 'location').map((e: { lat: number }) => e.lat)).not.toContain(11.5);

    // Fixes of that kind already stored (by a hub before this check) stay hidden from B too.
    await t.store.fixes.insertMany(
      buffered.map((f) => ({
        device_id: a.deviceId,
        ts: f.ts,
        lat: f.lat,
        lng: f.lng,
        acc: f.acc,
        alt: null,
        speed: null,
        heading: null,
        battery: f.battery ?? null,
        source: f.source,
        cell: '8a1fb46622dffff',
        received_at: b.boundAt + 1,
      })),
    );
    const history = await request(b.parent, 'location:history', { deviceId: a.deviceId, from: 0, to: Date.now() + 60_000 });
    expect(history.fixes).toEqual([]);
    const latest = await request(b.parent, 'location:latest', { familyId: b.familyId });
    expect(latest.positions).toEqual([]);

    // What it reports now is B's, live, in history and latest.
    const now = fix({ ts: Math.max(Date.now(), b.boundAt), lat: 13.5 });
    expect((await request(b.watch, 'location:report', now)).accepted).toBe(1);
    expect(await heard(b.parent, b.familyId)).toEqual([now.ts]);
    const after = await request(b.parent, 'location:history', { deviceId: a.deviceId, from: 0, to: Date.now() + 60_000 });
    expect(after.fixes.map((f: { ts: number }) => f.ts)).toEqual([now.ts]);
    expect((await request(b.parent, 'location:latest', { familyId: b.familyId })).positions).toEqual([
      expect.objectContaining({ ts: now.ts, lat: 13.5 }),
    ]);
    const exported = await api(t, 'GET', `/v1/families/${b.familyId}/devices/${a.deviceId}/export`, {
      token: b.owner.accessToken,
    });
    expect(exported.body.fixes.map((f: { ts: number }) => f.ts)).toEqual([now.ts]);
  });

  it('stores the watch’s new messages in B although it counts clientMsgIds from 1 again', async () => {
    const { a, inA, b } = await rebound();
    const sent = await request(b.watch, 'chat:send', {
      conversationId: b.familyId,
      clientMsgId: '1',
      kind: 'text',
      text: 'hi B',
    });
    // Not A's message answered as a "replay": a new one, in B's conversation.
    expect(sent.ok).toBe(true);
    expect(sent.message).toMatchObject({ conversationId: b.familyId, seq: 1, text: 'hi B' });
    expect(sent.message.id).not.toBe(inA.text.message.id);
    const synced = await request(b.parent, 'chat:sync', { conversationId: b.familyId, afterSeq: 0 });
    expect(synced.messages.map((m) => ('text' in m ? m.text : undefined))).toEqual(['hi B']);
    // A retry of it is still a replay, answered with B's message.
    const retry = await request(b.watch, 'chat:send', {
      conversationId: b.familyId,
      clientMsgId: '1',
      kind: 'text',
      text: 'hi B',
    });
    expect(retry.message).toEqual(sent.message);
    expect((await request(b.parent, 'chat:sync', { conversationId: b.familyId, afterSeq: 0 })).messages).toHaveLength(1);
    // A's own conversation is as it was.
    const inAConversation = await request(a.parentSocket, 'chat:sync', { conversationId: a.familyId, afterSeq: 0 });
    expect(inAConversation.messages.map((m: { id: string }) => m.id)).toEqual([inA.text.message.id, inA.photo.message.id]);
  });

  it('exports to B only what the watch did for B: none of A’s chat, positions, alerts or commands', async () => {
    const { a, inA, aFix, b } = await rebound();
    const mine = await request(b.watch, 'chat:send', {
      conversationId: b.familyId,
      clientMsgId: '9',
      kind: 'text',
      text: 'for B',
    });
    expect(mine.ok).toBe(true);
    const r = await api(t, 'GET', `/v1/families/${b.familyId}/devices/${a.deviceId}/export`, { token: b.owner.accessToken });
    expect(r.status).toBe(200);
    expect(r.body.messagesSent).toEqual([
      expect.objectContaining({ id: mine.message.id, conversation_id: b.familyId, text: 'for B', media_id: null }),
    ]);
    expect(r.body.fixes).toEqual([]);
    expect(r.body.alerts).toEqual([]);
    expect(r.body.commands).toEqual([]);
    // Nothing anywhere in it names A or carries A's words or media.
    const text = JSON.stringify(r.body);
    for (const leak of [a.familyId, a.owner.id, 'the secret of family A', inA.photo.message.media!.id, String(aFix.ts)]) {
      expect(text).not.toContain(leak);
    }
    // A keeps the right to export what it recorded while the watch was A's, and only that.
    const forA = await api(t, 'GET', `/v1/families/${a.familyId}/devices/${a.deviceId}/export`, { token: a.owner.accessToken });
    expect(forA.status).toBe(200);
    expect(forA.body.fixes.map((f: { ts: number }) => f.ts)).toEqual([aFix.ts]);
    expect(JSON.stringify(forA.body)).not.toContain(b.familyId);
  });
});
