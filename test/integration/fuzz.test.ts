// Property/fuzz tests against a real hub: random and mutated payloads at every socket event (from a
// user's and a watch's socket, plus unknown event names) and at every HTTP route (with the tokens of
// a real family, so handlers run deep, and without). Whatever comes in, the hub answers exactly
// once, with a known error code that is never INTERNAL, never a 5xx, never hangs, and never drops
// the connection. FUZZ_SEED=<n> replays a run; FUZZ_RUNS=<x> scales the number of cases;
// FUZZ_STATS=1 prints the outcomes
// per property; FUZZ_MEDIASOUP_WORKERS=1 turns calls on (else they answer UNAVAILABLE).
//
// Bugs this fuzz found and that are fixed now (each stays covered by the generators): numeric
// event names answered INTERNAL; Fastify router errors in Fastify's own error shape; a report with
// both `ts` and `fixes` storing every entry of `fixes`; a JWT whose payload is not JSON answered 500.
import { createHmac, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { latLngToCell } from 'h3-js';
import { type Socket, io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/auth/tokens.js';
import { DEVICE_ALERT_TYPES, FIX_SOURCES, PERMISSION_NAMES, ROLES } from '../../src/contract/models.js';
import { MUTABLE_TYPES, PUSH_PROVIDERS } from '../../src/contract/notifications.js';
import { type EventName, eventSchemas } from '../../src/contract/schemas.js';
import {
  ACK_TIMEOUT_MS,
  type HttpResult,
  NASTY_STRINGS,
  bufferArb,
  checkErrorBody,
  emitChecked,
  fcParams,
  fuzzed,
  httpChecked,
  longString,
  mutate,
  mutationArb,
  randomValue,
  segmentArb,
  weirdValue,
} from '../helpers/fuzz.js';
import {
  type ClientSocket,
  JWT_SECRET,
  PROVISIONING_KEY,
  type TestHub,
  type TestUser,
  type TestWatch,
  addMember,
  api,
  bindWatch,
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
import { fix, setPermissions } from '../helpers/location.js';
import { type MailCatcher, startMailCatcher } from '../helpers/smtp.js';
import { amrFile, jpegFile, m4aFile, oggFile, pngFile, webmFile } from '../helpers/media.js';

const TIMEOUT = 120_000;
/** Runs per (event, allowed sender); a sender the event refuses gets fewer (it stops at the kind check). */
const RUNS_ALLOWED = 150;
const RUNS_REFUSED = 30;
const RUNS_HTTP = 100;
/** Routes that hash a password (scrypt) on valid input. */
const RUNS_HTTP_SLOW = 40;

let cases = 0;
/** Outcomes per property (ok / error code / HTTP status), printed with FUZZ_STATS=1. */
const stats = new Map<string, Map<string, number>>();
function count(label: string, outcome: string): void {
  const m = stats.get(label) ?? new Map<string, number>();
  m.set(outcome, (m.get(outcome) ?? 0) + 1);
  stats.set(label, m);
}

// ---------------------------------------------------------------------------------------------
// The hub and a real family for the socket fuzz (A) and one for the HTTP fuzz (B)

let t: TestHub;

interface FamilyA {
  familyId: string;
  owner: TestUser;
  watch: TestWatch;
  alertIds: string[];
  commandIds: string[];
  voiceMediaId: string;
}
let A: FamilyA;

interface FamilyB {
  familyId: string;
  owner: TestUser;
  guardian: TestUser;
  viewer: TestUser;
  outsider: TestUser;
  watch: TestWatch;
  /** A member and a watch the fuzz may remove; re-created when it does. */
  sacMember: TestUser;
  sacWatch: TestWatch;
  /** A family of B's owner the fuzz may delete; re-created when it does. */
  sacFamilyId: string;
  /** An unbound watch whose binding code the fuzz may use; replaced when bound. */
  freshWatch: TestWatch;
  /** A standalone watch the fuzz may re-register (same IMEI). */
  reWatch: TestWatch;
  invites: string[];
  geofenceIds: string[];
  imageMediaId: string;
  /** A throwaway session the fuzz may refresh and log out. */
  throwaway: TestUser;
  /** An account the fuzz may delete (DELETE /v1/me): owns a family with a watch, guardian in B. */
  victim: TestUser;
  /** A user token with the ops scope. */
  opsToken: string;
}
let B: FamilyB;

/** `ops`: A's owner with a token that has the ops scope (area positions mode). */
type SocketKind = 'user' | 'device' | 'ops';
const sockets: Partial<Record<SocketKind, ClientSocket>> = {};

/** The fuzzed socket of a sender kind, reconnected if an earlier case lost it (that case failed already). */
async function live(kind: SocketKind): Promise<Socket> {
  const s = sockets[kind];
  if (s?.connected) return s as unknown as Socket;
  s?.close();
  const token = {
    user: A.owner.accessToken,
    device: A.watch.deviceToken,
    ops: t.hub.services.tokens.signUser(A.owner.id, 0, ['ops']),
  }[kind];
  const fresh = await connect(t, token);
  sockets[kind] = fresh;
  return fresh as unknown as Socket;
}

async function ok<T = any>(socket: ClientSocket, event: string, payload: unknown): Promise<T> {
  const r = await requestRaw(socket, event, payload);
  if (!r.ok) throw new Error(`setup ${event} failed: ${JSON.stringify(r)}`);
  return r as T;
}

async function createGeofence(): Promise<string> {
  const r = await api(t, 'POST', `/v1/families/${B.familyId}/geofences`, {
    token: B.owner.accessToken,
    body: { name: 'School', kind: 'circle', center: { lat: 48.85, lng: 2.35 }, radius: 200 },
  });
  if (r.status !== 201) throw new Error(`geofence failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

async function createInvite(): Promise<string> {
  const r = await api(t, 'POST', `/v1/families/${B.familyId}/invites`, { token: B.owner.accessToken, body: { role: 'viewer' } });
  if (r.status !== 201) throw new Error(`invite failed: ${r.status}`);
  return r.body.code as string;
}

async function makeVictim(): Promise<TestUser> {
  const email = `victim-${randomUUID()}@example.test`;
  const password = `victim-${randomUUID()}`;
  const r = await api(t, 'POST', '/v1/auth/register', { body: { email, password, nickname: 'Victim' } });
  if (r.status !== 201) throw new Error(`victim failed: ${r.status}`);
  const victim: TestUser = {
    id: r.body.user.id,
    email,
    password,
    accessToken: r.body.accessToken,
    refreshToken: r.body.refreshToken,
  };
  const fid = await createFamily(t, victim, 'Victims');
  await bindWatch(t, victim, fid, await provisionWatch(t));
  const invite = await api(t, 'POST', `/v1/families/${B.familyId}/invites`, {
    token: B.owner.accessToken,
    body: { role: 'guardian' },
  });
  const accept = await api(t, 'POST', `/v1/invites/${invite.body.code}/accept`, { token: victim.accessToken });
  if (accept.status !== 200) throw new Error(`victim accept failed: ${accept.status}`);
  return victim;
}

async function sacrificialWatch(familyId: string, owner: TestUser): Promise<TestWatch> {
  const w = await provisionWatch(t);
  await bindWatch(t, owner, familyId, w);
  return w;
}

let mail: MailCatcher;

beforeAll(async () => {
  // Password resets go deep only with mail on: a real local SMTP server takes what the hub sends.
  mail = await startMailCatcher();
  // The config caps these budgets (100,000 and 1,000); far above what the fuzz sends.
  t = await startHub({
    env: {
      HUB_SMTP_URL: mail.url,
      HUB_SMTP_FROM: 'hub@example.test',
      HUB_SOCKET_RATE_POINTS: '100000',
      HUB_HTTP_AUTH_RATE_PER_MIN: '100000',
      HUB_LOGIN_MAX_FAILURES: '1000',
      HUB_LOGIN_MAX_FAILURES_PER_IP: '100000',
      // Calls reach mediasoup only with a worker (a process; needs the built worker binary).
      ...(process.env.FUZZ_MEDIASOUP_WORKERS ? { MEDIASOUP_WORKERS: process.env.FUZZ_MEDIASOUP_WORKERS } : {}),
    },
  });

  // Family A: every permission on, so chat media, photos and contacts get past consent. Bound a
  // while ago, so the fixes below (from the last two minutes) are its own.
  const a = await familyWithWatch(t, { boundMsAgo: 3_600_000 });
  const perms = Object.fromEntries(PERMISSION_NAMES.map((p) => [p, true]));
  const p = await api(t, 'PUT', `/v1/families/${a.familyId}/devices/${a.watch.deviceId}/permissions`, {
    token: a.owner.accessToken,
    body: perms,
  });
  if (p.status !== 200) throw new Error(`permissions failed: ${p.status}`);
  const parent = await connect(t, a.owner.accessToken);
  const watch = await connect(t, a.watch.deviceToken);
  sockets.user = parent;
  sockets.device = watch;
  const now = Date.now();
  await ok(watch, 'location:report', { fixes: [fix({ ts: now - 120_000 }), fix({ ts: now - 60_000 }), fix({ ts: now - 1000 })] });
  const alertIds = [
    (await ok(watch, 'alert:raise', { type: 'sos', ts: now })).alert.id as string,
    (await ok(watch, 'alert:raise', { type: 'fall', ts: now, lat: 1, lng: 2 })).alert.id as string,
  ];
  const commandIds = [
    (await ok(parent, 'command:send', { deviceId: a.watch.deviceId, type: 'locate' })).command.id as string,
    (await ok(parent, 'command:send', { deviceId: a.watch.deviceId, type: 'find' })).command.id as string,
  ];
  const voice = await ok(parent, 'chat:send', {
    conversationId: a.familyId,
    clientMsgId: 'setup-voice',
    kind: 'voice',
    media: { data: amrFile(1), mime: 'audio/amr' },
  });
  await ok(watch, 'chat:send', { conversationId: a.familyId, clientMsgId: 'setup-text', kind: 'text', text: 'hi' });
  A = { familyId: a.familyId, owner: a.owner, watch: a.watch, alertIds, commandIds, voiceMediaId: voice.message.media.id };

  // Family B, for HTTP.
  const b = await familyWithWatch(t);
  B = {
    familyId: b.familyId,
    owner: b.owner,
    watch: b.watch,
    guardian: await addMember(t, b.owner, b.familyId, 'guardian'),
    viewer: await addMember(t, b.owner, b.familyId, 'viewer'),
    sacMember: await addMember(t, b.owner, b.familyId, 'viewer'),
    outsider: await registerUser(t, 'Outsider'),
    sacWatch: await sacrificialWatch(b.familyId, b.owner),
    sacFamilyId: await createFamily(t, b.owner, 'Sacrificial'),
    freshWatch: await provisionWatch(t),
    reWatch: await provisionWatch(t),
    invites: [],
    geofenceIds: [],
    imageMediaId: '',
    throwaway: await registerUser(t, 'Throwaway'),
    victim: undefined as unknown as TestUser,
    opsToken: '',
  };
  B.victim = await makeVictim();
  const ops = await registerUser(t, 'Ops');
  B.opsToken = t.hub.services.tokens.signUser(ops.id, 0, ['ops']);
  await setPermissions(t, b.owner.accessToken, b.familyId, b.watch.deviceId, true);
  B.invites.push(await createInvite(), await createInvite());
  B.geofenceIds.push(await createGeofence(), await createGeofence());
  const bSocket = await connect(t, b.owner.accessToken);
  const image = await ok(bSocket, 'chat:send', {
    conversationId: b.familyId,
    clientMsgId: 'setup-image',
    kind: 'image',
    media: { data: pngFile(), mime: 'image/png' },
  });
  B.imageMediaId = image.message.media.id as string;
  bSocket.disconnect();
}, 60_000);

afterAll(async () => {
  await mail?.close();
  console.log(`fuzz: ${cases} cases`);
  if (process.env.FUZZ_STATS === '1') {
    for (const [label, m] of stats) {
      const total = [...m.values()].reduce((a, b) => a + b, 0);
      const parts = [...m].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o} ${Math.round((100 * n) / total)}%`);
      console.log(`${label.padEnd(56)} ${String(total).padStart(4)}  ${parts.join(', ')}`);
    }
  }
  await t?.close();
});

