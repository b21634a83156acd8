// GET /v1/media/:id?format=ogg: a watch's AMR-NB voice note as Ogg/Opus for browsers, converted by
// the real ffmpeg, with the download's authorization, cached per node, and refused clearly without
// ffmpeg (HUB_FFMPEG_PATH pointing at nothing) or for media that is not an AMR voice note.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audioConverter } from '../../src/media/audio-convert.js';
import { type TestHub, addMember, api, registerUser, request, startHub } from '../helpers/hub.js';
import { sharingFamily } from '../helpers/location.js';
import { amrFile, pngFile } from '../helpers/media.js';

/** `seconds` of a sine as real AMR-NB, made by ffmpeg (what a watch records). */
function amrSine(seconds: number): Buffer {
  return execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`],
    ...['-ar', '8000', '-ac', '1', '-c:a', 'libopencore_amrnb', '-f', 'amr', 'pipe:1'],
  ]);
}

function sine(seconds: number, ...output: string[]): Buffer {
  return execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=duration=${seconds}`],
    ...output,
    'pipe:1',
  ]);
}

async function download(t: TestHub, url: string, token?: string, headers: Record<string, string> = {}) {
  const res = await fetch(t.url + url, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const body = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(body.toString()) as any) : undefined;
  return { status: res.status, headers: res.headers, body, error: json?.error as { code: string; reason: string } | undefined };
}

/** A family whose watch (microphone on) sent a voice note; returns its media id. */
async function familyWithNote(t: TestHub, data: Buffer, mime = 'audio/amr', durationMs?: number) {
  const f = await sharingFamily(t);
  const perms = { location: true, camera: true, microphone: true, contacts: false };
  expect(
    (
      await api(t, 'PUT', `/v1/families/${f.familyId}/devices/${f.deviceId}/permissions`, {
        token: f.owner.accessToken,
        body: perms,
      })
    ).status,
  ).toBe(200);
  const sent = await request(f.watchSocket, 'chat:send', {
    conversationId: f.familyId,
    clientMsgId: `n-${Math.random()}`,
    kind: mime.startsWith('image/') ? 'image' : 'voice',
    media: { data, mime, ...(durationMs ? { durationMs } : {}) },
  });
  if (!sent.ok) throw new Error(JSON.stringify(sent.error));
  return { ...f, mediaId: sent.message.media!.id, url: sent.message.media!.url };
}

const started = () => audioConverter('ffmpeg').load().started;

