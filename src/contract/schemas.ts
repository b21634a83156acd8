// Request schemas: every HTTP body, path parameter and socket payload is parsed by one of these
// at the boundary. Objects are strict (an unknown key is a client bug worth reporting) and every
// string and array is bounded.
import { z } from 'zod';
import { HubError } from './errors.js';
import { PERMISSION_NAMES, ROLES } from './models.js';

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

/** Socket event payloads, keyed by event name. */
export const eventSchemas = {
  'presence:list': z.strictObject({ familyId: id }),
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