// ---------------------------------------------------------------------------------------------
// Valid payloads of every socket event (made valid-ish by fuzzed())

const recentTs = () => fc.integer({ min: -6 * 3_600_000, max: 120_000 }).map((d) => Date.now() + d);
const anyTs = fc.oneof(recentTs(), fc.integer({ min: 0, max: 8.64e15 }), fc.constantFrom(0, 8.64e15, Date.now() + 86_400_000));
const lat = fc.double({ min: -90, max: 90, noNaN: true });
const lng = fc.double({ min: -180, max: 180, noNaN: true });
const idString = fc.string({ minLength: 1, maxLength: 128 });

const fixArb = fc.record(
  {
    ts: fc.oneof({ weight: 5, arbitrary: recentTs() }, { weight: 1, arbitrary: anyTs }),
    lat,
    lng,
    acc: fc.double({ min: 0, max: 100_000, noNaN: true }),
    alt: fc.double({ min: -1000, max: 20_000, noNaN: true }),
    speed: fc.double({ min: 0, max: 350, noNaN: true }),
    heading: fc.double({ min: 0, max: 360, noNaN: true }),
    battery: fc.integer({ min: 0, max: 100 }),
    source: fc.constantFrom(...FIX_SOURCES),
  },
  { requiredKeys: ['ts', 'lat', 'lng', 'acc', 'source'] },
);

const cellArb = fc
  .tuple(
    lat,
    lng,
    fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 7 }) }, { weight: 1, arbitrary: fc.integer({ min: 8, max: 15 }) }),
  )
  .map(([la, ln, res]) => latLngToCell(la, ln, res));
const coarseCellArb = fc.tuple(lat, lng, fc.integer({ min: 0, max: 7 })).map(([la, ln, res]) => latLngToCell(la, ln, res));
const cellsArb = fc.oneof(
  { weight: 3, arbitrary: fc.array(coarseCellArb, { minLength: 1, maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.array(
      fc.oneof(
        { weight: 8, arbitrary: cellArb },
        { weight: 1, arbitrary: cellArb.map((c) => c.toUpperCase()) },
        { weight: 1, arbitrary: fc.string({ maxLength: 16 }) },
      ),
      { minLength: 1, maxLength: 40 },
    ),
  },
);

const phone = fc.stringMatching(/^\+?[0-9][0-9 ()-]{2,19}$/);
const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);

function commandParamsArb(voiceMediaId: string): fc.Arbitrary<[string, Record<string, unknown> | undefined]> {
  const none = fc.constantFrom<Record<string, unknown> | undefined>(undefined, {});
  return fc.oneof(
    fc.tuple(fc.constantFrom('locate', 'find', 'photo', 'power_off'), none),
    fc.tuple(fc.constant('set_interval'), fc.record({ seconds: fc.integer({ min: 10, max: 86_400 }) })),
    fc.tuple(
      fc.constant('set_contacts'),
      fc.record({
        contacts: fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 64 }), phone }), { maxLength: 60 }),
      }),
    ),
    fc.tuple(fc.constant('set_sos_numbers'), fc.record({ numbers: fc.array(phone, { minLength: 1, maxLength: 6 }) })),
    fc.tuple(
      fc.constant('set_quiet_hours'),
      fc.record({
        ranges: fc.array(
          fc.record({ days: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }), start: hhmm, end: hhmm }),
          { maxLength: 11 },
        ),
      }),
    ),
    fc.tuple(
      fc.constant('voice_reminder'),
      fc.record({ mediaId: fc.oneof(fc.constant(voiceMediaId), idString), at: anyTs }, { requiredKeys: ['mediaId'] }),
    ),
  );
}

const MEDIA_FILES = {
  amr: amrFile(0.5),
  amrLong: amrFile(61),
  ogg: oggFile(),
  webm: webmFile(),
  m4a: m4aFile(),
  png: pngFile(),
  jpeg: jpegFile(),
};
/** Each file with its type (and a duration where the type needs one). */
const MEDIA_OK: [Uint8Array, string, number | undefined][] = [
  [MEDIA_FILES.amr, 'audio/amr', undefined],
  [MEDIA_FILES.ogg, 'audio/ogg', 4000],
  [MEDIA_FILES.webm, 'audio/webm; codecs=opus', 2500],
  [MEDIA_FILES.m4a, 'audio/mp4', 1000],
  [MEDIA_FILES.png, 'image/png', undefined],
  [MEDIA_FILES.jpeg, 'image/jpeg', undefined],
];
const mediaArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(...MEDIA_OK)
      .map(([data, mime, durationMs]) => ({ data, mime, ...(durationMs !== undefined ? { durationMs } : {}) })),
  },
  fc.record(
    {
      data: fc.constantFrom<Uint8Array>(MEDIA_FILES.amr, MEDIA_FILES.amrLong, MEDIA_FILES.ogg, MEDIA_FILES.webm, MEDIA_FILES.m4a),
      mime: fc.constantFrom('audio/amr', 'audio/ogg', 'audio/webm; codecs=opus', 'Audio/MP4', 'image/png', ''),
      durationMs: fc.oneof(fc.integer({ min: 1, max: 3_600_000 }), fc.constant(60_001)),
    },
    { requiredKeys: ['data', 'mime'] },
  ),
  fc.record(
    {
      data: fc.oneof(fc.constantFrom<Uint8Array>(MEDIA_FILES.png, MEDIA_FILES.jpeg), bufferArb),
      mime: fc.constantFrom('image/png', 'image/jpeg', 'image/gif'),
    },
    { requiredKeys: ['data', 'mime'] },
  ),
);

type Sender = 'user' | 'device';

