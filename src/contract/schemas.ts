// Request schemas: every HTTP body, path parameter and socket payload is parsed by one of these
// at the boundary. Objects are strict (an unknown key is a client bug worth reporting) and every
// string and array is bounded.
import { z } from 'zod';
import { FIX_POSITION_CHECK, checkFixPosition, fixObservationShape } from '../positioning/observations.js';
import { E } from './errors.js';
import { isValidImei } from './imei.js';
import { COMMAND_TYPES, DEVICE_ALERT_TYPES, FIX_SOURCES, MESSAGE_KINDS, PERMISSION_NAMES, ROLES } from './models.js';

// ---- Text ---------------------------------------------------------------------------------------
// One rule for every string a client sends, in every HTTP body, path parameter and socket payload:
// it is stored and read back exactly as acknowledged, on both databases. PostgreSQL `text` cannot
// hold U+0000 (the query fails: a 500); SQLite stores UTF-8 and silently replaces an unpaired
// surrogate with U+FFFD. Both are refused at the schema (BAD_REQUEST naming the field).

/** U+0000, or a UTF-16 surrogate that is not half of a pair (a /u regex sees pairs as one code point). */
const UNSTORABLE = /\u0000|\p{Cs}/u;
export const isStorableText = (s: string): boolean => !UNSTORABLE.test(s);
export const UNSTORABLE_MESSAGE = 'must not contain U+0000 or an unpaired surrogate';

/**
 * A string of a request: what both stores keep as given. Every string schema starts here, but for
 * patterns that admit only ASCII anyway (IMEI, phone numbers, HH:MM, fingerprints) and passwords.
 */
export const text = () => z.string().refine(isStorableText, UNSTORABLE_MESSAGE);

/**
 * Code points that show nothing by themselves: controls, format characters (zero-width space,
 * joiners, word joiner, BOM, bidi marks…), separators, combining marks with nothing to combine
 * with, the default-ignorable code points (Hangul fillers, variation selectors, tags…) and the
 * blank braille pattern.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}\p{M}\p{Default_Ignorable_Code_Point}\u2800]/gu;
export const hasVisibleCharacter = (s: string): boolean => s.replace(INVISIBLE, '').length > 0;

/**
 * A name people read (nickname, family, child, place, contact, model): trimmed as before, then it
 * must show something, so a member or a watch cannot be made invisible in the apps.
 */
export const visibleName = (max: number) =>
  text().trim().min(1).max(max).refine(hasVisibleCharacter, 'must contain a visible character');

export const id = text().min(1).max(128);
const email = text().trim().toLowerCase().max(254).pipe(z.email());
// Passwords are secrets, not text: never stored or shown, only hashed as UTF-8 bytes. They keep
// z.string() so an account whose password has such a character can still log in.
const password = z.string().min(8).max(256);

// ---- Free-form JSON --------------------------------------------------------------------------------
// Command params and results, WebRTC parameter objects and the fixes of a report arrive as any
// JSON. Something downstream walks them recursively (JSON.stringify, Socket.IO's encoder, zod,
// mediasoup), so a hostile nesting of thousands of levels overflowed the stack there (INTERNAL).
// They are bounded here instead, by an iterative walk that stops at the first excess: its cost is
// bounded by the limits, not by the payload.

/** Levels of objects and arrays; WebRTC capabilities, the deepest legitimate value, need five. */
export const MAX_JSON_DEPTH = 16;
/** Object keys plus array items, over the whole value; full WebRTC capabilities need about 1,000. */
export const MAX_JSON_ENTRIES = 5000;

