// Request schemas: every HTTP body, path parameter and socket payload is parsed by one of these
// at the boundary. Objects are strict (an unknown key is a client bug worth reporting) and every
// string and array is bounded.
import { z } from 'zod';
import { HubError } from './errors.js';
import { DEVICE_ALERT_TYPES, FIX_SOURCES, PERMISSION_NAMES, ROLES } from './models.js';

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
  Object.fromEntries(PERMISSION_NAMES.map((p) => [p, z.boolean()])) as Record<
    (typeof PERMISSION_NAMES)[number],
    z.ZodBoolean
  >,
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

const latLng = z.strictObject({ lat, lng });
export const geofenceBody = z
  .strictObject({
    name: z.string().trim().min(1).max(80),
    kind: z.enum(['circle', 'polygon']),
    center: latLng.optional(),
    radius: z.number().optional(),
    polygon: z.array(z.tuple([lat, lng])).max(500).optional(),
    deviceIds: z.array(id).max(100).nullable().optional(),
  })
  .superRefine((g, ctx) => {
    const circle = g.center !== undefined && g.radius !== undefined && g.polygon === undefined;
    const polygon = g.polygon !== undefined && g.center === undefined && g.radius === undefined;
    if (g.kind === 'circle' ? !circle : !polygon) {
      ctx.addIssue({
        code: 'custom',
        message: g.kind === 'circle' ? 'a circle needs center and radius, and no polygon' : 'a polygon needs polygon, and no center or radius',
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
    z.looseObject({ ts: z.unknown() }),
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
  // The command queue comes with messaging; until then only `locate` exists.
  'command:send': z.strictObject({ deviceId: id, type: z.literal('locate'), params: z.strictObject({}).optional(), ttlMs: z.number().int().min(1000).max(86_400_000).optional() }),
} as const;

export type EventName = keyof typeof eventSchemas;
export type EventPayload<E extends EventName> = z.infer<(typeof eventSchemas)[E]>;

/** Parses input at the boundary; a mismatch is a BAD_REQUEST naming the first few problems. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const message = r.error.issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
  throw new HubError('BAD_REQUEST', message);
}
