// The configuration as the hub reads it (what loadConfig in ../config.ts returns): apart from
// the parsing, so the shape the rest of the hub depends on reads in one place.
import type { z } from 'zod';
import type { envSchema } from './env.js';

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
  readonly logLevel: z.output<(typeof envSchema)['HUB_LOG_LEVEL']>;
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