/** Who may send each event (docs/protocol.md, "Client → server"); every key of eventSchemas. */
const SENDERS: Record<EventName, readonly Sender[]> = {
  'presence:list': ['user', 'device'],
  'location:report': ['device'],
  'location:latest': ['user'],
  'location:history': ['user'],
  'area:subscribe': ['user'],
  'area:unsubscribe': ['user'],
  'alert:raise': ['device'],
  'alert:ack': ['user'],
  'chat:send': ['user', 'device'],
  'chat:sync': ['user', 'device'],
  'chat:read': ['user', 'device'],
  'command:send': ['user'],
  'command:result': ['device'],
  // Calls: members and watches call each other.
  'call:start': ['user', 'device'],
  'call:accept': ['user', 'device'],
  'call:decline': ['user', 'device'],
  'call:hangup': ['user', 'device'],
  'call:transport:create': ['user', 'device'],
  'call:transport:connect': ['user', 'device'],
  'call:produce': ['user', 'device'],
  'call:consume': ['user', 'device'],
  'call:consumer:resume': ['user', 'device'],
  'call:ice:restart': ['user', 'device'],
};

function validPayloads(): Record<EventName, fc.Arbitrary<unknown>> {
  const familyId = fc.oneof(
    { weight: 8, arbitrary: fc.constant(A.familyId) },
    { weight: 1, arbitrary: fc.constant(B.familyId) },
    { weight: 1, arbitrary: idString },
  );
  const deviceId = fc.oneof(
    { weight: 8, arbitrary: fc.constant(A.watch.deviceId) },
    { weight: 1, arbitrary: fc.constantFrom(B.watch.deviceId, B.freshWatch.deviceId) },
    { weight: 1, arbitrary: idString },
  );
  const cursor = fc.oneof(
    { weight: 4, arbitrary: fc.nat().map((n) => Buffer.from(String(Date.now() - n)).toString('base64url')) },
    fc.string({ maxLength: 64 }).map((s) => Buffer.from(s).toString('base64url').slice(0, 64)),
    fc.string({ maxLength: 64 }),
    fc.constantFrom('', 'MTIz', 'OTAwNzE5OTI1NDc0MDk5Mw', 'LTE', 'MWUzMDg'),
  );
  return {
    'presence:list': fc.record({ familyId }),
    'location:report': fc.oneof(
      { weight: 5, arbitrary: fixArb },
      {
        weight: 5,
        arbitrary: fc.record({
          fixes: fc.array(fc.oneof({ weight: 6, arbitrary: fixArb }, { weight: 1, arbitrary: weirdValue }), {
            minLength: 1,
            maxLength: 100,
          }),
        }),
      },
      // One fix that also carries `fixes`.
      { weight: 1, arbitrary: fc.tuple(fixArb, fc.array(fixArb, { maxLength: 120 })).map(([f, fixes]) => ({ ...f, fixes })) },
    ),
    'location:latest': fc.record({ familyId }),
    'location:history': fc
      .record(
        { deviceId, from: anyTs, to: anyTs, limit: fc.integer({ min: 1, max: 1000 }), cursor },
        { requiredKeys: ['deviceId', 'from', 'to'] },
      )
      .map((r) => (r.from > r.to && r.to !== 0 ? { ...r, from: r.to, to: r.from } : r)),
    'area:subscribe': fc.record({ cells: cellsArb, mode: fc.constantFrom('stats', 'stats', 'positions') }),
    'area:unsubscribe': fc.record({ cells: cellsArb }),
    'alert:raise': fc.record(
      {
        type: fc.constantFrom(...DEVICE_ALERT_TYPES),
        ts: fc.oneof({ weight: 4, arbitrary: recentTs() }, { weight: 1, arbitrary: anyTs }),
        lat,
        lng,
      },
      { requiredKeys: ['type', 'ts'] },
    ),
    'alert:ack': fc.record({
      id: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('§alert', ...A.alertIds) }, { weight: 1, arbitrary: idString }),
    }),
    'chat:send': fc.oneof(
      fc.record(
        {
          conversationId: familyId,
          clientMsgId: fc.string({ minLength: 1, maxLength: 64 }),
          kind: fc.constant('text'),
          text: fc.oneof(
            { weight: 6, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }) },
            { weight: 1, arbitrary: longString(1990, 2010) },
          ),
        },
        { requiredKeys: ['conversationId', 'clientMsgId', 'kind', 'text'] },
      ),
      fc
        .record({
          conversationId: familyId,
          clientMsgId: fc.string({ minLength: 1, maxLength: 64 }),
          media: mediaArb,
          otherKind: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        })
        .map(({ otherKind, ...m }) => {
          const image = String(m.media.mime).startsWith('image/');
          return { ...m, kind: image !== otherKind ? 'image' : 'voice' };
        }),
    ),
    'chat:sync': fc.record(
      { conversationId: familyId, afterSeq: fc.oneof(fc.nat({ max: 50 }), fc.nat()), limit: fc.integer({ min: 1, max: 500 }) },
      { requiredKeys: ['conversationId', 'afterSeq'] },
    ),
    'chat:read': fc.record({ conversationId: familyId, seq: fc.oneof(fc.nat({ max: 20 }), fc.nat()) }),
    'command:send': fc
      .record({
        deviceId,
        typed: commandParamsArb(A.voiceMediaId),
        ttlMs: fc.integer({ min: 10_000, max: 30 * 86_400_000 }),
        withTtl: fc.boolean(),
      })
      .map(({ deviceId: d, typed: [type, params], ttlMs, withTtl }) => ({
        deviceId: d,
        type,
        ...(params !== undefined ? { params } : {}),
        ...(withTtl ? { ttlMs } : {}),
      })),
    'command:result': fc.record(
      {
        id: fc.oneof(
          { weight: 6, arbitrary: fc.constant('§command') },
          { weight: 1, arbitrary: fc.constantFrom(...A.commandIds) },
          { weight: 1, arbitrary: idString },
        ),
        status: fc.constantFrom('done', 'failed', 'rejected'),
        result: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
      },
      { requiredKeys: ['id', 'status'] },
    ),
    ...callPayloads(familyId),
  };
}

/** Ids the calls fuzz made (latest last); the `§call`… refs resolve to the latest. */
const callPools = { call: [] as string[], transport: [] as string[], producer: [] as string[], consumer: [] as string[] };

function callPayloads(familyId: fc.Arbitrary<string>) {
  const ref = (name: string) => fc.oneof({ weight: 6, arbitrary: fc.constant(name) }, { weight: 1, arbitrary: idString });
  const callId = ref('§call');
  const transportId = ref('§transport');
  const hex = fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((b) => Buffer.from(b).toString('hex').toUpperCase().match(/../g)!.join(':'));
  const dtlsParameters = fc.record(
    {
      role: fc.constantFrom('auto', 'client', 'server'),
      fingerprints: fc.array(fc.record({ algorithm: fc.constantFrom('sha-256', 'sha-1', 'sha-512', 'md5', 'x'), value: hex }), {
        minLength: 1,
        maxLength: 3,
      }),
    },
    { requiredKeys: ['fingerprints'] },
  );
  const codec = fc.record({
    mimeType: fc.constantFrom('audio/opus', 'video/VP8', 'video/H264', 'audio/PCMU', 'x/y'),
    payloadType: fc.integer({ min: 0, max: 200 }),
    clockRate: fc.constantFrom(48000, 90000, 8000, 0),
    channels: fc.constantFrom(1, 2),
    parameters: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer())),
    rtcpFeedback: fc.array(
      fc.record({ type: fc.constantFrom('nack', 'ccm', 'transport-cc'), parameter: fc.constantFrom('', 'pli', 'fir') }),
      { maxLength: 3 },
    ),
  });
  const rtpParameters = fc.record(
    {
      mid: fc.string({ maxLength: 4 }),
      codecs: fc.array(codec, { minLength: 1, maxLength: 3 }),
      headerExtensions: fc.array(fc.record({ uri: fc.string({ maxLength: 40 }), id: fc.integer({ min: 1, max: 14 }) }), {
        maxLength: 2,
      }),
      encodings: fc.array(
        fc.record({ ssrc: fc.nat(), rid: fc.string({ maxLength: 3 }), maxBitrate: fc.nat() }, { requiredKeys: [] }),
        { maxLength: 3 },
      ),
      rtcp: fc.record({ cname: fc.string({ maxLength: 16 }), reducedSize: fc.boolean() }, { requiredKeys: [] }),
    },
    { requiredKeys: ['codecs'] },
  );
  const rtpCapabilities = fc.record(
    {
      codecs: fc.array(
        fc.record({
          kind: fc.constantFrom('audio', 'video'),
          mimeType: fc.constantFrom('audio/opus', 'video/VP8', 'video/H264'),
          clockRate: fc.constantFrom(48000, 90000),
          channels: fc.constantFrom(1, 2),
          preferredPayloadType: fc.integer({ min: 96, max: 127 }),
        }),
        { maxLength: 3 },
      ),
      headerExtensions: fc.constant([]),
    },
    { requiredKeys: [] },
  );
  const invitee = fc.oneof(
    fc.constantFrom(
      { kind: 'device', id: A.watch.deviceId },
      { kind: 'user', id: A.owner.id },
      { kind: 'device', id: B.watch.deviceId },
    ),
    fc.record({ kind: fc.constantFrom('user', 'device'), id: idString }),
  );
  return {
    'call:start': fc.record({ familyId, invitees: fc.array(invitee, { minLength: 1, maxLength: 9 }), video: fc.boolean() }),
    'call:accept': fc.record({ callId }),
    'call:decline': fc.record({ callId }),
    'call:hangup': fc.record({ callId }),
    'call:transport:create': fc.record({ callId, direction: fc.constantFrom('send', 'recv') }),
    'call:transport:connect': fc.record({ callId, transportId, dtlsParameters }),
    'call:produce': fc.record({ callId, transportId, kind: fc.constantFrom('audio', 'video'), rtpParameters }),
    'call:consume': fc.record({ callId, transportId, producerId: ref('§producer'), rtpCapabilities }),
    'call:consumer:resume': fc.record({ callId, consumerId: ref('§consumer') }),
    'call:ice:restart': fc.record({ callId, transportId }),
  } satisfies Partial<Record<EventName, fc.Arbitrary<unknown>>>;
}