/** Why a free-form value is refused, or undefined when it is fine. Iterative: no recursion. */
export function jsonProblem(value: unknown, maxDepth = MAX_JSON_DEPTH, maxEntries = MAX_JSON_ENTRIES): string | undefined {
  const stack: [value: unknown, depth: number][] = [[value, 0]];
  let entries = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (!isStorableText(v)) return `strings ${UNSTORABLE_MESSAGE}`;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return 'must be JSON, not binary data';
    if (depth >= maxDepth) return `nests deeper than ${maxDepth} levels`;
    if (Array.isArray(v)) {
      entries += v.length;
      if (entries > maxEntries) return `has more than ${maxEntries} keys and items`;
      for (const item of v) stack.push([item, depth + 1]);
      continue;
    }
    for (const key in v) {
      if (!Object.hasOwn(v, key)) continue;
      if (++entries > maxEntries) return `has more than ${maxEntries} keys and items`;
      if (!isStorableText(key)) return `keys ${UNSTORABLE_MESSAGE}`;
      stack.push([(v as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return undefined;
}

const boundedJson = (value: unknown, ctx: z.RefinementCtx): void => {
  const problem = jsonProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
};

/** Any JSON value, bounded. */
export const jsonValue = () => z.unknown().superRefine(boundedJson);
/** A JSON object with any keys, bounded (keys and values alike). */
// Keys are checked by the walk too (z.string() here, so the message is the walk's).
export const jsonObject = () => z.record(z.string(), z.unknown()).superRefine(boundedJson);

const policyVersion = text().trim().min(1).max(32);
export const registerBody = z.strictObject({
  email,
  password,
  nickname: visibleName(64),
  /** The privacy-policy version the person read and accepted (GET /v1/policy). */
  acceptedPolicyVersion: policyVersion.optional(),
});
export const meUpdateBody = z.strictObject({ nickname: visibleName(64) });
export const passwordChangeBody = z.strictObject({ currentPassword: z.string().min(1).max(256), newPassword: password });
export const passwordResetBody = z.strictObject({ email });
export const passwordResetConfirmBody = z.strictObject({ email, code: text().trim().min(4).max(64), newPassword: password });
export const policyAcceptBody = z.strictObject({ version: policyVersion });
export const loginBody = z.strictObject({ email, password: z.string().min(1).max(256) });
export const refreshBody = z.strictObject({ refreshToken: text().min(1).max(512) });

export const deviceRegisterBody = z.strictObject({
  imei: z.string().refine(isValidImei, 'must be a 15-digit IMEI with a valid check digit'),
  model: visibleName(64),
  /** v1.1: the ID a 3G-protocol watch writes in its frames; default the IMEI. */
  watchId: z
    .string()
    .regex(/^[0-9A-Za-z]{6,20}$/, 'must be 6-20 letters or digits')
    .optional(),
});

export const familyCreateBody = z.strictObject({ name: visibleName(80) });
export const inviteCreateBody = z.strictObject({ role: z.enum(ROLES) });
export const familyRenameBody = z.strictObject({ name: visibleName(80) });
export const memberRoleBody = z.strictObject({ role: z.enum(ROLES) });
export const deviceBindBody = z.strictObject({
  bindingCode: text().trim().min(4).max(64),
  childName: visibleName(64),
});
export const permissionsBody = z.strictObject({
  ...(Object.fromEntries(PERMISSION_NAMES.map((p) => [p, z.boolean()])) as Record<
    (typeof PERMISSION_NAMES)[number],
    z.ZodBoolean
  >),
  // v1.1: optional, so a v1 client's PUT keeps it as it is.
  health: z.boolean().optional(),
});

export const familyParams = z.strictObject({ fid: id });
export const familyDeviceParams = z.strictObject({ fid: id, did: id });
export const familyMemberParams = z.strictObject({ fid: id, uid: id });
export const inviteParams = z.strictObject({ code: text().min(1).max(64) });

const lat = z.number().min(-90).max(90);
const lng = z.number().min(-180).max(180);
export const epochMs = z.number().int().min(0).max(8.64e15);

/** One fix. Time bounds (future, retention) depend on the clock and are checked by the ingest. */
/**
 * One fix. A position is lat, lng and acc together; a fix without one carries the cells and Wi-Fi
 * access points the watch hears (`source` `wifi` or `cell`) and the hub locates it (or keeps it
 * as a sign of life). See src/positioning/observations.ts for the identifiers' rules.
 */
export const fixSchema = z
  .strictObject({
    ts: epochMs,
    lat: lat.optional(),
    lng: lng.optional(),
    acc: z.number().min(0).max(100_000).optional(),
    alt: z.number().min(-1000).max(20_000).optional(),
    speed: z.number().min(0).max(350).optional(),
    heading: z.number().min(0).max(360).optional(),
    battery: z.number().int().min(0).max(100).optional(),
    source: z.enum(FIX_SOURCES),
    ...fixObservationShape,
  })
  .superRefine(checkFixPosition, FIX_POSITION_CHECK);

export const MAX_FIXES_PER_REPORT = 100;
export const MAX_AREA_CELLS = 500;
export const MAX_HISTORY_LIMIT = 1000;
export const MAX_SYNC_LIMIT = 500;

export const MAX_CALL_INVITEES = 8;
const callRef = z.strictObject({ callId: id });
/**
 * WebRTC parameter objects: bounded here (see jsonProblem), checked deeply by mediasoup (its
 * errors are BAD_REQUEST).
 */
const mediaObject = z.looseObject({}).superRefine(boundedJson);
const dtlsParameters = z
  .looseObject({
    role: z.enum(['auto', 'client', 'server']).optional(),
    fingerprints: z
      .array(
        z.strictObject({
          algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']),
          value: z.string().regex(/^([0-9A-Fa-f]{2}:){19,63}[0-9A-Fa-f]{2}$/, 'must be a hex fingerprint'),
        }),
      )
      .min(1)
      .max(8),
  })
  .superRefine(boundedJson);

/** Binary data as Socket.IO delivers it to Node: a Buffer (or any byte view). */
const binary = z.custom<Uint8Array>((v) => v instanceof Uint8Array || v instanceof ArrayBuffer, 'must be binary data');

const latLng = z.strictObject({ lat, lng });
export const geofenceBody = z
  .strictObject({
    name: visibleName(80),
    kind: z.enum(['circle', 'polygon']),
    center: latLng.optional(),
    radius: z.number().optional(),
    polygon: z
      .array(z.tuple([lat, lng]))
      .max(500)
      .optional(),
    deviceIds: z.array(id).min(1).max(100).nullable().optional(),
  })
  .superRefine((g, ctx) => {
    const circle = g.center !== undefined && g.radius !== undefined && g.polygon === undefined;
    const polygon = g.polygon !== undefined && g.center === undefined && g.radius === undefined;
    if (g.kind === 'circle' ? !circle : !polygon) {
      ctx.addIssue({
        code: 'custom',
        message:
          g.kind === 'circle'
            ? 'a circle needs center and radius, and no polygon'
            : 'a polygon needs polygon, and no center or radius',
      });
    }
  });
export const geofenceParams = z.strictObject({ fid: id, gid: id });

/** Socket event payloads, keyed by event name. */
export const eventSchemas = {
  'presence:list': z.strictObject({ familyId: id }),
  // One fix, or `{ fixes }`; each fix is checked on its own (see fixSchema) so one bad fix does
  // not cost the others. The single fix, the commonest report, is tried first: the union stops at
  // the first form that passes, and a failed try costs more than the check itself (the forms are
  // disjoint, so the order changes no answer).
  'location:report': z.union([
    z
      .looseObject({ ts: z.unknown() })
      .refine((o) => !('fixes' in o), 'send one fix or { fixes }, not both')
      .superRefine(boundedJson),
    z.strictObject({ fixes: z.array(jsonValue()).min(1).max(MAX_FIXES_PER_REPORT) }),
  ]),
  'location:latest': z.strictObject({ familyId: id }),
  'location:history': z.strictObject({
    deviceId: id,
    from: epochMs,
    to: epochMs,
    limit: z.number().int().min(1).max(MAX_HISTORY_LIMIT).optional(),
    cursor: text().max(64).optional(),
  }),
  'area:subscribe': z.strictObject({
    cells: z.array(text().max(16)).min(1).max(MAX_AREA_CELLS),
    mode: z.enum(['stats', 'positions']),
  }),
  'area:unsubscribe': z.strictObject({ cells: z.array(text().max(16)).min(1).max(MAX_AREA_CELLS) }),
  'alert:raise': z.strictObject({ type: z.enum(DEVICE_ALERT_TYPES), ts: epochMs, lat: lat.optional(), lng: lng.optional() }),
  'alert:ack': z.strictObject({ id }),
  'chat:send': z.strictObject({
    conversationId: id,
    clientMsgId: text().min(1).max(64),
    kind: z.enum(MESSAGE_KINDS),
    text: text().min(1).optional(),
    media: z
      .strictObject({
        data: binary,
        mime: text().max(64),
        durationMs: z.number().int().positive().max(3_600_000).optional(),
      })
      .optional(),
  }),
  'chat:sync': z.strictObject({
    conversationId: id,
    afterSeq: z.number().int().min(0),
    limit: z.number().int().min(1).max(MAX_SYNC_LIMIT).optional(),
  }),
  'chat:read': z.strictObject({ conversationId: id, seq: z.number().int().min(0) }),
  // Params are checked per type by commandParams() (some bounds come from the config).
  'command:send': z.strictObject({
    deviceId: id,
    type: z.enum(COMMAND_TYPES),
    params: jsonObject().optional(),
    ttlMs: z
      .number()
      .int()
      .min(10_000)
      .max(30 * 86_400_000)
      .optional(),
  }),
  'command:result': z.strictObject({
    id,
    status: z.enum(['done', 'failed', 'rejected']),
    result: jsonObject().optional(),
  }),
  'call:start': z.strictObject({
    familyId: id,
    invitees: z
      .array(z.strictObject({ kind: z.enum(['user', 'device']), id }))
      .min(1)
      .max(MAX_CALL_INVITEES),
    video: z.boolean(),
  }),
  'call:accept': callRef,
  'call:decline': callRef,
  'call:hangup': callRef,
  'call:transport:create': z.strictObject({ callId: id, direction: z.enum(['send', 'recv']) }),
  'call:transport:connect': z.strictObject({ callId: id, transportId: id, dtlsParameters }),
  'call:produce': z.strictObject({ callId: id, transportId: id, kind: z.enum(['audio', 'video']), rtpParameters: mediaObject }),
  'call:consume': z.strictObject({ callId: id, transportId: id, producerId: id, rtpCapabilities: mediaObject }),
  'call:consumer:resume': z.strictObject({ callId: id, consumerId: id }),
  'call:ice:restart': z.strictObject({ callId: id, transportId: id }),
} as const;

const phone = z.string().regex(/^\+?[0-9][0-9 ()-]{2,19}$/, 'must be a phone number');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM');

/** The params schema of each command type; `maxContacts` comes from the config. */
export function commandParams(maxContacts: number) {
  const none = z.strictObject({});
  return {
    locate: none,
    find: none,
    photo: none,
    power_off: none,
    set_interval: z.strictObject({ seconds: z.number().int().min(10).max(86_400) }),
    set_contacts: z.strictObject({
      contacts: z.array(z.strictObject({ name: visibleName(64), phone })).max(maxContacts),
    }),
    set_sos_numbers: z.strictObject({ numbers: z.array(phone).min(1).max(5) }),
    set_quiet_hours: z.strictObject({
      ranges: z
        .array(
          z.strictObject({
            days: z.array(z.number().int().min(0).max(6)).min(1).max(7),
            start: hhmm,
            end: hhmm,
          }),
        )
        .max(10),
    }),
    voice_reminder: z.strictObject({ mediaId: id, at: epochMs.optional() }),
  } as const;
}

export type EventName = keyof typeof eventSchemas;
export type EventPayload<E extends EventName> = z.infer<(typeof eventSchemas)[E]>;

/**
 * The problems of a failed parse, as `path: reason`, at most `max` of them. A missing field says
 * "required" rather than zod's "expected number, received undefined".
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], max: number): string {
  const described = issues.slice(0, max).map((i) => {
    const missing = i.code === 'invalid_type' && /received undefined$/.test(i.message);
    const reason = missing ? 'required' : i.message;
    return i.path.length > 0 ? `${i.path.map(String).join('.')}: ${reason}` : reason;
  });
  if (issues.length > max) described.push(`and ${issues.length - max} more`);
  return described.join('; ');
}

/** Parses input at the boundary; a mismatch is a BAD_REQUEST naming the first few problems. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  let r: z.ZodSafeParseResult<z.infer<S>>;
  try {
    r = schema.safeParse(value);
  } catch {
    // Some hostile shapes (e.g. { length: { toString: false } }) make zod's own checks throw.
    throw E.invalid('malformed payload');
  }
  if (r.success) return r.data;
  throw E.invalid(describeIssues(r.error.issues, 5));
}

export { isValidImei } from './imei.js';
