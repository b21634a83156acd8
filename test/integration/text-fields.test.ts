// Free text in every HTTP body, path and socket payload, on PostgreSQL and on SQLite: U+0000
// (PostgreSQL's text cannot hold it: the query failed, a 500) and unpaired surrogates (SQLite
// silently stored U+FFFD instead) are refused with BAD_REQUEST naming the field; names must show
// something (a nickname of zero-width characters made a member invisible).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientSocket,
  type TestHub,
  type TestUser,
  PROVISIONING_KEY,
  api,
  connect,
  createFamily,
  familyWithWatch,
  provisionWatch,
  randomImei,
  registerUser,
  request,
  requestRaw,
  startHub,
} from '../helpers/hub.js';
import { freshDatabaseUrl, type FreshDatabase } from '../helpers/databases.js';

const NUL = 'Pat\u0000rick';
const LONE_HIGH = 'Pat\ud800';
const LONE_LOW = '\udc00Pat';
const UNSTORABLE = [NUL, LONE_HIGH, LONE_LOW];

/** Strings that show nothing, each trimmed or not. */
const INVISIBLE = [
  '\u200b\u200c\u200d', // zero-width space, non-joiner, joiner
  '\u2060\ufeff', // word joiner, BOM
  ' \u200b ', // trimmed to a zero-width space
  '\u3000\u00a0\u2007', // ideographic, no-break and figure spaces
  '\u0301\u0308', // combining marks with nothing to combine with
  '\u202e\u202d', // bidi overrides
  '\u3164\u115f', // Hangul fillers
  '\u{e0041}\u{e0042}', // tag characters
  '\u00ad\u034f', // soft hyphen, combining grapheme joiner
  '\u2800', // blank braille pattern
  '\u0007\u001b', // controls
];
/** Names that do show something, and are kept exactly as sent (trimmed). */
const VISIBLE = ['Zoë', '李小龍', '👩‍👧', 'e\u0301', 'Ana\u200dMaria'];

/** Many registrations and events from one address in a few seconds. */
const RELAXED = { HUB_SOCKET_RATE_POINTS: '10000', HUB_HTTP_AUTH_RATE_PER_MIN: '10000' };

const expectBadRequest = (r: { status: number; body: { error?: { code: string; message: string } } }, field: RegExp) => {
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  expect(r.body.error?.code).toBe('BAD_REQUEST');
  expect(r.body.error?.message).toMatch(field);
};
const expectRefused = (ack: { ok: boolean; error?: { code: string; message: string } }, field: RegExp) => {
  expect(ack.ok, JSON.stringify(ack)).toBe(false);
  expect(ack.error?.code).toBe('BAD_REQUEST');
  expect(ack.error?.message).toMatch(field);
};

