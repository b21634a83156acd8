// The one reader of process.env. Every variable the hub understands is declared here with its
// default and its bounds; a bad value stops the start with a message naming the variable.
import { cpus, hostname } from 'node:os';
import { z } from 'zod';
import { smtpOptionsFromUrl } from './mail/smtp-url.js';

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

const schema = z.object(envSchema).superRefine((v, ctx) => {
  if (v.MEDIASOUP_MAX_PORT - v.MEDIASOUP_MIN_PORT < 10) {
    ctx.addIssue({ code: 'custom', path: ['MEDIASOUP_MAX_PORT'], message: 'must be at least 10 above MEDIASOUP_MIN_PORT' });
  }
  if (v.HUB_PUSH_WEBHOOK_URL && !v.HUB_PUSH_WEBHOOK_SECRET) {
    ctx.addIssue({
      code: 'custom',
      path: ['HUB_PUSH_WEBHOOK_SECRET'],
      message: 'must be set with HUB_PUSH_WEBHOOK_URL (it signs each call)',
    });
  }
  const apns = [v.HUB_PUSH_APNS_KEY_FILE, v.HUB_PUSH_APNS_KEY_ID, v.HUB_PUSH_APNS_TEAM_ID, v.HUB_PUSH_APNS_TOPIC];
  if (apns.some(Boolean) && !apns.every(Boolean)) {
    ctx.addIssue({
      code: 'custom',
      path: ['HUB_PUSH_APNS_KEY_FILE'],
      message: 'APNs needs HUB_PUSH_APNS_KEY_FILE, HUB_PUSH_APNS_KEY_ID, HUB_PUSH_APNS_TEAM_ID and HUB_PUSH_APNS_TOPIC together',
    });
  }
  if ((v.HUB_PUSH_FCM_PROJECT_ID || v.HUB_PUSH_FCM_URL) && !v.HUB_PUSH_FCM_CREDENTIALS_FILE) {
    ctx.addIssue({
      code: 'custom',
      path: ['HUB_PUSH_FCM_CREDENTIALS_FILE'],
      message: 'must be set with HUB_PUSH_FCM_PROJECT_ID or HUB_PUSH_FCM_URL',
    });
  }
  if (v.HUB_GEOLOCATION_API_KEY && !v.HUB_GEOLOCATION_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['HUB_GEOLOCATION_API_KEY'],
      message: 'is only used with HUB_GEOLOCATION_URL (set both, or neither)',
    });
  }
  if (v.HUB_SMTP_URL && !v.HUB_SMTP_FROM) {
    ctx.addIssue({
      code: 'custom',
      path: ['HUB_SMTP_FROM'],
      message: 'must be set with HUB_SMTP_URL (the sender of password-reset mail)',
    });
  }
  if (v.HUB_WATCH_TLS_PORT !== 0 && !(v.HUB_WATCH_TLS_CERT_FILE && v.HUB_WATCH_TLS_KEY_FILE)) {
    ctx.addIssue({
      code: 'custom',
      path: ['HUB_WATCH_TLS_PORT'],
      message: 'needs HUB_WATCH_TLS_CERT_FILE and HUB_WATCH_TLS_KEY_FILE (PEM files)',
    });
  }
  if (v.HUB_WATCH_TLS_PORT !== 0 && v.HUB_WATCH_TLS_PORT === v.HUB_WATCH_TCP_PORT) {
    ctx.addIssue({ code: 'custom', path: ['HUB_WATCH_TLS_PORT'], message: 'must differ from HUB_WATCH_TCP_PORT' });
  }
  if (Boolean(v.HUB_EXTERNAL_ISSUER) !== Boolean(v.HUB_EXTERNAL_ISSUER_PUBLIC_KEY)) {
    ctx.addIssue({
      code: 'custom',
      path: ['HUB_EXTERNAL_ISSUER_PUBLIC_KEY'],
      message: 'HUB_EXTERNAL_ISSUER and HUB_EXTERNAL_ISSUER_PUBLIC_KEY must be set together',
    });
  }
});

type Env = z.infer<typeof schema>;

