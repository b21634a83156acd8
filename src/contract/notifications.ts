// Wire shapes of push registrations, notification settings, emergency contacts and stored geofence
// crossings (PROTOCOL.md "Accounts, families and data rights": push lines, geofence-events). Pure.
import { z } from 'zod';

export const PUSH_PROVIDERS = ['fcm', 'apns', 'webhook'] as const;
export type PushRegistrationProvider = (typeof PUSH_PROVIDERS)[number];

/** What a user may mute. `sos` (and operators' incident notices) never can be. */
export const MUTABLE_TYPES = [
  'message',
  'fall',
  'removed',
  'low_battery',
  'offline',
  'geofence',
  'call',
  'missed_call',
  'command_result',
] as const;
export type MutableType = (typeof MUTABLE_TYPES)[number];
export type NotificationType = MutableType | 'sos' | 'incident';

const TOKEN_PATTERNS: Record<PushRegistrationProvider, RegExp> = {
  // APNs device tokens are hex; FCM registration tokens are URL-safe text with ':'.
  apns: /^[0-9a-fA-F]{8,400}$/,
  fcm: /^[A-Za-z0-9_:.\-]{8,4096}$/,
  // The operator's relay decides; printable ASCII without spaces.
  webhook: /^[\x21-\x7e]{1,4096}$/,
};

export const pushRegistrationBody = z
  .strictObject({
    installationId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{8,128}$/, 'installationId must be 8–128 characters of A–Z a–z 0–9 . _ : -'),
    provider: z.enum(PUSH_PROVIDERS),
    token: z.string().min(1).max(4096),
  })
  .superRefine((v, ctx) => {
    if (!TOKEN_PATTERNS[v.provider].test(v.token)) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: `not a ${v.provider} registration token` });
    }
  });

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const quietHoursSchema = z
  .strictObject({
    start: hhmm,
    end: hhmm,
    /** An IANA zone (daylight saving followed), or… */
    timeZone: z.string().min(1).max(64).refine(isTimeZone, 'not a known time zone').optional(),
    /** …a fixed offset from UTC in minutes (e.g. 60 for UTC+1). */
    utcOffsetMinutes: z.number().int().min(-840).max(840).optional(),
  })
  .refine(
    (q) => (q.timeZone === undefined) !== (q.utcOffsetMinutes === undefined),
    'give exactly one of timeZone and utcOffsetMinutes',
  )
  .refine((q) => q.start !== q.end, 'start and end must differ');
export type QuietHours = z.infer<typeof quietHoursSchema>;

export const notificationSettingsBody = z.strictObject({
  muted: z
    .array(z.string().max(32))
    .max(MUTABLE_TYPES.length + 2)
    .superRefine((types, ctx) => {
      for (const t of types) {
        if (t === 'sos' || t === 'incident') ctx.addIssue({ code: 'custom', message: `${t} notifications cannot be muted` });
        else if (!(MUTABLE_TYPES as readonly string[]).includes(t))
          ctx.addIssue({ code: 'custom', message: `unknown type ${t.slice(0, 32)}` });
      }
    })
    .transform((types) => [...new Set(types)] as MutableType[]),
  quietHours: quietHoursSchema.nullable().optional(),
});

export interface NotificationSettingsView {
  muted: MutableType[];
  quietHours: QuietHours | null;
}

export const emergencyContactBody = z.strictObject({ emergencyContact: z.boolean() });

export const geofenceEventsQuery = z.strictObject({
  deviceId: z.string().min(1).max(64).optional(),
  from: z.coerce.number().int().min(0).optional(),
  to: z.coerce.number().int().min(0).optional(),
  cursor: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export interface GeofenceEventView {
  id: string;
  familyId: string;
  geofenceId: string;
  deviceId: string;
  transition: 'enter' | 'exit';
  ts: number;
  lat: number;
  lng: number;
  /** Reported from fixes the watch buffered while out of coverage. */
  late: boolean;
}

/** Minutes since local midnight at `now` in the quiet hours' zone or offset. */
export function localMinutes(q: QuietHours, now: number): number {
  if (q.utcOffsetMinutes !== undefined) {
    const m = Math.floor(now / 60_000) + q.utcOffsetMinutes;
    return ((m % 1440) + 1440) % 1440;
  }
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: q.timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now));
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return (hour % 24) * 60 + minute;
}

const minutesOf = (hm: string) => Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3, 5));

/** Whether `now` falls in the quiet hours [start, end), which may span midnight. */
export function inQuietHours(q: QuietHours, now: number): boolean {
  const m = localMinutes(q, now);
  const start = minutesOf(q.start);
  const end = minutesOf(q.end);
  return start < end ? m >= start && m < end : m >= start || m < end;
}