describe('GET /v1/media/:id?format=ogg', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_SOCKET_RATE_POINTS: '5000' } });
  });
  afterAll(() => t.close());

  it('gives the family an AMR note as Ogg/Opus, converted once and then served from the cache', async () => {
    const amr = amrSine(2);
    const f = await familyWithNote(t, amr);
    const before = started();
    const first = await download(t, `${f.url}?format=ogg`, f.owner.accessToken);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('audio/ogg');
    expect(first.body.subarray(0, 4).toString('latin1')).toBe('OggS');
    expect(first.body.includes(Buffer.from('OpusHead'))).toBe(true);
    expect(first.headers.get('content-length')).toBe(String(first.body.length));
    expect(first.headers.get('etag')).toBe(`"${f.mediaId}.ogg"`);
    expect(first.headers.get('cache-control')).toBe('private, no-cache'); // revalidated (304 by ETag), so a deleted note stops playing
    // It is the note: decoded back, two seconds of audio (8 kHz 16-bit mono: 16,000 bytes a second).
    const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-ac', '1', '-ar', '8000', '-f', 's16le', 'pipe:1'], {
      input: first.body,
    });
    expect(pcm.length / 16_000).toBeCloseTo(2, 0);
    expect(started()).toBe(before + 1);
    expect(await (await fetch(`${t.url}/metrics`)).text()).toMatch(/hub_audio_conversions\{what="started"\} [1-9]/);

    // Every member and the watch itself; the same bytes, no new conversion.
    const guardian = await addMember(t, f.owner, f.familyId, 'guardian');
    const viewer = await addMember(t, f.owner, f.familyId, 'viewer');
    for (const token of [f.owner.accessToken, guardian.accessToken, viewer.accessToken, f.watch.deviceToken]) {
      const again = await download(t, `${f.url}?format=ogg`, token);
      expect(again.status).toBe(200);
      expect(again.body.equals(first.body)).toBe(true);
    }
    expect(started()).toBe(before + 1);

    // The stored bytes are unchanged, and still served as AMR without the parameter.
    const plain = await download(t, f.url, f.owner.accessToken);
    expect(plain.headers.get('content-type')).toBe('audio/amr');
    expect(plain.body.equals(amr)).toBe(true);
    expect(plain.headers.get('etag')).toBe(`"${f.mediaId}"`);

    // Revalidation and ranges work on the converted bytes.
    const notModified = await download(t, `${f.url}?format=ogg`, f.owner.accessToken, { 'if-none-match': `"${f.mediaId}.ogg"` });
    expect(notModified.status).toBe(304);
    const range = await download(t, `${f.url}?format=ogg`, f.owner.accessToken, { range: 'bytes=0-3' });
    expect(range.status).toBe(206);
    expect(range.body.toString('latin1')).toBe('OggS');
    expect(range.headers.get('content-range')).toBe(`bytes 0-3/${first.body.length}`);
  });

  it('shares one conversion between concurrent reads of a note', async () => {
    const f = await familyWithNote(t, amrSine(3));
    const before = started();
    const all = await Promise.all(Array.from({ length: 6 }, () => download(t, `${f.url}?format=ogg`, f.owner.accessToken)));
    for (const r of all) {
      expect(r.status).toBe(200);
      expect(r.body.equals(all[0]!.body)).toBe(true);
    }
    expect(started()).toBe(before + 1);
  });

  it('refuses another family, a stranger and no token, and converts nothing for them', async () => {
    const f = await familyWithNote(t, amrFile(1));
    const other = await sharingFamily(t);
    const stranger = await registerUser(t, 'Stranger');
    const before = started();
    const otherOwner = await download(t, `${f.url}?format=ogg`, other.owner.accessToken);
    // Another family's media answers as one that does not exist (it cannot be probed).
    expect(otherOwner.status).toBe(404);
    expect(otherOwner.error?.reason).toBe('no_such_media');
    const otherWatch = await download(t, `${f.url}?format=ogg`, other.watch.deviceToken);
    expect(otherWatch.status).toBe(404);
    expect((await download(t, `${f.url}?format=ogg`, stranger.accessToken)).status).toBe(404);
    const anonymous = await download(t, `${f.url}?format=ogg`);
    expect(anonymous.status).toBe(401);
    const unknown = await download(t, `/v1/media/nope?format=ogg`, f.owner.accessToken);
    expect(unknown.status).toBe(404);
    expect(unknown.error?.reason).toBe('no_such_media');
    expect(started()).toBe(before);
  });

  it('sends an Ogg note as it is, and refuses photos and notes browsers play as they are', async () => {
    const ogg = sine(1, '-c:a', 'libopus', '-f', 'ogg');
    const o = await familyWithNote(t, ogg, 'audio/ogg', 1000);
    const before = started();
    const asIs = await download(t, `${o.url}?format=ogg`, o.owner.accessToken);
    expect(asIs.status).toBe(200);
    expect(asIs.headers.get('content-type')).toBe('audio/ogg');
    expect(asIs.body.equals(ogg)).toBe(true);

    const webm = await familyWithNote(t, sine(1, '-c:a', 'libopus', '-f', 'webm'), 'audio/webm', 1000);
    const refusedWebm = await download(t, `${webm.url}?format=ogg`, webm.owner.accessToken);
    expect(refusedWebm.status).toBe(400);
    expect(refusedWebm.error).toMatchObject({ code: 'BAD_REQUEST', reason: 'format_unsupported' });

    const photo = await familyWithNote(t, pngFile(4, 4), 'image/png');
    const refusedPhoto = await download(t, `${photo.url}?format=ogg`, photo.owner.accessToken);
    expect(refusedPhoto.status).toBe(400);
    expect(refusedPhoto.error?.reason).toBe('format_unsupported');
    expect(started()).toBe(before);
  });

  it('validates the format parameter, and ignores others as before', async () => {
    const f = await familyWithNote(t, amrFile(1));
    for (const q of ['format=mp3', 'format=', 'format=OGG', 'format=ogg&format=ogg', 'format=amr-nb']) {
      const r = await download(t, `${f.url}?${q}`, f.owner.accessToken);
      expect(r.status, q).toBe(400);
      expect(r.error?.reason, q).toBe('invalid_input');
    }
    const busted = await download(t, `${f.url}?t=123`, f.owner.accessToken);
    expect(busted.status).toBe(200);
    expect(busted.headers.get('content-type')).toBe('audio/amr');
  });

  it('answers a note ffmpeg cannot decode with 503 audio_conversion_failed, and keeps serving', async () => {
    // A stored file that is AMR only by its header cannot be made through chat:send (the hub
    // checks the frames), so the stored bytes are replaced underneath, as a damaged disk would.
    const f = await familyWithNote(t, amrFile(1));
    await t.store.mediaBlobs.delete([f.mediaId]);
    await t.store.mediaBlobs.put(f.mediaId, Buffer.from('#!AMR\n' + 'x'.repeat(100)));
    const r = await download(t, `${f.url}?format=ogg`, f.owner.accessToken);
    expect(r.status).toBe(503);
    expect(r.error).toMatchObject({ code: 'UNAVAILABLE', reason: 'audio_conversion_failed' });
    const ok = await familyWithNote(t, amrSine(1));
    expect((await download(t, `${ok.url}?format=ogg`, ok.owner.accessToken)).status).toBe(200);
  });

  it('never serves a purged note from the cache', async () => {
    const f = await familyWithNote(t, amrSine(1));
    expect((await download(t, `${f.url}?format=ogg`, f.owner.accessToken)).status).toBe(200);
    await t.store.messages.purgeOlderThan(Date.now() + 86_400_000, 10_000);
    const gone = await download(t, `${f.url}?format=ogg`, f.owner.accessToken);
    expect(gone.status).toBe(404);
    expect(gone.error?.reason).toBe('no_such_media');
  });
});

describe('GET /v1/media/:id?format=ogg without ffmpeg', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_SOCKET_RATE_POINTS: '5000', HUB_FFMPEG_PATH: '/nonexistent/ffmpeg' } });
  });
  afterAll(() => t.close());

  it('answers 503 UNAVAILABLE audio_conversion_unavailable, and the AMR bytes still download', async () => {
    const amr = amrFile(1);
    const f = await familyWithNote(t, amr);
    const r = await download(t, `${f.url}?format=ogg`, f.owner.accessToken);
    expect(r.status).toBe(503);
    expect(r.error).toMatchObject({ code: 'UNAVAILABLE', reason: 'audio_conversion_unavailable' });
    const plain = await download(t, f.url, f.owner.accessToken);
    expect(plain.status).toBe(200);
    expect(plain.body.equals(amr)).toBe(true);
    // Authorization comes first: another family is refused as before, not told about ffmpeg.
    const other = await sharingFamily(t);
    const refused = await download(t, `${f.url}?format=ogg`, other.owner.accessToken);
    expect(refused.error?.reason).toBe('no_such_media');
    // Counted, for operators.
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/hub_audio_conversion_failures\{reason="unavailable"\} [1-9]/);
  });
});