describe.each(['sqlite', 'postgres'] as const)('free text on %s', (kind) => {
  let t: TestHub;
  let db: FreshDatabase | undefined;
  let owner: TestUser;
  let familyId: string;
  let deviceId: string;
  let parent: ClientSocket;
  let watch: ClientSocket;
  beforeAll(async () => {
    // The default store is SQLite; PostgreSQL gets a fresh database of its own.
    db = kind === 'postgres' ? await freshDatabaseUrl('postgres') : undefined;
    t = await startHub({ ...(db ? { databaseUrl: db.url } : {}), env: RELAXED });
    expect(t.store.dialect).toBe(kind);
    const f = await familyWithWatch(t);
    ({ owner, familyId } = f);
    deviceId = f.watch.deviceId;
    parent = await connect(t, owner.accessToken);
    watch = await connect(t, f.watch.deviceToken);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('refuses U+0000 and unpaired surrogates in every HTTP body field, with 400 naming it', async () => {
    const code = (await provisionWatch(t)).bindingCode;
    for (const bad of UNSTORABLE) {
      const email = `a${Date.now()}@example.test`;
      const password = 'correct horse battery';
      expectBadRequest(await api(t, 'POST', '/v1/auth/register', { body: { email, password, nickname: bad } }), /nickname/);
      expectBadRequest(
        await api(t, 'POST', '/v1/auth/register', { body: { email: `a${bad}@example.test`, password, nickname: 'Pat' } }),
        /email/,
      );
      expectBadRequest(await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: bad } }), /refreshToken/);
      expectBadRequest(
        await api(t, 'POST', '/v1/devices/register', {
          body: { imei: randomImei(), model: bad },
          headers: { 'x-provisioning-key': PROVISIONING_KEY },
        }),
        /model/,
      );
      expectBadRequest(await api(t, 'POST', '/v1/families', { token: owner.accessToken, body: { name: bad } }), /name/);
      expectBadRequest(
        await api(t, 'POST', `/v1/families/${familyId}/devices`, {
          token: owner.accessToken,
          body: { bindingCode: code, childName: bad },
        }),
        /childName/,
      );
      expectBadRequest(
        await api(t, 'POST', `/v1/families/${familyId}/devices`, {
          token: owner.accessToken,
          body: { bindingCode: `${code}${bad}`, childName: 'Mia' },
        }),
        /bindingCode/,
      );
      expectBadRequest(
        await api(t, 'POST', `/v1/families/${familyId}/geofences`, {
          token: owner.accessToken,
          body: { name: bad, kind: 'circle', center: { lat: 1, lng: 2 }, radius: 100 },
        }),
        /name/,
      );
      const opsToken = t.hub.services.tokens.signUser(owner.id, 0, ['ops']);
      expectBadRequest(
        await api(t, 'POST', '/v1/ops/incidents', {
          token: opsToken,
          body: { message: `Notice: ${bad}`, familyIds: [familyId] },
        }),
        /message/,
      );
      expectBadRequest(
        await api(t, 'POST', '/v1/ops/incidents', { token: opsToken, body: { message: 'Notice', familyIds: [bad] } }),
        /familyIds/,
      );
    }
    // Nothing of it was stored: the owner's family list is as it was.
    expect((await api(t, 'GET', '/v1/families', { token: owner.accessToken })).body.families).toHaveLength(1);
  });

  it('refuses them in path parameters too (ids are looked up in the store)', async () => {
    // (An unpaired surrogate has no UTF-8 form, so a URL cannot carry one: %ED%A0%80 does not decode.)
    for (const bad of ['%00', 'fam%00ily']) {
      expectBadRequest(await api(t, 'GET', `/v1/families/${bad}`, { token: owner.accessToken }), /fid/);
      expectBadRequest(await api(t, 'GET', `/v1/families/${familyId}/geofences/${bad}`, { token: owner.accessToken }), /gid/);
      expectBadRequest(await api(t, 'DELETE', `/v1/families/${familyId}/devices/${bad}`, { token: owner.accessToken }), /did/);
      expectBadRequest(await api(t, 'GET', `/v1/media/${bad}`, { token: owner.accessToken }), /id/);
      expectBadRequest(await api(t, 'POST', `/v1/invites/${bad}/accept`, { token: owner.accessToken }), /code/);
    }
  });

  it('refuses them in every socket payload field, with BAD_REQUEST naming it', async () => {
    for (const bad of UNSTORABLE) {
      const chat = { conversationId: familyId, clientMsgId: 'c-1', kind: 'text' as const, text: 'hello' };
      expectRefused(await requestRaw(parent, 'chat:send', { ...chat, text: `hello ${bad}` }), /^text/);
      expectRefused(await requestRaw(parent, 'chat:send', { ...chat, clientMsgId: bad }), /clientMsgId/);
      expectRefused(await requestRaw(watch, 'chat:send', { ...chat, conversationId: bad }), /conversationId/);
      expectRefused(await request(parent, 'presence:list', { familyId: bad }), /familyId/);
      expectRefused(await request(parent, 'location:latest', { familyId: bad }), /familyId/);
      expectRefused(await request(parent, 'location:history', { deviceId: bad, from: 0, to: 1 }), /deviceId/);
      expectRefused(await request(parent, 'alert:ack', { id: bad }), /id/);
      expectRefused(await request(parent, 'command:send', { deviceId: bad, type: 'locate' }), /deviceId/);
      expectRefused(
        await request(parent, 'command:send', {
          deviceId,
          type: 'set_contacts',
          params: { contacts: [{ name: bad, phone: '+33 6 12 34 56 78' }] },
        }),
        /params: strings must not contain/,
      );
      expectRefused(
        await request(parent, 'command:send', { deviceId, type: 'locate', params: { note: bad } }),
        /params: strings must not contain/,
      );
      expectRefused(await request(watch, 'command:result', { id: 'x', status: 'done', result: { [bad]: 1 } }), /result: keys/);
    }
    // A message with pairs (emoji) and ordinary text is stored and read back exactly.
    const fine = 'Dinner 🍝 at 7 — à tout à l’heure';
    const sent = await request(parent, 'chat:send', { conversationId: familyId, clientMsgId: 'fine', kind: 'text', text: fine });
    expect(sent.ok).toBe(true);
    const synced = await request(parent, 'chat:sync', { conversationId: familyId, afterSeq: 0 });
    expect(synced.messages.map((m) => ('text' in m ? m.text : undefined))).toEqual([fine]);
  });

  it('keeps what it accepts exactly: a nickname with emoji reads back as sent', async () => {
    const nickname = 'Pat 👩‍👧 Zoë';
    const r = await api(t, 'POST', '/v1/auth/register', {
      body: { email: `emoji-${Date.now()}@example.test`, password: 'correct horse battery', nickname },
    });
    expect(r.status).toBe(201);
    expect((await api(t, 'GET', '/v1/me', { token: r.body.accessToken })).body.user.nickname).toBe(nickname);
  });
});

