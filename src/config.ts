// The one reader of process.env. Every variable the hub understands is declared here with its
// default and its bounds; a bad value stops the start with a message naming the variable.
// The variables themselves are declared in config/env.ts, the Config shape in config/shape.ts;
// this file checks the variables against each other and builds the Config.
import { cpus, hostname } from 'node:os';
import { z } from 'zod';
import { envSchema, ENV_VARS } from './config/env.js';
import type { Config } from './config/shape.js';

export { envSchema, ENV_VARS, tilesHostSource } from './config/env.js';
export type { Config } from './config/shape.js';

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
