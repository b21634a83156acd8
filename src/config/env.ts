// Every environment variable the hub understands, with its default and its bounds, and the
// parsing helpers they share: the per-variable half of the configuration (../config.ts checks
// the variables against each other and builds the Config the hub reads).
import { z } from 'zod';
import { smtpOptionsFromUrl } from '../mail/smtp-url.js';

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** Environment variable name → schema. The keys are the documented variables (docs/config.md). */
export const envSchema = {
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  HUB_NODE_ID: optionalText,
  HUB_TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  HUB_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: optionalText.refine(
    (v) => v === undefined || /^(postgres(ql)?:\/\/|sqlite:)/.test(v),
    'must start with postgres://, postgresql:// or sqlite:',
  ),
  REDIS_URL: optionalText.refine((v) => v === undefined || /^rediss?:\/\//.test(v), 'must start with redis:// or rediss://'),
  HUB_REDIS_SHARDED: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  HUB_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,32}$/, 'must be 1–32 characters of letters, digits and : _ . -')
    .default('hub:'),
  HUB_NODE_HEARTBEAT_MS: int(500, 60_000).default(5000),
  HUB_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HUB_JWT_SECRET: optionalText.refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters'),
  HUB_JWT_PREVIOUS_SECRETS: optionalText.refine(
    (v) => v === undefined || v.split(',').every((s) => s.trim().length >= 32),
    'must be a comma-separated list of secrets of at least 32 characters',
  ),
  HUB_ACCESS_TOKEN_TTL_S: int(30, 86_400).default(900),
  HUB_REFRESH_TOKEN_TTL_S: int(60, 365 * 86_400).default(30 * 86_400),
  HUB_DEVICE_TOKEN_TTL_S: int(60, 5 * 365 * 86_400).default(365 * 86_400),
  HUB_EXTERNAL_ISSUER: optionalText,
  HUB_EXTERNAL_ISSUER_PUBLIC_KEY: optionalText,
  HUB_EXTERNAL_AUDIENCE: optionalText,
  HUB_PROVISIONING_KEY: optionalText.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
  HUB_BINDING_CODE_TTL_S: int(60, 30 * 86_400).default(86_400),
  HUB_INVITE_TTL_S: int(60, 30 * 86_400).default(7 * 86_400),
  HUB_SOCKET_RATE_POINTS: int(1, 100_000).default(30),
  HUB_MAX_SOCKETS_PER_PRINCIPAL: int(1, 10_000).default(16),
  HUB_BUDGET_SCALE: int(1, 1_000_000).default(1),
  HUB_SOCKET_RATE_WINDOW_S: int(1, 3600).default(1),
  HUB_HTTP_AUTH_RATE_PER_MIN: int(1, 100_000).default(60),
  HUB_LOGIN_MAX_FAILURES: int(1, 1000).default(5),
  HUB_LOGIN_MAX_FAILURES_PER_IP: int(1, 100_000).default(30),
  HUB_CORS_ORIGINS: optionalText.refine(
    (v) => v === undefined || v.split(',').every((o) => /^https?:\/\/[^/\s]+$/.test(o.trim())),
    'must be a comma-separated list of origins like https://app.example.com',
  ),
  HUB_MAX_EVENT_BYTES: int(1024, 64 * 1024 * 1024).default(64 * 1024),
  HUB_MAX_HTTP_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(64 * 1024),
  HUB_DRAIN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  HUB_H3_RES: int(0, 15).default(9),
  HUB_RETENTION_LOCATION_DAYS: int(1, 3650).default(30),
  HUB_FIX_MAX_FUTURE_S: int(0, 86_400).default(300),
  HUB_FIX_BATCH_MAX_ROWS: int(1, 10_000).default(500),
  HUB_FIX_BATCH_MAX_DELAY_MS: int(0, 1000).default(4),
  HUB_GEOFENCE_MARGIN_M: int(0, 1000).default(5),
  HUB_MAX_GEOFENCES_PER_FAMILY: int(1, 10_000).default(100),
  HUB_LOW_BATTERY_PERCENT: int(1, 99).default(15),
  HUB_LOCATION_INTERVAL_S: int(5, 86_400).default(60),
  HUB_OFFLINE_AFTER_INTERVALS: int(1, 1000).default(5),
  HUB_SOS_RENOTIFY_S: int(1, 86_400).default(60),
  HUB_AREA_STATS_INTERVAL_S: int(1, 3600).default(5),
  HUB_AREA_ACTIVE_WINDOW_S: int(10, 86_400).default(600),
  HUB_GEOLOCATION_URL: optionalText.refine(
    (v) => v === undefined || (/^https?:\/\/[^\s]+$/.test(v.trim()) && URL.canParse(v.trim())),
    'must be an http(s) URL such as https://www.googleapis.com/geolocation/v1/geolocate',
  ),
  HUB_GEOLOCATION_API_KEY: optionalText.refine((v) => v === undefined || v.length <= 512, 'must be at most 512 characters'),
  HUB_GEOLOCATION_TIMEOUT_MS: int(100, 30_000).default(1500),
  HUB_GEOLOCATION_CACHE_ENTRIES: int(1, 1_000_000).default(10_000),
  HUB_RETENTION_CHAT_DAYS: int(1, 3650).default(90),
  HUB_MAX_TEXT_CHARS: int(1, 10_000).default(2000),
  HUB_MAX_VOICE_BYTES: int(1024, 32 * 1024 * 1024).default(1024 * 1024),
  HUB_MAX_VOICE_DURATION_S: int(1, 600).default(60),
  HUB_MAX_IMAGE_BYTES: int(1024, 32 * 1024 * 1024).default(4 * 1024 * 1024),
  HUB_FFMPEG_PATH: z
    .string()
    .trim()
    .regex(/^[^\s;|&$`'"<>]+$/, 'must be a command name or path, without spaces or shell characters')
    .default('ffmpeg'),
  HUB_MAX_CONTACTS: int(1, 1000).default(50),
  HUB_COMMAND_TTL_S: int(10, 30 * 86_400).default(86_400),
  HUB_FIELD_KEY: optionalText.refine(
    (v) => v === undefined || Buffer.from(v, 'base64').length === 32,
    'must be 32 bytes, base64-encoded',
  ),
  HUB_PUSH_WEBHOOK_URL: optionalText.refine((v) => v === undefined || /^https?:\/\//.test(v), 'must be an http(s) URL'),
  HUB_PUSH_WEBHOOK_SECRET: optionalText.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
  HUB_PUSH_INCLUDE_CONTENT: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  HUB_PUSH_MAX_ATTEMPTS: int(1, 100).default(12),
  HUB_PUSH_FCM_CREDENTIALS_FILE: optionalText,
  HUB_PUSH_FCM_PROJECT_ID: optionalText.refine(
    (v) => v === undefined || /^[a-z0-9-]{1,100}$/i.test(v),
    'must be a Firebase project id',
  ),
  HUB_PUSH_FCM_URL: optionalText.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), 'must be an http(s) URL'),
  HUB_PUSH_APNS_KEY_FILE: optionalText,
  HUB_PUSH_APNS_KEY_ID: optionalText.refine(
    (v) => v === undefined || /^[A-Za-z0-9]{1,32}$/.test(v),
    'must be the key id (letters and digits)',
  ),
  HUB_PUSH_APNS_TEAM_ID: optionalText.refine(
    (v) => v === undefined || /^[A-Za-z0-9]{1,32}$/.test(v),
    'must be the team id (letters and digits)',
  ),
  HUB_PUSH_APNS_TOPIC: optionalText.refine(
    (v) => v === undefined || /^[A-Za-z0-9.-]{1,200}$/.test(v),
    "must be the app's bundle id",
  ),
  HUB_PUSH_APNS_SANDBOX: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  HUB_PUSH_APNS_URL: optionalText.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), 'must be an http(s) URL'),
  HUB_PUSH_MAX_INSTALLATIONS_PER_USER: int(1, 100).default(10),
  HUB_SOS_ESCALATION_S: z
    .string()
    .trim()
    .regex(/^\d{1,6}(\s*,\s*\d{1,6}){0,19}$/, 'must be a comma-separated list of seconds, such as 0,60,180,300')
    .default('0,60,180,300')
    .transform((v) => v.split(',').map((x) => Number(x.trim())))
    .refine((a) => a[0] === 0 && a.every((x, i) => i === 0 || x > a[i - 1]!), 'must start at 0 and increase'),
  HUB_SOS_EMERGENCY_AFTER_SENDS: int(0, 100).default(2),
  HUB_GEOFENCE_LATE_S: int(1, 86_400).default(120),
  HUB_RETENTION_AUDIT_DAYS: int(30, 3650).default(365),
  HUB_RETENTION_ALERT_DAYS: int(1, 3650).default(30),
  HUB_RETENTION_CONSENT_DAYS: int(30, 3650).default(365),
  HUB_AREA_MIN_COUNT: int(1, 1000).default(3),
  MEDIASOUP_WORKERS: int(0, 64).optional(),
  MEDIASOUP_LISTEN_IP: z.ipv4().or(z.ipv6()).default('127.0.0.1'),
  MEDIASOUP_ANNOUNCED_IP: optionalText,
  MEDIASOUP_MIN_PORT: int(1024, 65535).default(40000),
  MEDIASOUP_MAX_PORT: int(1024, 65535).default(49999),
  HUB_CALL_RING_TIMEOUT_S: int(1, 600).default(45),
  HUB_CALL_MAX_DURATION_S: int(10, 24 * 3600).default(3600),
  HUB_CALL_RECONNECT_GRACE_S: int(0, 600).default(15),
  HUB_MAX_CALLS_PER_FAMILY: int(1, 100).default(4),
  HUB_MEDIA_QUOTA_FAMILY_MB: int(1, 1_000_000).default(1024),
  HUB_MEDIA_UPLOAD_MB_PER_MIN: int(1, 10_000).default(32),
  HUB_MEDIA_UPLOAD_MB_PER_DAY: int(1, 100_000).default(256),
  HUB_RETENTION_COMMAND_DAYS: int(1, 3650).default(30),
  HUB_SMTP_URL: optionalText.superRefine((v, ctx) => {
    if (v === undefined) return;
    try {
      smtpOptionsFromUrl(v.trim());
    } catch (err) {
      // The mail module's reason, which never repeats the URL (it holds the password).
      ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (smtp[s]://user:pass@host:port)` });
    }
  }),
  HUB_SMTP_FROM: optionalText.refine(
    (v) => v === undefined || /^(?:[^\r\n<>"]{1,100} )?<?[^\s@,;<>"()[\]\\]+@[^\s@,;<>"()[\]\\]+>?$/.test(v.trim()),
    'must be an address, optionally "Name <address>"',
  ),
  HUB_PASSWORD_RESET_TTL_MIN: int(1, 1440).default(15),
  HUB_POLICY_VERSION: z
    .string()
    .trim()
    .regex(/^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$/, 'must be 1–32 letters, digits and . _ - (e.g. 2026-03-01 or 3)')
    .default('1'),
  HUB_WATCH_TCP_PORT: int(0, 65535).default(5093),
  HUB_WATCH_TLS_PORT: int(0, 65535).default(0),
  HUB_WATCH_TLS_CERT_FILE: optionalText,
  HUB_WATCH_TLS_KEY_FILE: optionalText,
  HUB_WATCH_MAX_CONNECTIONS_PER_IP: int(1, 100_000).default(20),
  HUB_WATCH_MAX_FRAMES_PER_MIN: int(1, 1_000_000).default(300),
  HUB_WATCH_MAX_BYTES_PER_MIN: int(1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
  HUB_WATCH_MAX_FRAME_BYTES: int(1024, 1024 * 1024).default(128 * 1024),
  HUB_WATCH_MAX_VOICE_BYTES: int(1024, 32 * 1024 * 1024).default(512 * 1024),
  HUB_WATCH_IDLE_TIMEOUT_S: int(5, 86_400).default(900),
  HUB_WATCH_HELLO_TIMEOUT_S: int(1, 3600).default(30),
  HUB_WATCH_FLAP_REPLACEMENTS: int(2, 10_000).default(6),
  HUB_WATCH_FLAP_WINDOW_S: int(1, 86_400).default(60),
  HUB_RETENTION_HEALTH_DAYS: int(1, 3650).default(30),
  HUB_MAP_TILES_URL: optionalText.refine(
    (v) => v === undefined || tilesHostSource(v) !== undefined,
    'must be an http(s) URL template with {z}, {x} and {y}, such as https://tile.openstreetmap.org/{z}/{x}/{y}.png',
  ),
  HUB_MAP_TILES_ATTRIBUTION: optionalText.refine((v) => v === undefined || v.length <= 300, 'must be at most 300 characters'),
} as const;

/**
 * The CSP host source that allows a tile URL template's images (`https://tile.example.org`, or
 * `https://*.tile.example.org` for a `{s}` subdomain placeholder); undefined for a template the
 * web app cannot use.
 */
export function tilesHostSource(template: string): string | undefined {
  const m = /^(https?):\/\/([^/?#]+)\/[^\s'";]*$/.exec(template.trim());
  if (!m || !['{z}', '{x}', '{y}'].every((p) => template.includes(p))) return undefined;
  const host = m[2]!.replace(/^\{s\}\./, '*.');
  return /^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i.test(host) ? `${m[1]}://${host}` : undefined;
}

export const ENV_VARS = Object.keys(envSchema) as (keyof typeof envSchema)[];