/** The arguments after the event name: usually one payload, sometimes none or two. */
const argsOf = (payload: fc.Arbitrary<unknown>): fc.Arbitrary<unknown[]> =>
  fc.oneof(
    { weight: 14, arbitrary: payload.map((p): unknown[] => [p]) },
    { weight: 1, arbitrary: fc.constant<unknown[]>([]) },
    { weight: 1, arbitrary: fc.tuple(payload, randomValue).map((a): unknown[] => [...a]) },
  );

/** What an ok ack carries, per event (docs/protocol.md). */
const OK_DATA: Record<EventName, string[]> = {
  'presence:list': ['presence'],
  'location:report': ['accepted', 'rejected'],
  'location:latest': ['positions'],
  'location:history': ['fixes', 'nextCursor'],
  'area:subscribe': ['cells'],
  'area:unsubscribe': ['cells'],
  'alert:raise': ['alert'],
  'alert:ack': ['alert'],
  'chat:send': ['message'],
  'chat:sync': ['messages', 'hasMore'],
  'chat:read': ['seq'],
  'command:send': ['command'],
  'command:result': ['command'],
  'call:start': ['callId', 'rtpCapabilities'],
  'call:accept': ['callId', 'rtpCapabilities'],
  'call:decline': ['callId'],
  'call:hangup': ['callId'],
  'call:transport:create': ['id', 'iceParameters', 'iceCandidates', 'dtlsParameters'],
  'call:transport:connect': [],
  'call:produce': ['producerId'],
  'call:consume': ['consumerId', 'producerId', 'kind', 'rtpParameters'],
  'call:consumer:resume': [],
  'call:ice:restart': ['iceParameters'],
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A report answers for each of its fixes: `{ fixes }` (that one key) has many, anything else is one fix. */
function checkReportAck(payload: unknown, ack: Record<string, unknown>, where: string): void {
  // The payload as the hub decodes it (undefined keys dropped); binary does not matter here.
  const wire: unknown = JSON.parse(JSON.stringify(payload) ?? 'null');
  const batch = isRecord(wire) && Object.keys(wire).length === 1 && Array.isArray(wire.fixes);
  const expected = batch ? (wire.fixes as unknown[]).length : 1;
  const rejected = ack.rejected as { index: number; code: string }[];
  expect(typeof ack.accepted, where).toBe('number');
  expect(ack.accepted as number, where).toBeLessThanOrEqual(100);
  expect((ack.accepted as number) + rejected.length, `${where}: accepted + rejected for ${expected} fix(es)`).toBe(expected);
  for (const r of rejected) expect(['BAD_REQUEST', 'CONFLICT'], where).toContain(r.code);
}

/** Sends one case; without an ack, a follow-up request shows the socket still serves. */
async function socketCase(sender: SocketKind, event: string | number, args: unknown[], withAck: boolean): Promise<void> {
  cases++;
  const s = await live(sender);
  const where = `${sender} ${String(event)}`;
  const label = `${typeof event === 'string' && Object.hasOwn(OK_DATA, event) ? event : '<unknown>'} from ${sender}`;
  args = args.map(resolveDeep);
  if (withAck) {
    const ack = await emitChecked(s, event, args, where);
    // Open commands and alerts made by the fuzz feed command:result and alert:ack.
    if (ack.ok && event === 'command:send') pools.command.push((ack.command as { id: string }).id);
    if (ack.ok && event === 'alert:raise') pools.alert.push((ack.alert as { id: string }).id);
    if (ack.ok && event === 'call:start') callPools.call.push(String(ack.callId));
    if (ack.ok && event === 'call:transport:create') callPools.transport.push(String(ack.id));
    if (ack.ok && event === 'call:produce') callPools.producer.push(String(ack.producerId));
    if (ack.ok && event === 'call:consume') callPools.consumer.push(String(ack.consumerId));
    count(label, ack.ok ? 'ok' : (ack.error as { code: string }).code);
    if (ack.ok && typeof event === 'string' && Object.hasOwn(OK_DATA, event)) {
      for (const key of OK_DATA[event as EventName]) expect(ack, `${where}: ok ack without ${key}`).toHaveProperty(key);
      if (event === 'location:report') checkReportAck(args[0], ack, where);
    }
    return;
  }
  count(label, 'no ack');
  s.emit(event as string, ...args);
  const r = await emitChecked(s, 'presence:list', [{ familyId: A.familyId }], `${where} (no ack), then presence:list`);
  expect(r.ok, JSON.stringify(r)).toBe(true);
}

const withAckArb = fc.oneof({ weight: 15, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

describe('socket fuzz', () => {
  it('has a generator for every event of the contract', () => {
    expect(Object.keys(SENDERS).sort()).toEqual(Object.keys(eventSchemas).sort());
  });

  const pairs = (Object.keys(SENDERS) as EventName[]).flatMap((event) =>
    (['user', 'device'] as const).map((sender) => ({ event, sender, allowed: SENDERS[event].includes(sender) })),
  );
  it.each(pairs)(
    '$event from a $sender socket (allowed: $allowed)',
    async ({ event, sender, allowed }) => {
      const payload = fuzzed(validPayloads()[event]);
      await fc.assert(
        fc.asyncProperty(argsOf(payload), withAckArb, (args, withAck) => socketCase(sender, event, args, withAck)),
        fcParams(allowed ? RUNS_ALLOWED : RUNS_REFUSED),
      );
    },
    TIMEOUT,
  );

  const known = new Set<string>(Object.keys(eventSchemas));
  // socket.io-client refuses to emit these.
  const reserved = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);
  const unknownEvent: fc.Arbitrary<string | number> = fc.oneof(
    fc.string({ maxLength: 40 }).filter((e) => !known.has(e) && !reserved.has(e)),
    fc.string({ unit: 'grapheme', maxLength: 20 }).filter((e) => !known.has(e) && !reserved.has(e)),
    fc.constantFrom(
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'prototype',
      'presence:List',
      'presence:list ',
      ' presence:list',
      'presence:list\u0000',
      'chat:',
      ':',
      '*',
      'x'.repeat(10_000),
      ...NASTY_STRINGS.filter((s) => !reserved.has(s)),
    ),
    // Socket.IO allows numeric event names on the wire.
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  );
  // A payload that forges Socket.IO's binary-attachment placeholder is a malformed packet, not a
  // bad payload: Socket.IO's parser closes that connection before the hub sees it (docs/protocol.md).
  // What the hub promises is that it stays up and no one else notices.
  it('survives a packet forging a Socket.IO attachment placeholder', async () => {
    cases++;
    const victim = await live('user');
    const closed = new Promise<void>((resolve) => victim.once('disconnect', () => resolve()));
    victim.emit(
      'presence:list',
      { familyId: A.familyId, data: Buffer.from('x'), ref: { _placeholder: true, num: 7 } },
      () => undefined,
    );
    await closed;
    const other = await live('device');
    await emitChecked(other, 'presence:list', [{ familyId: A.familyId }], 'presence:list after a forged placeholder');
  });

  it.each(['area:subscribe', 'area:unsubscribe'] as const)(
    '%s from a socket with the ops scope',
    async (event) => {
      const payload = fuzzed(validPayloads()[event]);
      await fc.assert(
        fc.asyncProperty(argsOf(payload), withAckArb, (args, withAck) => socketCase('ops', event, args, withAck)),
        fcParams(RUNS_ALLOWED / 2),
      );
    },
    TIMEOUT,
  );

  it.each(['user', 'device'] as const)(
    'unknown event names from a %s socket',
    async (sender) => {
      await fc.assert(
        fc.asyncProperty(unknownEvent, argsOf(randomValue), withAckArb, (event, args, withAck) =>
          socketCase(sender, event, args, withAck),
        ),
        fcParams(RUNS_ALLOWED),
      );
    },
    TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------
// HTTP

type Auth =
  'owner' | 'guardian' | 'viewer' | 'sacMember' | 'outsider' | 'deviceA' | 'deviceB' | 'ops' | 'victim' | 'none' | 'garbage';
const authArb: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 16, arbitrary: fc.constant<Auth>('owner') },
  { weight: 2, arbitrary: fc.constantFrom<Auth>('guardian', 'viewer', 'outsider', 'none', 'garbage') },
  { weight: 1, arbitrary: fc.constantFrom<Auth>('sacMember', 'deviceA', 'deviceB', 'ops') },
);
const GARBAGE_AUTH = [
  'Bearer x',
  'Bearer ',
  'Bearer',
  'bearer a.b.c',
  `Bearer ${'a'.repeat(8000)}`,
  'Basic Zm9vOmJhcg==',
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'Bearer a b',
  'Token abc',
];
const garbageArb = fc.nat({ max: GARBAGE_AUTH.length - 1 });

function authHeader(auth: Auth, garbage: number): Record<string, string> {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  switch (auth) {
    case 'owner':
      return bearer(B.owner.accessToken);
    case 'guardian':
      return bearer(B.guardian.accessToken);
    case 'viewer':
      return bearer(B.viewer.accessToken);
    case 'sacMember':
      return bearer(B.sacMember.accessToken);
    case 'outsider':
      return bearer(B.outsider.accessToken);
    case 'deviceA':
      return bearer(A.watch.deviceToken);
    case 'deviceB':
      return bearer(B.watch.deviceToken);
    case 'ops':
      return bearer(B.opsToken);
    case 'victim':
      return bearer(B.victim.accessToken);
    case 'none':
      return {};
    case 'garbage':
      return { authorization: GARBAGE_AUTH[garbage]! };
  }
}

/** Commands and alerts the socket fuzz made; command:result and alert:ack use them up. */
const pools = { command: [] as string[], alert: [] as string[] };

/** Placeholders for values that change as the fuzz consumes them (resolved when the case runs). */
const REFS: Record<string, () => string> = {
  '§command': () => pools.command.pop() ?? A.commandIds[0]!,
  '§alert': () => pools.alert.pop() ?? A.alertIds[0]!,
  '§call': () => callPools.call.at(-1) ?? 'no-call-yet',
  '§transport': () => callPools.transport.at(-1) ?? 'no-transport-yet',
  '§producer': () => callPools.producer.at(-1) ?? 'no-producer-yet',
  '§consumer': () => callPools.consumer.at(-1) ?? 'no-consumer-yet',
  '§sacWatch': () => B.sacWatch.deviceId,
  '§sacMember': () => B.sacMember.id,
  '§sacFamily': () => B.sacFamilyId,
  '§invite': () => B.invites[0] ?? 'none-left',
  '§bindCode': () => B.freshWatch.bindingCode,
  '§gid': () => B.geofenceIds[0] ?? 'none-left',
  '§refresh': () => B.throwaway.refreshToken,
  '§reImei': () => B.reWatch.imei,
  '§victimPassword': () => B.victim.password,
};
const resolveString = (s: string) => s.replace(/§\w+/g, (ref) => REFS[ref]?.() ?? ref);
function resolveDeep(v: unknown): unknown {
  if (typeof v === 'string') return resolveString(v);
  if (Array.isArray(v)) return v.map(resolveDeep);
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(out, k, {
        value: resolveDeep((v as Record<string, unknown>)[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}
/** A path segment: the ref, percent-encoded, or a fuzzed one. */
const seg = (...choices: string[]): fc.Arbitrary<string> =>
  fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...choices) }, { weight: 2, arbitrary: segmentArb });
const encodeSeg = (s: string) => (s.startsWith('§') ? encodeURIComponent(resolveString(s)) : s);

/** How the body goes on the wire. */
type Wire =
  | { kind: 'json'; contentType: string }
  | { kind: 'raw'; contentType: string | undefined; raw: string }
  | { kind: 'none'; contentType: string | undefined };
const wireArb: fc.Arbitrary<Wire> = fc.oneof(
  { weight: 14, arbitrary: fc.constant<Wire>({ kind: 'json', contentType: 'application/json' }) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'application/json; charset=utf-16',
        'application/vnd.api+json',
        'text/plain',
        'text/plain; charset=utf-8',
        'application/x-www-form-urlencoded',
        'application/octet-stream',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/json, text/plain',
        '*/*',
        'garbage',
      )
      .map((contentType): Wire => ({ kind: 'json', contentType })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.constantFrom(
            '',
            '{',
            '{"a":',
            '[',
            'null',
            '0',
            '"x"',
            'true',
            '[]',
            '{}',
            '\ufeff{}',
            '{"__proto__":{"polluted":1}}',
            '{"constructor":{"prototype":{"polluted":1}}}',
            '{"a":1,"a":2}',
            '{"name":"\\ud800"}',
            '{"name":"a\\u0000b"}',
            '1e999',
            '{"role":"owner"}garbage',
          ),
          fc.integer({ min: 100, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
          fc.integer({ min: 100, max: 20_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
          fc.integer({ min: 60_000, max: 200_000 }).map((n) => JSON.stringify({ name: 'x'.repeat(n) })),
        ),
        fc.constantFrom<string | undefined>(
          'application/json',
          'application/json',
          'text/plain',
          'application/octet-stream',
          undefined,
        ),
      )
      .map(([raw, contentType]): Wire => ({ kind: 'raw', contentType, raw })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<string | undefined>('application/json', undefined)
      .map((contentType): Wire => ({ kind: 'none', contentType })),
  },
);

/** Browsers send an Origin; apps and watches do not. */
const originArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1', '') },
);

const queryArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.tuple(segmentArb, segmentArb).map(([k, v]) => `?${k}=${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('?', '?a', '?a=1&a=2', '?__proto__[x]=1', '?constructor[prototype][x]=1', '?%') },
);

interface HttpCase {
  auth: Auth;
  garbage: number;
  segs: string[];
  body: unknown;
  wire: Wire;
  query: string;
  headers: Record<string, string>;
}

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';
  /** The route pattern, `:x` for each entry of `segs`. */
  pattern: string;
  segs?: fc.Arbitrary<string>[];
  /** A valid body (fuzzed on top); routes without one get random bodies. */
  body?: () => fc.Arbitrary<unknown>;
  headers?: () => fc.Arbitrary<Record<string, string>>;
  /** Who calls (default: mostly B's owner). */
  auth?: fc.Arbitrary<Auth>;
  runs?: number;
  /** Replaces what a successful case consumed. */
  after?: (r: HttpResult, c: HttpCase, path: string) => Promise<void>;
}

const nameArb = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }),
  fc.constantFrom(' ', 'x'.repeat(81), '  padded  '),
);
const emailArb = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom('example.test', 'EXAMPLE.test')).map(([n, d]) => ` Fuzz-${n}@${d} `),
  fc.emailAddress(),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('a@b', '@', 'x@y.z'.repeat(60)),
);
const latLngObj = fc.record({ lat, lng });
const geofenceBodyArb = () =>
  fc.oneof(
    fc.record(
      {
        name: nameArb,
        kind: fc.constant('circle'),
        center: latLngObj,
        radius: fc.oneof(
          { weight: 4, arbitrary: fc.double({ min: 1, max: 50_000, noNaN: true }) },
          { weight: 1, arbitrary: fc.constantFrom(0, -1, 1e9) },
        ),
        deviceIds: fc.oneof(
          fc.constant(null),
          fc.array(fc.constant(B.watch.deviceId), { minLength: 1, maxLength: 3 }),
          fc.array(fc.constantFrom(B.watch.deviceId, A.watch.deviceId, 'nope'), { minLength: 1, maxLength: 4 }),
        ),
      },
      { requiredKeys: ['name', 'kind', 'center', 'radius'] },
    ),
    fc.record({
      name: nameArb,
      kind: fc.constant('polygon'),
      polygon: fc.oneof(
        fc.array(fc.tuple(lat, lng), { minLength: 0, maxLength: 12 }),
        fc.array(fc.tuple(fc.double({ min: 48, max: 48.01, noNaN: true }), fc.double({ min: 2, max: 2.01, noNaN: true })), {
          minLength: 3,
          maxLength: 8,
        }),
        fc.constant([
          [48, 2],
          [48.01, 2],
          [48.01, 2.01],
          [48, 2.01],
        ]),
        fc.constant([
          [0, 179.9],
          [1, -179.9],
          [0, -179.9],
        ]),
        fc.constant([
          [48, 2],
          [48, 2],
          [48, 2],
        ]),
      ),
    }),
  );

function routes(): Route[] {
  const fid = seg(B.familyId, B.familyId, B.familyId, A.familyId);
  // B's main watch is never unbound: DELETE gets the sacrificial one.
  const did = seg(B.watch.deviceId, '§sacWatch', A.watch.deviceId, B.freshWatch.deviceId);
  const perms = () => fc.record(Object.fromEntries(PERMISSION_NAMES.map((p) => [p, fc.boolean()])));
  return [
    {
      method: 'POST',
      pattern: '/v1/auth/register',
      body: () =>
        fc.record({
          email: emailArb,
          password: fc.oneof(fc.string({ minLength: 8, maxLength: 256 }), fc.string({ maxLength: 8 })),
          nickname: nameArb,
        }),
      runs: RUNS_HTTP_SLOW,
    },
    {
      method: 'POST',
      pattern: '/v1/auth/login',
      body: () =>
        fc.record({
          email: fc.oneof(fc.constantFrom(B.owner.email, B.outsider.email.toUpperCase()), emailArb),
          password: fc.oneof(fc.constant(B.owner.password), fc.string({ minLength: 1, maxLength: 256 })),
        }),
      runs: RUNS_HTTP_SLOW,
    },
    {
      method: 'POST',
      pattern: '/v1/auth/refresh',
      body: () => fc.record({ refreshToken: fc.oneof(fc.constant('§refresh'), fc.string({ minLength: 1, maxLength: 600 })) }),
      after: async (r) => {
        if (r.status === 200) B.throwaway.refreshToken = (r.body as { refreshToken: string }).refreshToken;
      },
    },
    {
      method: 'POST',
      pattern: '/v1/auth/logout',
      body: () => fc.record({ refreshToken: fc.oneof(fc.constant('§refresh'), fc.string({ minLength: 1, maxLength: 600 })) }),
      after: async (r, c) => {
        // A logout of the throwaway session ends it: log in again for a fresh one.
        if (r.status === 204 && JSON.stringify(c.body).includes('§refresh')) {
          const login = await api(t, 'POST', '/v1/auth/login', {
            body: { email: B.throwaway.email, password: B.throwaway.password },
          });
          if (login.status === 200) B.throwaway.refreshToken = login.body.refreshToken;
        }
      },
    },
    { method: 'GET', pattern: '/v1/me' },
    {
      method: 'POST',
      pattern: '/v1/devices/register',
      body: () =>
        fc.record({
          imei: fc.oneof(
            fc.constant('§reImei'),
            fc.constant(0).map(() => randomImei()),
            fc.stringMatching(/^\d{15}$/),
            fc.string({ maxLength: 20 }),
          ),
          model: nameArb,
        }),
      headers: () =>
        fc.oneof(
          { weight: 5, arbitrary: fc.constant<Record<string, string>>({ 'x-provisioning-key': PROVISIONING_KEY }) },
          {
            weight: 1,
            arbitrary: fc.constantFrom<Record<string, string>>(
              {},
              { 'x-provisioning-key': '' },
              { 'x-provisioning-key': `${PROVISIONING_KEY}x` },
              { 'x-provisioning-key': 'a'.repeat(5000) },
            ),
          },
        ),
    },
    { method: 'POST', pattern: '/v1/families', body: () => fc.record({ name: nameArb }) },
    { method: 'GET', pattern: '/v1/families' },
    { method: 'GET', pattern: '/v1/families/:fid', segs: [fid] },
    {
      method: 'POST',
      pattern: '/v1/families/:fid/invites',
      segs: [fid],
      body: () => fc.record({ role: fc.constantFrom(...ROLES, 'admin', 'OWNER') }),
    },
    {
      method: 'POST',
      pattern: '/v1/invites/:code/accept',
      segs: [seg('§invite', '§invite', 'ABCD-EFGH-IJKL', 'abcdefghijkl')],
      after: async (r) => {
        if (r.status === 200) {
          B.invites.shift();
          if (B.invites.length === 0) B.invites.push(await createInvite());
        }
      },
    },
    {
      method: 'POST',
      pattern: '/v1/families/:fid/devices',
      segs: [fid],
      body: () =>
        fc.record({
          bindingCode: fc.oneof(
            fc.constant('§bindCode'),
            fc.constant('§bindCode').map((s) => ` ${s} `),
            fc.string({ minLength: 4, maxLength: 64 }),
          ),
          childName: nameArb,
        }),
      after: async (r) => {
        if (r.status === 201) B.freshWatch = await provisionWatch(t);
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/families/:fid/devices/:did',
      segs: [fid, seg('§sacWatch', A.watch.deviceId, B.freshWatch.deviceId)],
      after: async (r, _c, path) => {
        if (r.status === 204 && path.includes(B.sacWatch.deviceId)) B.sacWatch = await sacrificialWatch(B.familyId, B.owner);
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/families/:fid/members/:uid',
      segs: [fid, seg(B.owner.id, '§sacMember', B.outsider.id, A.owner.id)],
      after: async (r, _c, path) => {
        if (r.status === 204 && path.includes(B.sacMember.id)) B.sacMember = await addMember(t, B.owner, B.familyId, 'viewer');
      },
    },
    { method: 'PUT', pattern: '/v1/families/:fid/devices/:did/permissions', segs: [fid, did], body: perms },
    {
      method: 'POST',
      pattern: '/v1/families/:fid/geofences',
      segs: [fid],
      body: geofenceBodyArb,
      after: async (r, _c, path) => {
        if (r.status === 201 && path.includes(B.familyId)) B.geofenceIds.push((r.body as { id: string }).id);
      },
    },
    { method: 'GET', pattern: '/v1/families/:fid/geofences', segs: [fid] },
    { method: 'GET', pattern: '/v1/families/:fid/geofences/:gid', segs: [fid, seg('§gid')] },
    { method: 'PUT', pattern: '/v1/families/:fid/geofences/:gid', segs: [fid, seg('§gid')], body: geofenceBodyArb },
    {
      method: 'DELETE',
      pattern: '/v1/families/:fid/geofences/:gid',
      segs: [fid, seg('§gid')],
      after: async (r, _c, path) => {
        if (r.status !== 204) return;
        B.geofenceIds = B.geofenceIds.filter((g) => !path.includes(g));
        if (B.geofenceIds.length === 0) B.geofenceIds.push(await createGeofence());
      },
    },
    { method: 'GET', pattern: '/v1/families/:fid/alerts', segs: [fid] },
    // Account and family care (#17).
    { method: 'GET', pattern: '/v1/policy', auth: fc.constantFrom<Auth>('none', 'owner', 'garbage') },
    { method: 'PATCH', pattern: '/v1/me', body: () => fc.record({ nickname: nameArb }) },
    {
      method: 'POST',
      pattern: '/v1/me/password',
      // The victim, whose password the fuzz knows: a success ends its other sessions, so it is replaced.
      auth: fc.oneof({ weight: 4, arbitrary: fc.constant<Auth>('victim') }, { weight: 1, arbitrary: authArb }),
      body: () =>
        fc.record({
          currentPassword: fc.oneof(fc.constant('§victimPassword'), fc.string({ minLength: 1, maxLength: 256 })),
          newPassword: fc.oneof(fc.string({ minLength: 8, maxLength: 256 }), fc.string({ maxLength: 8 })),
        }),
      runs: RUNS_HTTP_SLOW,
      after: async (r, c) => {
        if (r.status < 300 && c.auth === 'victim') B.victim = await makeVictim();
      },
    },
    {
      method: 'POST',
      pattern: '/v1/me/policy',
      body: () => fc.record({ version: fc.oneof(fc.constant('1'), fc.string({ maxLength: 40 })) }),
    },
    {
      method: 'POST',
      pattern: '/v1/auth/password-reset',
      auth: fc.constantFrom<Auth>('none', 'garbage', 'owner'),
      body: () => fc.record({ email: fc.oneof(fc.constant(B.throwaway.email), emailArb) }),
    },
    {
      method: 'POST',
      pattern: '/v1/auth/password-reset/confirm',
      auth: fc.constantFrom<Auth>('none', 'garbage'),
      body: () =>
        fc.record({
          email: fc.oneof(fc.constant(B.throwaway.email), emailArb),
          code: fc.oneof(fc.stringMatching(/^[A-Z0-9]{10}$/), fc.string({ maxLength: 40 })),
          newPassword: fc.string({ minLength: 8, maxLength: 256 }),
        }),
    },
    {
      method: 'PATCH',
      pattern: '/v1/families/:fid',
      segs: [seg(B.familyId, '§sacFamily', A.familyId)],
      body: () => fc.record({ name: nameArb }),
    },
    {
      // Never B's own family: the sacrificial one (B's owner owns it) or A's (refused).
      method: 'DELETE',
      pattern: '/v1/families/:fid',
      segs: [seg('§sacFamily', A.familyId)],
      after: async (r, _c, path) => {
        if (r.status === 204 && path.includes(B.sacFamilyId)) B.sacFamilyId = await createFamily(t, B.owner, 'Sacrificial');
      },
    },
    {
      // Roles below owner only, and never for B's owner or the members whose tokens the fuzz uses:
      // an owner the fuzz made could take B's family from the principals the other routes need.
      method: 'PUT',
      pattern: '/v1/families/:fid/members/:uid',
      segs: [fid, seg('§sacMember', B.owner.id, A.owner.id, B.outsider.id)],
      body: () => fc.record({ role: fc.oneof(fc.constantFrom('guardian', 'viewer'), fc.string({ maxLength: 20 })) }),
    },
    {
      method: 'PUT',
      pattern: '/v1/families/:fid/members/:uid/emergency-contact',
      segs: [fid, seg(B.owner.id, '§sacMember', A.owner.id)],
      body: () => fc.record({ emergencyContact: fc.boolean() }),
    },
    {
      // Who leaves is the sacrificial member (re-added) or someone it refuses (B's last owner, an outsider).
      method: 'POST',
      pattern: '/v1/families/:fid/leave',
      segs: [fid],
      auth: fc.constantFrom<Auth>('sacMember', 'owner', 'outsider', 'deviceB', 'none', 'garbage'),
      after: async (r, c, path) => {
        if (r.status < 300 && c.auth === 'sacMember' && path.includes(B.familyId)) {
          B.sacMember = await addMember(t, B.owner, B.familyId, 'viewer');
        }
      },
    },
    // Notifications (#17).
    {
      method: 'POST',
      pattern: '/v1/push/registrations',
      auth: fc.oneof({ weight: 2, arbitrary: authArb }, { weight: 1, arbitrary: fc.constant<Auth>('none') }),
      body: () =>
        fc.record({
          installationId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{8,40}$/), fc.string({ maxLength: 140 })),
          provider: fc.oneof(fc.constantFrom(...PUSH_PROVIDERS), fc.string({ maxLength: 10 })),
          token: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.stringMatching(/^[A-Za-z0-9_:.-]{8,200}$/), fc.string()),
        }),
    },
    { method: 'GET', pattern: '/v1/me/notifications' },
    {
      method: 'PUT',
      pattern: '/v1/me/notifications',
      body: () =>
        fc.record(
          {
            muted: fc.array(fc.oneof(fc.constantFrom(...MUTABLE_TYPES, 'sos'), fc.string({ maxLength: 40 })), { maxLength: 14 }),
            quietHours: fc.oneof(
              fc.constant(null),
              fc.record(
                {
                  start: fc.oneof(fc.constantFrom('22:00', '07:30', '24:00'), fc.string({ maxLength: 6 })),
                  end: fc.oneof(fc.constantFrom('07:00', '22:00'), fc.string({ maxLength: 6 })),
                  timeZone: fc.oneof(fc.constantFrom('Europe/Berlin', 'UTC', 'Mars/Olympus'), fc.string({ maxLength: 70 })),
                  utcOffsetMinutes: fc.oneof(fc.integer({ min: -900, max: 900 }), fc.double()),
                },
                { requiredKeys: ['start', 'end'] },
              ),
            ),
          },
          { requiredKeys: ['muted'] },
        ),
    },
    { method: 'GET', pattern: '/v1/families/:fid/geofence-events', segs: [fid] },

    { method: 'GET', pattern: '/v1/me/export', runs: RUNS_HTTP / 2 },
    { method: 'GET', pattern: '/v1/families/:fid/devices/:did/export', segs: [fid, did], runs: RUNS_HTTP / 2 },
    { method: 'GET', pattern: '/v1/families/:fid/devices/:did/consents', segs: [fid, did] },
    { method: 'GET', pattern: '/v1/families/:fid/devices/:did/health', segs: [fid, did] },
    {
      method: 'DELETE',
      pattern: '/v1/families/:fid/messages/:mid',
      segs: [fid, seg('00000000-0000-4000-8000-000000000000', A.familyId)],
    },
    {
      method: 'DELETE',
      pattern: '/v1/families/:fid/devices/:did/history',
      // B's main watch keeps its history for the other properties.
      segs: [fid, seg('§sacWatch', A.watch.deviceId, B.freshWatch.deviceId)],
      body: () =>
        fc.record(
          { from: fc.oneof(fc.nat(), fc.integer(), fc.double()), to: fc.oneof(fc.nat(), fc.integer(), fc.double()) },
          { requiredKeys: [] },
        ),
    },
    { method: 'GET', pattern: '/v1/families/:fid/audit', segs: [fid] },
    {
      method: 'DELETE',
      pattern: '/v1/me',
      auth: fc.oneof({ weight: 4, arbitrary: fc.constant<Auth>('victim') }, { weight: 1, arbitrary: authArb }),
      body: () =>
        fc.oneof(
          fc.record({ password: fc.oneof(fc.constant('§victimPassword'), fc.string({ minLength: 1, maxLength: 256 })) }),
          fc.record({ confirm: fc.constantFrom('delete my account', 'Delete my account') }),
          fc.record({ password: fc.constant('§victimPassword'), confirm: fc.constant('delete my account') }),
          fc.constant({}),
        ),
      runs: RUNS_HTTP_SLOW,
      after: async (r, c) => {
        if (r.status === 204 && c.auth === 'victim') B.victim = await makeVictim();
      },
    },
    {
      method: 'POST',
      pattern: '/v1/ops/incidents',
      auth: fc.oneof({ weight: 3, arbitrary: fc.constant<Auth>('ops') }, { weight: 2, arbitrary: authArb }),
      body: () =>
        fc.record(
          {
            message: fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }), longString(1990, 2010)),
            familyIds: fc.array(fc.oneof(fc.constantFrom(B.familyId, A.familyId), idString), { minLength: 1, maxLength: 5 }),
          },
          { requiredKeys: ['message'] },
        ),
    },
    {
      method: 'GET',
      pattern: '/v1/media/:id',
      segs: [seg(B.imageMediaId, B.imageMediaId, A.voiceMediaId)],
      headers: () =>
        fc.record(
          {
            range: fc.oneof(
              fc.tuple(fc.nat({ max: 200 }), fc.nat({ max: 200 })).map(([a, b]) => `bytes=${a}-${b}`),
              fc.nat({ max: 300 }).map((n) => `bytes=-${n}`),
              fc.nat({ max: 300 }).map((n) => `bytes=${n}-`),
              fc.constantFrom(
                'bytes=-',
                'bytes=99999999999999999999-',
                'bytes=0-1,2-3',
                'items=0-1',
                'bytes= 0-1',
                'bytes=-0',
                '',
              ),
              fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
            ),
            'if-none-match': fc.oneof(
              fc.constantFrom(`"${B.imageMediaId}"`, '*', 'W/"x"'),
              fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
            ),
          },
          { requiredKeys: [] },
        ),
    },
  ];
}

const displayPattern = (r: Route) => `${r.method} ${r.pattern}`;

/** Routes without a body or params (the unknown-routes property and the final check call them). */
const NO_INPUT_ROUTES = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'OPTIONS *'];
/** The web app's files (GET /, /app/config.json, /assets/…): fixed paths, no params, no body (test/integration/web.test.ts). */
const isWebFile = (r: string) => /^GET \/(?!v1\/)[^:]*$/.test(r);

/** `METHOD /path` of every route in Fastify's printRoutes() tree (HEAD left out). */
function registeredRoutes(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([^)]*)\))?$/u.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack.length = depth;
    stack.push(path);
    for (const method of (m[3] ?? '').split(', ')) if (method && method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}

async function httpCase(route: Route, c: HttpCase): Promise<void> {
  cases++;
  let i = 0;
  const path = route.pattern.replace(/:\w+/g, () => encodeSeg(c.segs[i++] ?? 'x'));
  const headers: Record<string, string> = { ...authHeader(c.auth, c.garbage), ...c.headers };
  let body: string | undefined;
  if (route.method !== 'GET' && route.method !== 'OPTIONS') {
    if (c.wire.kind === 'json') body = JSON.stringify(resolveDeep(c.body));
    else if (c.wire.kind === 'raw') body = c.wire.raw;
    if (c.wire.contentType !== undefined && (body !== undefined || c.wire.kind === 'none'))
      headers['content-type'] = c.wire.contentType;
  }
  const where = `${route.method} ${path}${c.query}`;
  const r = await httpChecked(
    t.url + path + c.query,
    { method: route.method, headers, ...(body !== undefined ? { body } : {}) },
    where,
    // This hub has no FCM or APNs credentials: registrations for them are refused as such.
    ['push_provider_off'],
  );
  count(displayPattern(route), String(r.status));
  await route.after?.(r, c, path);
}

describe('HTTP fuzz', () => {
  // Built lazily: the arbitraries close over the ids made in beforeAll.
  const names = [
    'POST /v1/auth/register',
    'POST /v1/auth/login',
    'POST /v1/auth/refresh',
    'POST /v1/auth/logout',
    'GET /v1/me',
    'POST /v1/devices/register',
    'POST /v1/families',
    'GET /v1/families',
    'GET /v1/families/:fid',
    'POST /v1/families/:fid/invites',
    'POST /v1/invites/:code/accept',
    'POST /v1/families/:fid/devices',
    'DELETE /v1/families/:fid/devices/:did',
    'DELETE /v1/families/:fid/members/:uid',
    'PUT /v1/families/:fid/devices/:did/permissions',
    'POST /v1/families/:fid/geofences',
    'GET /v1/families/:fid/geofences',
    'GET /v1/families/:fid/geofences/:gid',
    'PUT /v1/families/:fid/geofences/:gid',
    'DELETE /v1/families/:fid/geofences/:gid',
    'GET /v1/families/:fid/alerts',
    'GET /v1/policy',
    'PATCH /v1/me',
    'POST /v1/me/password',
    'POST /v1/me/policy',
    'POST /v1/auth/password-reset',
    'POST /v1/auth/password-reset/confirm',
    'PATCH /v1/families/:fid',
    'DELETE /v1/families/:fid',
    'PUT /v1/families/:fid/members/:uid',
    'PUT /v1/families/:fid/members/:uid/emergency-contact',
    'POST /v1/families/:fid/leave',
    'POST /v1/push/registrations',
    'GET /v1/me/notifications',
    'PUT /v1/me/notifications',
    'GET /v1/families/:fid/geofence-events',
    'GET /v1/me/export',
    'GET /v1/families/:fid/devices/:did/export',
    'GET /v1/families/:fid/devices/:did/consents',
    'GET /v1/families/:fid/devices/:did/health',
    'DELETE /v1/families/:fid/messages/:mid',
    'DELETE /v1/families/:fid/devices/:did/history',
    'GET /v1/families/:fid/audit',
    'DELETE /v1/me',
    'POST /v1/ops/incidents',
    'GET /v1/media/:id',
  ];

  it('has a property for every route of the hub', () => {
    // The list above (the test names) is in step with routes(), and covers what the hub serves.
    expect(routes().map(displayPattern)).toEqual(names);
    const untested = registeredRoutes(t.hub.app.printRoutes({ commonPrefix: false })).filter(
      (r) => !names.includes(r) && !NO_INPUT_ROUTES.includes(r) && !isWebFile(r),
    );
    expect(untested, 'routes the fuzz does not cover: add them to routes()').toEqual([]);
  });

  it.each(names)(
    '%s',
    async (name) => {
      const route = routes().find((r) => displayPattern(r) === name)!;
      const caseArb: fc.Arbitrary<HttpCase> = fc.record({
        auth: route.auth ?? authArb,
        garbage: garbageArb,
        segs: fc.tuple(...(route.segs ?? [])).map((s): string[] => s),
        body: route.body ? fuzzed(route.body()) : randomValue,
        wire:
          route.method === 'GET'
            ? fc.constant<Wire>({ kind: 'none', contentType: undefined })
            : route.body
              ? wireArb
              : fc.oneof(
                  { weight: 3, arbitrary: fc.constant<Wire>({ kind: 'none', contentType: undefined }) },
                  { weight: 1, arbitrary: wireArb },
                ),
        query: queryArb,
        headers: fc
          .tuple(route.headers ? route.headers() : fc.constant({}), originArb)
          .map(([h, origin]): Record<string, string> => ({ ...h, ...(origin !== undefined ? { origin } : {}) })),
      });
      await fc.assert(
        fc.asyncProperty(caseArb, (c) => httpCase(route, c)),
        fcParams(route.runs ?? RUNS_HTTP),
      );
    },
    TIMEOUT,
  );

  it(
    'unknown routes and methods',
    async () => {
      const pathArb = fc.oneof(
        fc.array(segmentArb, { minLength: 1, maxLength: 5 }).map((s) => `/v1/${s.join('/')}`),
        fc.constantFrom(
          '/v1',
          '/v1/',
          '//v1/me',
          '/v1/me/',
          '/V1/ME',
          '/v1/families/',
          '/v1/./me',
          '/socket.io/',
          '/socket.io/?EIO=4&transport=polling&sid=nope',
          '/%',
        ),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
          pathArb,
          authArb,
          originArb,
          async (method, path, auth, origin) => {
            cases++;
            const headers = {
              ...authHeader(auth, 0),
              ...(origin !== undefined ? { origin, 'access-control-request-method': 'POST' } : {}),
            };
            if (path.startsWith('/socket.io/')) {
              // Engine.IO answers these with its own bodies; only the status is ours to check.
              const r = await fetch(t.url + path, { method, headers, signal: AbortSignal.timeout(5000) });
              await r.text();
              expect(r.status, `${method} ${path}`).toBeLessThan(500);
            } else await httpChecked(t.url + path, { method, headers }, `${method} ${path}`);
          },
        ),
        fcParams(60),
      );
    },
    TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------
// Tokens: the socket handshake and bearer authentication

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null')).toString('base64url');

/** A JWT signed with the hub's key (or not), with claims of any shape: past jsonwebtoken's checks. */
function forgeJwt(header: unknown, payload: unknown, secret: string): string {
  const signing = `${b64url(header)}.${b64url(payload)}`;
  return `${signing}.${createHmac('sha256', secret).update(signing).digest('base64url')}`;
}

function tokenArb(): fc.Arbitrary<unknown> {
  const now = () => Math.floor(Date.now() / 1000);
  const claim = (good: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: weirdValue });
  const payload = fc
    .tuple(
      fc.record(
        {
          iss: claim(fc.constant('kidwatch-hub')),
          sub: claim(fc.constantFrom(A.owner.id, A.watch.deviceId, B.owner.id, B.watch.deviceId, 'nobody')),
          typ: claim(fc.constantFrom('user', 'device')),
          ver: claim(fc.constantFrom(0, 1)),
          iat: claim(fc.constant(0).map(now)),
          exp: claim(
            fc.oneof(
              fc.integer({ min: 1, max: 3600 }).map((d) => now() + d),
              fc.constantFrom(1, 2 ** 53, 8.64e12, 1e300),
            ),
          ),
          nbf: claim(fc.constant(0).map(() => now() - 1)),
          scope: claim(fc.constantFrom('ops', '', 'ops ops', ' ops')),
          sid: claim(fc.oneof(fc.uuid(), fc.string())),
        },
        { requiredKeys: [] },
      ),
      fc.array(mutationArb, { maxLength: 2 }),
    )
    .map(([p, ms]) => mutate(p, ms));
  const header = fc.record(
    {
      alg: claim(fc.constantFrom('HS256', 'none', 'RS256', 'HS512')),
      typ: claim(fc.constant('JWT')),
      kid: claim(fc.constant(keyId(JWT_SECRET))),
    },
    { requiredKeys: ['alg'] },
  );
  const forged = fc
    .tuple(header, payload, fc.constantFrom(JWT_SECRET, JWT_SECRET, 'not-the-secret'))
    // A typ JWT header with a payload that is not JSON once answered 500.
    .map(([h, p, k]) => forgeJwt(h, p, k));
  return fc.oneof(
    { weight: 6, arbitrary: forged },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        A.owner.accessToken,
        A.watch.deviceToken,
        `${A.owner.accessToken}x`,
        A.owner.accessToken.toUpperCase(),
      ),
    },
    { weight: 2, arbitrary: weirdValue },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 300 }) },
  );
}

/** Opens a socket with any handshake auth; resolves with the socket or the connect_error. */
function handshake(auth: Record<string, unknown>): Promise<{ socket: Socket } | { error: Error & { data?: unknown } }> {
  const socket = ioClient(t.url, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: ACK_TIMEOUT_MS,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no connect and no connect_error within ${ACK_TIMEOUT_MS} ms`));
    }, ACK_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ socket });
    });
    socket.once('connect_error', (error: Error & { data?: unknown }) => {
      clearTimeout(timer);
      socket.close();
      resolve({ error });
    });
  });
}