export interface Config {
  readonly port: number;
  readonly host: string;
  /** This node's name: HUB_NODE_ID, or `<hostname>-<pid>`. Resolved here, once. */
  readonly nodeId: string;
  /** Behind a load balancer: take the client address from X-Forwarded-For (rate limits per IP). */
  readonly trustProxy: boolean;
  readonly dataDir: string;
  /** `sqlite:<path>` or `postgres://…`; the default is a SQLite file in the data dir. */
  readonly databaseUrl: string;
  readonly redisUrl: string | undefined;
  /** Sharded pub/sub (Redis ≥ 7 SPUBLISH) instead of classic pub/sub for the adapter. */
  readonly redisSharded: boolean;
  /** Every Redis key and channel of this hub starts with this. */
  readonly redisPrefix: string;
  /** A node whose heartbeat is older than this no longer counts in presence. */
  readonly nodeHeartbeatMs: number;
  readonly logLevel: Env['HUB_LOG_LEVEL'];
  /** Unset: main.ts creates one in the data dir on first start and keeps it. */
  readonly jwtSecret: string | undefined;
  /** Retired signing secrets, still accepted (by `kid`) until the tokens they signed expire. */
  readonly jwtPreviousSecrets: string[];
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  readonly deviceTokenTtlS: number;
  readonly externalIssuer: { issuer: string; publicKey: string; audience: string | undefined } | undefined;
  readonly provisioningKey: string | undefined;
  readonly bindingCodeTtlS: number;
  readonly inviteTtlS: number;
  readonly socketRate: { points: number; windowS: number };
  /**
   * Multiplies every per-person budget (code guesses, new families, invites, history reads,
   * exports, call starts, alerts): 1 in production; raised by tests and load tests.
   */
  readonly budgetScale: number;
  /** Sockets one user or watch may hold at once on one node. */
  readonly maxSocketsPerPrincipal: number;
  readonly httpAuthRatePerMin: number;
  /** Failed logins allowed per account, and per client address, per 15 minutes. */
  readonly loginMaxFailures: { perAccount: number; perIp: number };
  /** Browser origins allowed to call the API and open sockets; empty: none (apps and watches send no Origin). */
  readonly corsOrigins: string[];
  readonly maxEventBytes: number;
  readonly maxHttpBodyBytes: number;
  readonly drainTimeoutMs: number;
  readonly h3Resolution: number;
  readonly location: {
    readonly retentionDays: number;
    readonly maxFutureS: number;
    readonly batchMaxRows: number;
    readonly batchMaxDelayMs: number;
    readonly geofenceMarginM: number;
    readonly maxGeofencesPerFamily: number;
    readonly lowBatteryPercent: number;
    /** The report interval a watch is assumed to use (until a set_interval command says otherwise). */
    readonly intervalS: number;
    readonly offlineAfterIntervals: number;
    readonly sosRenotifyS: number;
    /** Seconds after the raise at which an unacknowledged SOS is sent (0 = the raise); then every sosRenotifyS. */
    readonly sosEscalationS: readonly number[];
    /** From this many sends on, every send also pushes the family's emergency contacts, connected or not. */
    readonly sosEmergencyAfterSends: number;
    /** A crossing from a fix received this long after it was taken is marked late. */
    readonly geofenceLateMs: number;
    readonly areaStatsIntervalS: number;
    readonly areaActiveWindowS: number;
    /** Area statistics never report a count below this (k-anonymity): fewer show as 0. */
    readonly areaMinCount: number;
  };
  /**
   * The outside provider for fixes without GPS that the local resolvers cannot place (Google
   * Geolocation API format); off (undefined) unless HUB_GEOLOCATION_URL is set.
   */
  readonly geolocation:
    | { readonly url: string; readonly apiKey: string | undefined; readonly timeoutMs: number; readonly cacheEntries: number }
    | undefined;
  readonly chat: {
    readonly retentionDays: number;
    readonly maxTextChars: number;
    readonly maxVoiceBytes: number;
    readonly maxVoiceDurationMs: number;
    readonly maxImageBytes: number;
    /** Stored media bytes a family may hold. */
    readonly familyQuotaBytes: number;
    /** Media bytes one sender may upload per minute and per day. */
    readonly uploadBytesPerMin: number;
    readonly uploadBytesPerDay: number;
  };
  readonly commands: { readonly maxContacts: number; readonly defaultTtlS: number; readonly retentionDays: number };
  readonly auditRetentionDays: number;
  /** Alerts (which carry positions) are deleted this many days after they were raised. */
  readonly alertRetentionDays: number;
  /** Consent records older than this go, but for the one behind each permission's current value. */
  readonly consentRetentionDays: number;
  readonly media: {
    /** Workers to start; 0 turns calls off. Unset: one per core. */
    readonly workers: number;
    readonly listenIp: string;
    readonly announcedIp: string | undefined;
    readonly minPort: number;
    readonly maxPort: number;
  };
  readonly calls: {
    readonly ringTimeoutMs: number;
    readonly maxDurationMs: number;
    readonly graceMs: number;
    readonly maxCallsPerFamily: number;
  };
  /** Voice conversion (AMR-NB for watches, Ogg/Opus for browsers): the ffmpeg binary, found at run time. */
  readonly audio: { readonly ffmpegPath: string };
  /** The 3G-protocol watch gateway (docs/watch-protocol.md): listeners and what one peer may cost. */
  readonly watch: {
    /** Plain TCP; 0: off. */
    readonly tcpPort: number;
    /** TLS, with the certificate and key below; undefined: off. */
    readonly tls: { readonly port: number; readonly certFile: string; readonly keyFile: string } | undefined;
    readonly maxConnectionsPerIp: number;
    readonly maxFramesPerMin: number;
    readonly maxBytesPerMin: number;
    readonly maxFrameBytes: number;
    /** A JXTK recording being put together, per connection. */
    readonly maxVoiceBytes: number;
    readonly idleTimeoutMs: number;
    /** A connection that has not named a registered watch by then is closed. */
    readonly helloTimeoutMs: number;
    /** This many replacements of one watch's connection within the window is a flapping pair (logged). */
    readonly flapReplacements: number;
    readonly flapWindowMs: number;
    readonly healthRetentionDays: number;
  };
  /** The parents' web app's map: a tile URL template and its attribution; unset, the app's offline base map. */
  readonly map: { readonly tilesUrl: string | undefined; readonly tilesAttribution: string | undefined };
  /** Outgoing mail (password resets); undefined without HUB_SMTP_URL: resets answer UNAVAILABLE. */
  readonly smtp: { readonly url: string; readonly from: string } | undefined;
  readonly passwordResetTtlMin: number;
  /** The privacy-policy version users must have accepted (compared numerically, segment by segment). */
  readonly policyVersion: string;
  /** AES-256-GCM key for sensitive fields (contact lists); unset: main.ts keeps one in the data dir. */
  readonly fieldKey: Buffer | undefined;
  readonly push: {
    readonly webhookUrl: string | undefined;
    readonly webhookSecret: string | undefined;
    /** Put message text and coordinates in push payloads (off: ids and kinds only). */
    readonly includeContent: boolean;
    readonly maxAttempts: number;
    /** FCM HTTP v1: the service account's JSON key file; unset, `fcm` registrations are refused. */
    readonly fcm:
      | { readonly credentialsFile: string; readonly projectId: string | undefined; readonly baseUrl: string | undefined }
      | undefined;
    /** APNs with a token (.p8) key; unset, `apns` registrations are refused. */
    readonly apns:
      | {
          readonly keyFile: string;
          readonly keyId: string;
          readonly teamId: string;
          readonly topic: string;
          readonly sandbox: boolean;
          readonly baseUrl: string | undefined;
        }
      | undefined;
    readonly maxInstallationsPerUser: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked = Object.fromEntries(ENV_VARS.map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${String(i.path[0] ?? 'config')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  // PEM keys are often passed on one line with literal "\n".
  const publicKey = e.HUB_EXTERNAL_ISSUER_PUBLIC_KEY?.replace(/\\n/g, '\n');
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    nodeId: e.HUB_NODE_ID ?? `${hostname()}-${process.pid}`,
    trustProxy: e.HUB_TRUST_PROXY,
    dataDir: e.HUB_DATA_DIR,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${e.HUB_DATA_DIR.replace(/\/$/, '')}/hub.sqlite`,
    redisUrl: e.REDIS_URL,
    redisSharded: e.HUB_REDIS_SHARDED,
    redisPrefix: e.HUB_REDIS_PREFIX,
    nodeHeartbeatMs: e.HUB_NODE_HEARTBEAT_MS,
    logLevel: e.HUB_LOG_LEVEL,
    jwtSecret: e.HUB_JWT_SECRET,
    jwtPreviousSecrets: e.HUB_JWT_PREVIOUS_SECRETS ? e.HUB_JWT_PREVIOUS_SECRETS.split(',').map((s) => s.trim()) : [],
    accessTokenTtlS: e.HUB_ACCESS_TOKEN_TTL_S,
    refreshTokenTtlS: e.HUB_REFRESH_TOKEN_TTL_S,
    deviceTokenTtlS: e.HUB_DEVICE_TOKEN_TTL_S,
    externalIssuer:
      e.HUB_EXTERNAL_ISSUER && publicKey
        ? Object.freeze({ issuer: e.HUB_EXTERNAL_ISSUER, publicKey, audience: e.HUB_EXTERNAL_AUDIENCE })
        : undefined,
    provisioningKey: e.HUB_PROVISIONING_KEY,
    bindingCodeTtlS: e.HUB_BINDING_CODE_TTL_S,
    inviteTtlS: e.HUB_INVITE_TTL_S,
    socketRate: Object.freeze({ points: e.HUB_SOCKET_RATE_POINTS, windowS: e.HUB_SOCKET_RATE_WINDOW_S }),
    httpAuthRatePerMin: e.HUB_HTTP_AUTH_RATE_PER_MIN,
    maxSocketsPerPrincipal: e.HUB_MAX_SOCKETS_PER_PRINCIPAL,
    budgetScale: e.HUB_BUDGET_SCALE,
    loginMaxFailures: Object.freeze({ perAccount: e.HUB_LOGIN_MAX_FAILURES, perIp: e.HUB_LOGIN_MAX_FAILURES_PER_IP }),
    corsOrigins: e.HUB_CORS_ORIGINS ? e.HUB_CORS_ORIGINS.split(',').map((o) => o.trim()) : [],
    maxEventBytes: e.HUB_MAX_EVENT_BYTES,
    maxHttpBodyBytes: e.HUB_MAX_HTTP_BODY_BYTES,
    drainTimeoutMs: e.HUB_DRAIN_TIMEOUT_MS,
    h3Resolution: e.HUB_H3_RES,
    location: Object.freeze({
      retentionDays: e.HUB_RETENTION_LOCATION_DAYS,
      maxFutureS: e.HUB_FIX_MAX_FUTURE_S,
      batchMaxRows: e.HUB_FIX_BATCH_MAX_ROWS,
      batchMaxDelayMs: e.HUB_FIX_BATCH_MAX_DELAY_MS,
      geofenceMarginM: e.HUB_GEOFENCE_MARGIN_M,
      maxGeofencesPerFamily: e.HUB_MAX_GEOFENCES_PER_FAMILY,
      lowBatteryPercent: e.HUB_LOW_BATTERY_PERCENT,
      intervalS: e.HUB_LOCATION_INTERVAL_S,
      offlineAfterIntervals: e.HUB_OFFLINE_AFTER_INTERVALS,
      sosRenotifyS: e.HUB_SOS_RENOTIFY_S,
      sosEscalationS: Object.freeze(e.HUB_SOS_ESCALATION_S),
      sosEmergencyAfterSends: e.HUB_SOS_EMERGENCY_AFTER_SENDS,
      geofenceLateMs: e.HUB_GEOFENCE_LATE_S * 1000,
      areaStatsIntervalS: e.HUB_AREA_STATS_INTERVAL_S,
      areaActiveWindowS: e.HUB_AREA_ACTIVE_WINDOW_S,
      areaMinCount: e.HUB_AREA_MIN_COUNT,
    }),
    geolocation: e.HUB_GEOLOCATION_URL
      ? Object.freeze({
          url: e.HUB_GEOLOCATION_URL.trim(),
          apiKey: e.HUB_GEOLOCATION_API_KEY,
          timeoutMs: e.HUB_GEOLOCATION_TIMEOUT_MS,
          cacheEntries: e.HUB_GEOLOCATION_CACHE_ENTRIES,
        })
      : undefined,
    chat: Object.freeze({
      retentionDays: e.HUB_RETENTION_CHAT_DAYS,
      maxTextChars: e.HUB_MAX_TEXT_CHARS,
      maxVoiceBytes: e.HUB_MAX_VOICE_BYTES,
      maxVoiceDurationMs: e.HUB_MAX_VOICE_DURATION_S * 1000,
      maxImageBytes: e.HUB_MAX_IMAGE_BYTES,
      familyQuotaBytes: e.HUB_MEDIA_QUOTA_FAMILY_MB * 1024 * 1024,
      uploadBytesPerMin: e.HUB_MEDIA_UPLOAD_MB_PER_MIN * 1024 * 1024,
      uploadBytesPerDay: e.HUB_MEDIA_UPLOAD_MB_PER_DAY * 1024 * 1024,
    }),
    commands: Object.freeze({
      maxContacts: e.HUB_MAX_CONTACTS,
      defaultTtlS: e.HUB_COMMAND_TTL_S,
      retentionDays: e.HUB_RETENTION_COMMAND_DAYS,
    }),
    auditRetentionDays: e.HUB_RETENTION_AUDIT_DAYS,
    alertRetentionDays: e.HUB_RETENTION_ALERT_DAYS,
    consentRetentionDays: e.HUB_RETENTION_CONSENT_DAYS,
    media: Object.freeze({
      workers: e.MEDIASOUP_WORKERS ?? cpus().length,
      listenIp: e.MEDIASOUP_LISTEN_IP,
      announcedIp: e.MEDIASOUP_ANNOUNCED_IP,
      minPort: e.MEDIASOUP_MIN_PORT,
      maxPort: e.MEDIASOUP_MAX_PORT,
    }),
    calls: Object.freeze({
      ringTimeoutMs: e.HUB_CALL_RING_TIMEOUT_S * 1000,
      maxDurationMs: e.HUB_CALL_MAX_DURATION_S * 1000,
      graceMs: e.HUB_CALL_RECONNECT_GRACE_S * 1000,
      maxCallsPerFamily: e.HUB_MAX_CALLS_PER_FAMILY,
    }),
    audio: Object.freeze({ ffmpegPath: e.HUB_FFMPEG_PATH }),
    watch: Object.freeze({
      tcpPort: e.HUB_WATCH_TCP_PORT,
      tls:
        e.HUB_WATCH_TLS_PORT !== 0 && e.HUB_WATCH_TLS_CERT_FILE && e.HUB_WATCH_TLS_KEY_FILE
          ? Object.freeze({ port: e.HUB_WATCH_TLS_PORT, certFile: e.HUB_WATCH_TLS_CERT_FILE, keyFile: e.HUB_WATCH_TLS_KEY_FILE })
          : undefined,
      maxConnectionsPerIp: e.HUB_WATCH_MAX_CONNECTIONS_PER_IP,
      maxFramesPerMin: e.HUB_WATCH_MAX_FRAMES_PER_MIN,
      maxBytesPerMin: e.HUB_WATCH_MAX_BYTES_PER_MIN,
      maxFrameBytes: e.HUB_WATCH_MAX_FRAME_BYTES,
      maxVoiceBytes: e.HUB_WATCH_MAX_VOICE_BYTES,
      idleTimeoutMs: e.HUB_WATCH_IDLE_TIMEOUT_S * 1000,
      helloTimeoutMs: e.HUB_WATCH_HELLO_TIMEOUT_S * 1000,
      flapReplacements: e.HUB_WATCH_FLAP_REPLACEMENTS,
      flapWindowMs: e.HUB_WATCH_FLAP_WINDOW_S * 1000,
      healthRetentionDays: e.HUB_RETENTION_HEALTH_DAYS,
    }),
    map: Object.freeze({ tilesUrl: e.HUB_MAP_TILES_URL?.trim(), tilesAttribution: e.HUB_MAP_TILES_ATTRIBUTION?.trim() }),
    smtp: e.HUB_SMTP_URL ? Object.freeze({ url: e.HUB_SMTP_URL.trim(), from: e.HUB_SMTP_FROM!.trim() }) : undefined,
    passwordResetTtlMin: e.HUB_PASSWORD_RESET_TTL_MIN,
    policyVersion: e.HUB_POLICY_VERSION,
    fieldKey: e.HUB_FIELD_KEY ? Buffer.from(e.HUB_FIELD_KEY, 'base64') : undefined,
    push: Object.freeze({
      webhookUrl: e.HUB_PUSH_WEBHOOK_URL,
      webhookSecret: e.HUB_PUSH_WEBHOOK_SECRET,
      includeContent: e.HUB_PUSH_INCLUDE_CONTENT,
      maxAttempts: e.HUB_PUSH_MAX_ATTEMPTS,
      fcm: e.HUB_PUSH_FCM_CREDENTIALS_FILE
        ? Object.freeze({
            credentialsFile: e.HUB_PUSH_FCM_CREDENTIALS_FILE,
            projectId: e.HUB_PUSH_FCM_PROJECT_ID,
            baseUrl: e.HUB_PUSH_FCM_URL,
          })
        : undefined,
      apns:
        e.HUB_PUSH_APNS_KEY_FILE && e.HUB_PUSH_APNS_KEY_ID && e.HUB_PUSH_APNS_TEAM_ID && e.HUB_PUSH_APNS_TOPIC
          ? Object.freeze({
              keyFile: e.HUB_PUSH_APNS_KEY_FILE,
              keyId: e.HUB_PUSH_APNS_KEY_ID,
              teamId: e.HUB_PUSH_APNS_TEAM_ID,
              topic: e.HUB_PUSH_APNS_TOPIC,
              sandbox: e.HUB_PUSH_APNS_SANDBOX,
              baseUrl: e.HUB_PUSH_APNS_URL,
            })
          : undefined,
      maxInstallationsPerUser: e.HUB_PUSH_MAX_INSTALLATIONS_PER_USER,
    }),
  });
}
