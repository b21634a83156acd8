// Family chat with real clients: text, voice and photos round-trip, media over HTTP with ranges,
// idempotent sends, gap-free seqs under a race, sync after an absence, read receipts, and the
// hostile cases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientSocket,
  type TestHub,
  addMember,
  api,
  connect,
  received,
  request,
  requestRaw,
  startHub,
  waitFor,
} from '../helpers/hub.js';
import { freshDatabaseUrl } from '../helpers/databases.js';
import { sharingFamily } from '../helpers/location.js';
import { amrFile, jpegFile, pngFile } from '../helpers/media.js';

async function setPerms(t: TestHub, token: string, fid: string, did: string, perms: Partial<Record<string, boolean>>) {
  const body = { location: false, camera: false, microphone: false, contacts: false, ...perms };
  expect((await api(t, 'PUT', `/v1/families/${fid}/devices/${did}/permissions`, { token, body })).status).toBe(200);
}

async function download(t: TestHub, url: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(t.url + url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

let n = 0;
const text = (conversationId: string, body = 'hello') => ({
  conversationId,
  clientMsgId: `m-${++n}`,
  kind: 'text' as const,
  text: body,
});

describe('chat', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_SOCKET_RATE_POINTS: '5000', HUB_MAX_VOICE_BYTES: '65536' } });
  });
  afterAll(() => t.close());

  it('sends text to the family once, however often the sender retries', async () => {
    const a = await sharingFamily(t);
    const fid = a.familyId;
    const req = text(fid, 'Dinner at 7');
    const sent = await requestRaw(a.parentSocket, 'chat:send', req);
    expect(sent.message).toMatchObject({
      conversationId: fid,
      seq: 1,
      sender: { kind: 'user', id: a.owner.id },
      kind: 'text',
      text: 'Dinner at 7',
      ts: expect.any(Number),
    });
    const retry = await requestRaw(a.parentSocket, 'chat:send', req);
    expect(retry.message).toEqual(sent.message);
    // The watch got it once: a round trip on its socket orders us after any second emit.
    await request(a.watchSocket, 'chat:sync', { conversationId: fid, afterSeq: 0 });
    expect(received(a.watchSocket, 'chat:message').map((e) => e.message.id)).toEqual([sent.message.id]);
    expect((await requestRaw(a.parentSocket, 'chat:send', text(fid))).message.seq).toBe(2);
  });

  it('round-trips a watch’s voice note (AMR) and an app’s photo through GET /v1/media/:id', async () => {
    const a = await sharingFamily(t);
    const fid = a.familyId;
    await setPerms(t, a.owner.accessToken, fid, a.deviceId, { microphone: true });
    const voice = amrFile(2);
    const heard = waitFor(a.parentSocket, 'chat:message');
    const sent = await request(a.watchSocket, 'chat:send', {
      conversationId: fid,
      clientMsgId: 'v1',
      kind: 'voice',
      media: { data: voice, mime: 'audio/amr' },
    });
    expect(sent.ok).toBe(true);
    expect(sent.message.media).toMatchObject({ mime: 'audio/amr', bytes: voice.length, durationMs: 2000 });
    expect((await heard).message.id).toBe(sent.message.id);

    const got = await download(t, sent.message.media!.url, a.owner.accessToken);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('audio/amr');
    expect(got.headers.get('content-length')).toBe(String(voice.length));
    expect(got.headers.get('cache-control')).toMatch(/private/);
    expect(got.body.equals(voice)).toBe(true);

    const part = await download(t, sent.message.media!.url, a.owner.accessToken, { range: 'bytes=6-15' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 6-15/${voice.length}`);
    expect(part.body.equals(voice.subarray(6, 16))).toBe(true);
    const tail = await download(t, sent.message.media!.url, a.owner.accessToken, { range: 'bytes=-5' });
    expect(tail.body.equals(voice.subarray(voice.length - 5))).toBe(true);
    expect((await download(t, sent.message.media!.url, a.owner.accessToken, { range: 'bytes=99999999-' })).status).toBe(416);
    const etag = got.headers.get('etag')!;
    expect((await download(t, sent.message.media!.url, a.owner.accessToken, { 'if-none-match': etag })).status).toBe(304);
    // The watch downloads the family's media too.
    expect((await download(t, sent.message.media!.url, a.watch.deviceToken)).status).toBe(200);

    for (const [mime, data] of [
      ['image/png', pngFile(4, 3)],
      ['image/jpeg', jpegFile()],
    ] as const) {
      const photo = await request(a.parentSocket, 'chat:send', {
        conversationId: fid,
        clientMsgId: mime,
        kind: 'image',
        media: { data, mime },
      });
      expect(photo.message.media).toMatchObject({ mime, bytes: data.length });
      const back = await download(t, photo.message.media!.url, a.owner.accessToken);
      expect(back.headers.get('content-type')).toBe(mime);
      expect(back.body.equals(data)).toBe(true);
    }

    const stranger = await sharingFamily(t);
    // Another family's media answers exactly as a missing one: ids cannot be probed.
    const denied = await download(t, sent.message.media!.url, stranger.owner.accessToken);
    expect(denied.status).toBe(404);
    expect((await download(t, sent.message.media!.url, stranger.watch.deviceToken)).status).toBe(404);
    const missing = await download(t, '/v1/media/nope', a.owner.accessToken);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString())).toEqual(JSON.parse(denied.body.toString()));
  });

  it('refuses oversize and disguised media, silent microphones and cameras, viewers and strangers', async () => {
    const a = await sharingFamily(t);
    const fid = a.familyId;
    const send = (s: ClientSocket, body: object) =>
      requestRaw(s, 'chat:send', { conversationId: fid, clientMsgId: `x-${++n}`, ...body });
    // Microphone and camera are off: the watch may not send voice or photos.
    expect((await send(a.watchSocket, { kind: 'voice', media: { data: amrFile(1), mime: 'audio/amr' } })).error.code).toBe(
      'CONSENT_REQUIRED',
    );
    expect((await send(a.watchSocket, { kind: 'image', media: { data: pngFile(), mime: 'image/png' } })).error.code).toBe(
      'CONSENT_REQUIRED',
    );
    await setPerms(t, a.owner.accessToken, fid, a.deviceId, { microphone: true });
    // Over HUB_MAX_VOICE_BYTES (64 KiB here): TOO_LARGE, and the socket stays.
    const big = await send(a.watchSocket, { kind: 'voice', media: { data: amrFile(45), mime: 'audio/amr' } });
    expect(big.error.code).toBe('TOO_LARGE');
    expect(a.watchSocket.connected).toBe(true);
    // Declared one thing, is another.
    expect((await send(a.parentSocket, { kind: 'image', media: { data: pngFile(), mime: 'image/jpeg' } })).error.code).toBe(
      'BAD_REQUEST',
    );
    expect(
      (
        await send(a.parentSocket, {
          kind: 'voice',
          media: { data: Buffer.from('not audio at all'), mime: 'audio/ogg', durationMs: 1000 },
        })
      ).error.code,
    ).toBe('BAD_REQUEST');
    expect((await send(a.parentSocket, { kind: 'image', media: { data: 'aGVsbG8=', mime: 'image/png' } })).error.code).toBe(
      'BAD_REQUEST',
    );
    expect((await send(a.parentSocket, { kind: 'text', text: 'x'.repeat(t.config.chat.maxTextChars + 1) })).error.code).toBe(
      'TOO_LARGE',
    );
    expect((await send(a.parentSocket, { kind: 'text' })).error.code).toBe('BAD_REQUEST');

    const viewer = await addMember(t, a.owner, fid, 'viewer');
    const vs = await connect(t, viewer.accessToken);
    expect((await send(vs, { kind: 'text', text: 'hi' })).error.code).toBe('FORBIDDEN');
    // Viewers still read.
    expect((await request(vs, 'chat:sync', { conversationId: fid, afterSeq: 0 })).ok).toBe(true);
    const b = await sharingFamily(t);
    expect((await requestRaw(b.parentSocket, 'chat:send', text(fid))).error.code).toBe('FORBIDDEN');
    expect((await request(b.parentSocket, 'chat:sync', { conversationId: fid, afterSeq: 0 })).error.code).toBe('FORBIDDEN');
    vs.disconnect();
  });

  it('gives a client back exactly what it missed while away', async () => {
    const a = await sharingFamily(t);
    const fid = a.familyId;
    const guardian = await addMember(t, a.owner, fid, 'guardian');
    let gs = await connect(t, guardian.accessToken);
    await requestRaw(a.parentSocket, 'chat:send', text(fid, 'before'));
    const seen = await waitFor(gs, 'chat:message', () => true, { past: true });
    gs.disconnect();
    const sentWhileAway: number[] = [];
    for (let i = 0; i < 50; i++)
      sentWhileAway.push((await requestRaw(a.parentSocket, 'chat:send', text(fid, `while away ${i}`))).message.seq);
    gs = await connect(t, guardian.accessToken);
    const got: number[] = [];
    let after = seen.message.seq as number;
    let pages = 0;
    for (;;) {
      const page = await request(gs, 'chat:sync', { conversationId: fid, afterSeq: after, limit: 20 });
      got.push(...page.messages.map((m: { seq: number }) => m.seq));
      pages++;
      if (!page.hasMore) break;
      after = got[got.length - 1]!;
    }
    expect(got).toEqual(sentWhileAway);
    expect(pages).toBe(3);

    const readHeard = waitFor(a.parentSocket, 'chat:read', (e) => e.by.id === guardian.id);
    expect((await request(gs, 'chat:read', { conversationId: fid, seq: 30 })).seq).toBe(30);
    expect(await readHeard).toMatchObject({ conversationId: fid, seq: 30, by: { kind: 'user', id: guardian.id } });
    // A read position never goes back, and cannot pass the last message.
    expect((await request(gs, 'chat:read', { conversationId: fid, seq: 10 })).seq).toBe(30);
    expect((await request(gs, 'chat:read', { conversationId: fid, seq: 10_000 })).error.code).toBe('BAD_REQUEST');
    gs.disconnect();
  });
});

describe.each(['sqlite', 'postgres'] as const)('seq under racing senders (%s)', (kind) => {
  let t: TestHub;
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const db = await freshDatabaseUrl(kind);
    drop = db.drop;
    t = await startHub({ databaseUrl: db.url, env: { HUB_SOCKET_RATE_POINTS: '100000' } });
  });
  afterAll(async () => {
    await t.close();
    await drop();
  });

  it('gives 1,000 messages from two senders seqs 1..1000 with no gap or duplicate', async () => {
    const a = await sharingFamily(t);
    const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
    const gs = await connect(t, guardian.accessToken);
    const senders = [a.parentSocket, gs];
    const sends = Array.from({ length: 1000 }, (_, i) => requestRaw(senders[i % 2]!, 'chat:send', text(a.familyId, `race ${i}`)));
    const seqs = (await Promise.all(sends)).map((r) => r.message.seq as number).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    gs.disconnect();
  });
});