describe('token fuzz', () => {
  it(
    'socket handshakes and bearer tokens of any shape',
    async () => {
      const authArb = fc.oneof(
        { weight: 6, arbitrary: tokenArb().map((token) => ({ token })) },
        { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }) },
      );
      await fc.assert(
        fc.asyncProperty(authArb, async (auth) => {
          cases++;
          const where = `handshake ${JSON.stringify(auth)?.slice(0, 200)}`;
          const r = await handshake(auth);
          if ('error' in r) {
            checkErrorBody(r.error.data, `${where}: connect_error (${r.error.message})`);
            count('handshake', (r.error.data as { code: string }).code);
          } else {
            // Accepted: the socket serves (or refuses) like any other.
            count('handshake', 'connected');
            await emitChecked(r.socket, 'presence:list', [{ familyId: A.familyId }], `${where}: presence:list`);
            r.socket.close();
          }
          if (typeof auth.token === 'string' && /^[\x21-\x7e]*$/.test(auth.token) && auth.token.length < 9000) {
            const me = await httpChecked(
              `${t.url}/v1/me`,
              { method: 'GET', headers: { authorization: `Bearer ${auth.token}` } },
              `GET /v1/me with ${where}`,
            );
            count('GET /v1/me (forged tokens)', String(me.status));
          }
        }),
        fcParams(RUNS_HTTP),
      );
    },
    TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------
// After the storm

describe('after the fuzz', () => {
  it('the hub is healthy and serves normal requests', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    const fresh = await connect(t, A.owner.accessToken);
    const presence = await request(fresh, 'presence:list', { familyId: A.familyId });
    expect(presence.ok, JSON.stringify(presence)).toBe(true);
    expect(presence.presence.length).toBeGreaterThanOrEqual(2);
    const watch = await connect(t, A.watch.deviceToken);
    const report = await request(watch, 'location:report', fix({ ts: Date.now() }));
    expect(report).toMatchObject({ ok: true, accepted: 1 });
    const family = await api(t, 'GET', `/v1/families/${B.familyId}`, { token: B.owner.accessToken });
    expect(family.status).toBe(200);
    expect(family.body.role).toBe('owner');
    fresh.disconnect();
    watch.disconnect();
  });

  it('logged no error', () => {
    const errors = t.logs.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
    expect(errors.slice(0, 5)).toEqual([]);
  });
});
