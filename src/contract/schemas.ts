// Request schemas: every HTTP body, path parameter and socket payload is parsed by one of these
// at the boundary. Objects are strict (an unknown key is a client bug worth reporting) and every
// string and array is bounded.
import { z } from 'zod';
import { E } from './errors.js';
import { COMMAND_TYPES, DEVICE_ALERT_TYPES, FIX_SOURCES, MESSAGE_KINDS, PERMISSION_NAMES, ROLES } from './models.js';

const id = z.string().min(1).max(128);
const email = z.string().trim().toLowerCase().max(254).pipe(z.email());
const password = z.string().min(8).max(256);

/** Luhn check digit, as on every real IMEI. */
export function isValidImei(imei: string): boolean {
  if (!/^\d{15}$/.test(imei)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let d = imei.charCodeAt(i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export const registerBody = z.strictObject({ email, password, nickname: z.string().trim().min(1).max(64) });
export const loginBody = z.strictObject({ email, password: z.string().min(1).max(256) });
export const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(512) });

export const deviceRegisterBody = z.strictObject({
  imei: z.string().refine(isValidImei, 'must be a 15-digit IMEI with a valid check digit'),
  model: z.string().trim().min(1).max(64),
});

export const familyCreateBody = z.strictObject({ name: z.string().trim().min(1).max(80) });
export const inviteCreateBody = z.strictObject({ role: z.enum(ROLES) });
export const deviceBindBody = z.strictObject({
  bindingCode: z.string().trim().min(4).max(64),
  childName: z.string().trim().min(1).max(64),
});
export const permissionsBody = z.strictObject(
  Object.fromEntries(PERMISSION_NAMES.map((p) => [p, z.boolean()])) as Record<(typeof PERMISSION_NAMES)[number], z.ZodBoolean>,
);

export const familyParams = z.strictObject({ fid: id });
export const familyDeviceParams = z.strictObject({ fid: id, did: id });
export const familyMemberParams = z.strictObject({ fid: id, uid: id });
export const inviteParams = z.strictObject({ code: z.string().min(1).max(64) });

const lat = z.number().min(-90).max(90);
const lng = z.number().min(-180).max(180);
const epochMs = z.number().int().min(0).max(8.64e15);

/** One fix. Time bounds (future, retention) depend on the clock and are checked by the ingest. */
export const fixSchema = z.strictObject({
  ts: epochMs,
  lat,
  lng,
  acc: z.number().min(0).max(100_000),
  alt: z.number().min(-1000).max(20_000).optional(),
  speed: z.number().min(0).max(350).optional(),
  heading: z.number().min(0).max(360).optional(),
  battery: z.number().int().min(0).max(100).optional(),
  source: z.enum(FIX_SOURCES),
});

export const MAX_FIXES_PER_REPORT = 100;
export const MAX_AREA_CELLS = 500;
export const MAX_HISTORY_LIMIT = 1000;
export const MAX_SYNC_LIMIT = 500;

export const MAX_CALL_INVITEES = 8;
const callRef = z.strictObject({ callId: z.string().min(1).max(128) });
/** WebRTC parameter objects: shape-checked here, deeply by mediasoup (its errors are BAD_REQUEST). */
const mediaObject = z.looseObject({});
const dtlsParameters = z.looseObject({
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
});

/** Binary data as Socket.IO delivers it to Node: a Buffer (or any byte view). */
const binary = z.custom<Uint8Array>((v) => v instanceof Uint8Array || v instanceof ArrayBuffer, 'must be binary data');

const latLng = z.strictObject({ lat, lng });
export const geofenceBody = z
  .strictObject({
    name: z.string().trim().min(1).max(80),
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
  // not cost the others.
  'location:report': z.union([
    z.strictObject({ fixes: z.array(z.unknown()).min(1).max(MAX_FIXES_PER_REPORT) }),
    z.looseObject({ ts: z.unknown() }).refine((o) => !('fixes' in o), 'send one fix or { fixes }, not both'),
  ]),
  'location:latest': z.strictObject({ familyId: id }),
  'location:history': z.strictObject({
    deviceId: id,
    from: epochMs,
    to: epochMs,
    limit: z.number().int().min(1).max(MAX_HISTORY_LIMIT).optional(),
    cursor: z.string().max(64).optional(),
  }),
  'area:subscribe': z.strictObject({
    cells: z.array(z.string().max(16)).min(1).max(MAX_AREA_CELLS),
    mode: z.enum(['stats', 'positions']),
  }),
  'area:unsubscribe': z.strictObject({ cells: z.array(z.string().max(16)).min(1).max(MAX_AREA_CELLS) }),
  'alert:raise': z.strictObject({ type: z.enum(DEVICE_ALERT_TYPES), ts: epochMs, lat: lat.optional(), lng: lng.optional() }),
  'alert:ack': z.strictObject({ id }),
  'chat:send': z.strictObject({
    conversationId: id,
    clientMsgId: z.string().min(1).max(64),
    kind: z.enum(MESSAGE_KINDS),
    text: z.string().min(1).optional(),
    media: z
      .strictObject({
        data: binary,
        mime: z.string().max(64),
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
    params: z.record(z.string(), z.unknown()).optional(),
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
    result: z.record(z.string(), z.unknown()).optional(),
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
      contacts: z.array(z.strictObject({ name: z.string().trim().min(1).max(64), phone })).max(maxContacts),
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