describe('names must show something', () => {
  let t: TestHub;
  let owner: TestUser;
  let familyId: string;
  let deviceId: string;
  let parent: ClientSocket;
  beforeAll(async () => {
    t = await startHub({ env: RELAXED });
    const f = await familyWithWatch(t);
    ({ owner, familyId } = f);
    deviceId = f.watch.deviceId;
    // Contact names are checked once the family has turned the watch's contacts on.
    await api(t, 'PUT', `/v1/families/${familyId}/devices/${deviceId}/permissions`, {
      token: owner.accessToken,
      body: { location: false, camera: false, microphone: false, contacts: true },
    });
    parent = await connect(t, owner.accessToken);
  });
  afterAll(() => t.close());

  /** Every name field, with the request that sets it. */
  const setters = (name: string) => [
    {
      field: /nickname: must contain a visible character/,
      send: () =>
        api(t, 'POST', '/v1/auth/register', {
          body: { email: `n-${Math.random()}@example.test`, password: 'correct horse battery', nickname: name },
        }),
    },
    {
      field: /name: must contain a visible character/,
      send: () => api(t, 'POST', '/v1/families', { token: owner.accessToken, body: { name } }),
    },
    {
      field: /childName: must contain a visible character/,
      send: async () =>
        api(t, 'POST', `/v1/families/${familyId}/devices`, {
          token: owner.accessToken,
          body: { bindingCode: (await provisionWatch(t)).bindingCode, childName: name },
        }),
    },
    {
      field: /name: must contain a visible character/,
      send: () =>
        api(t, 'POST', `/v1/families/${familyId}/geofences`, {
          token: owner.accessToken,
          body: { name, kind: 'circle', center: { lat: 1, lng: 2 }, radius: 100 },
        }),
    },
    {
      field: /model: must contain a visible character/,
      send: () =>
        api(t, 'POST', '/v1/devices/register', {
          body: { imei: randomImei(), model: name },
          headers: { 'x-provisioning-key': PROVISIONING_KEY },
        }),
    },
  ];

  it('refuses names made only of zero-width, format, space, control or combining characters', async () => {
    for (const name of INVISIBLE) {
      for (const s of setters(name)) expectBadRequest(await s.send(), s.field);
      expectRefused(
        await request(parent, 'command:send', {
          deviceId,
          type: 'set_contacts',
          params: { contacts: [{ name, phone: '+33 6 12 34 56 78' }] },
        }),
        /contacts\.0\.name: must contain a visible character/,
      );
    }
  });

  it('accepts names that show something, in any script, and keeps them as sent', async () => {
    for (const name of VISIBLE) {
      for (const s of setters(` ${name} `)) {
        const r = await s.send();
        expect(r.status, `${name}: ${JSON.stringify(r.body)}`).toBe(201);
      }
      const family = await createFamily(t, owner, name);
      expect((await api(t, 'GET', `/v1/families/${family}`, { token: owner.accessToken })).body.name).toBe(name);
      const contacts = await request(parent, 'command:send', {
        deviceId,
        type: 'set_contacts',
        params: { contacts: [{ name, phone: '+33 6 12 34 56 78' }] },
      });
      // Past the schema: queued, with the name as sent.
      expect(contacts.ok, JSON.stringify(contacts)).toBe(true);
      expect((contacts.command.params.contacts as { name: string }[])[0]!.name).toBe(name);
    }
    const user = await registerUser(t, ' Zoë ');
    expect((await api(t, 'GET', '/v1/me', { token: user.accessToken })).body.user.nickname).toBe('Zoë');
  });
});
