// createServices(deps, config): every use case of the hub, wired once over the implementations the
// caller chose (src/main.ts: the store, the backplane, the media workers, the push provider).
// Transports (Socket.IO events, HTTP routes, the watch gateway) call these and nothing else.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Backplane } from './backplane/backplane.js';
import { Accounts } from './auth/accounts.js';
import { Authenticator } from './auth/authenticator.js';
import { DEFAULT_RESET_LIMITS, PasswordReset, scaleLimits } from './auth/password-reset.js';
import { FieldCipher } from './auth/field-crypto.js';
import { Guard } from './auth/policy.js';
import { TokenService } from './auth/tokens.js';
import { CallService } from './calls/service.js';
import { ChatService } from './chat/service.js';
import { VoiceFormats } from './chat/voice-formats.js';
import { CommandService } from './commands/service.js';
import type { Config } from './config.js';
import type { PeerMessage } from './contract/events.js';
import { FamilyService } from './families/service.js';
import { HealthService } from './health/service.js';
import { Provisioning } from './families/provisioning.js';
import { every } from './jobs/every.js';
import { startLocationJobs } from './jobs/location-jobs.js';
import { startMessagingJobs } from './jobs/messaging-jobs.js';
import { type LocationServices, createLocationServices } from './location/index.js';
import { PlacesService } from './location/places.js';
import type { Mailer } from './mail/mailer.js';
import { type AudioConverter, audioConverter } from './media/audio-convert.js';
import type { Media } from './media/workers.js';
import { HubMetrics } from './metrics.js';
import { PresenceService } from './presence/service.js';
import { PrivacyService } from './privacy/service.js';
import { NotificationService } from './notifications/service.js';
import { familyNotifier } from './push/family-notifier.js';
import { InstallationPush, type InstallationSenders } from './push/installations.js';
import { PushOutbox } from './push/outbox.js';
import type { PushProvider } from './push/types.js';
import { SocketRoomControl } from './realtime/room-control.js';
import { DeviceDirectory } from './store/device-directory.js';
import type { Store } from './store/store.js';

export interface ServiceDeps {
  store: Store;
  logger: Logger;
  backplane: Backplane;
  media: Media;
  pushProvider: PushProvider;
  /** Outgoing mail (password resets); undefined without HUB_SMTP_URL. */
  mailer?: Mailer | undefined;
  /** Senders for app installations' own registrations (FCM, APNs, webhook); absent: none. */
  installationSenders?: InstallationSenders;
  /** The HS256 secret for the hub's own tokens. */
  jwtSecret: string;
  /** The AES-256-GCM key for sensitive fields. */
  fieldKey: Buffer;
  clock?: () => number;
}

export interface Services {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly backplane: Backplane;
  readonly media: Media;
  /** ffmpeg (HUB_FFMPEG_PATH) for voice conversion; shared by every hub of the process using that binary. */
  readonly audio: AudioConverter;
  readonly metrics: HubMetrics;
  readonly clock: () => number;
  readonly newId: () => string;
  readonly roomControl: SocketRoomControl;
  readonly tokens: TokenService;
  readonly authenticator: Authenticator;
  readonly guard: Guard;
  readonly devices: DeviceDirectory;
  readonly accounts: Accounts;
  readonly passwordReset: PasswordReset;
  readonly provisioning: Provisioning;
  readonly families: FamilyService;
  readonly presence: PresenceService;
  readonly location: LocationServices;
  readonly places: PlacesService;
  readonly chat: ChatService;
  readonly commands: CommandService;
  readonly calls: CallService;
  readonly privacy: PrivacyService;
  readonly notifications: NotificationService;
  readonly health: HealthService;
  /** Starts the periodic jobs; returns their stop. */
  startJobs(): () => void;
}

export function createServices(deps: ServiceDeps, config: Config): Services {
  const { store, logger, backplane, media } = deps;
  const clock = deps.clock ?? Date.now;
  const newId = () => randomUUID();
  const metrics = new HubMetrics();
  // TCP watches (src/watch/gateway) have no socket: they count as online by presence, and the
  // commands and family messages meant for them are relayed to the node holding each one.
  const roomControl = new SocketRoomControl({
    alsoOnline: async (p) => p.kind === 'device' && (await backplane.presence.status(p)).online,
    onEmit: (room, event, payload) => {
      if (event === 'command' && room.startsWith('device:')) {
        backplane.relayToWatches({ type: 'command', deviceId: room.slice('device:'.length), command: payload as never });
      } else if (event === 'chat:message' && room.startsWith('family:') && !room.endsWith(':people')) {
        backplane.relayToWatches({
          type: 'chat',
          familyId: room.slice('family:'.length),
          message: (payload as { message: never }).message,
        });
      }
    },
  });
  const audio = audioConverter(config.audio.ffmpegPath);
  metrics.observeAudio(audio);
  const tokens = new TokenService({
    secret: deps.jwtSecret,
    previousSecrets: config.jwtPreviousSecrets,
    accessTtlS: config.accessTokenTtlS,
    deviceTtlS: config.deviceTokenTtlS,
    external: config.externalIssuer,
    clock,
  });
  const authenticator = new Authenticator(tokens, store, clock, newId);
  const devices = new DeviceDirectory(store, (id) => void backplane.publish({ type: 'device', id }));
  const guard = new Guard(store, devices, backplane.limiter, config.budgetScale);
  const installations = new InstallationPush(store.pushRegistrations, deps.installationSenders ?? {}, logger);
  const outbox = new PushOutbox(store.push, deps.pushProvider, {
    maxAttempts: config.push.maxAttempts,
    includeContent: config.push.includeContent,
    clock,
    newId,
    logger,
    installations,
    installationsOf: async (userIds) =>
      (await store.pushRegistrations.forUsers(userIds)).map((r) => ({ userId: r.user_id!, installationId: r.installation_id })),
  });
  const notifications = new NotificationService(
    {
      store,
      guard,
      clock,
      supports: (p) => installations.supports(p),
      enqueue: (userIds, n) => outbox.enqueue(userIds, n),
      onError: (err, what) => logger.error({ err }, `notifications: ${what} failed`),
      closeSenders: () => installations.close(),
    },
    { maxInstallationsPerUser: config.push.maxInstallationsPerUser },
  );
  const notifyOffline = familyNotifier(store, backplane.presence, (userIds, n) => notifications.push(userIds, n));
  const accounts = new Accounts({
    store,
    tokens,
    refreshTtlS: config.refreshTokenTtlS,
    loginMaxFailures: config.loginMaxFailures,
    limiter: backplane.limiter,
    clock,
    newId,
    onSessionEnded: (sid) => {
      roomControl.endSession(sid);
      notifications.sessionEnded(sid);
    },
    guard,
    roomControl,
    policyVersion: config.policyVersion,
  });
  const passwordReset = new PasswordReset({
    store,
    mailer: deps.mailer,
    limiter: backplane.limiter,
    clock,
    ttlMin: config.passwordResetTtlMin,
    limits: scaleLimits(DEFAULT_RESET_LIMITS, config.budgetScale),
    endAllSessions: (uid) => accounts.endSessions(uid, undefined),
    clearLoginFailures: (account) => accounts.clearLoginFailures(account),
    onMailError: (err) => logger.error({ err }, 'password-reset mail failed'),
  });
  const location = createLocationServices({
    store,
    guard,
    devices,
    backplane,
    roomControl,
    notifyOffline,
    pushUsers: (userIds, n) => notifications.push(userIds, n),
    emergencyContacts: (fid) => notifications.emergencyContacts(fid),
    clock,
    config,
    registry: metrics.registry,
    onBackgroundError: (err, what) => logger.error({ err }, `location: ${what} failed`),
  });
  const chat = new ChatService(
    {
      store,
      guard,
      roomControl,
      notifyOffline,
      clock,
      limiter: backplane.limiter,
      metrics,
      onPushError: (err) => logger.error({ err }, 'push enqueue failed'),
      voiceFormats: new VoiceFormats(audio, { clock }),
    },
    config.chat,
  );
  const commands = new CommandService(
    {
      store,
      guard,
      devices,
      roomControl,
      cipher: new FieldCipher(deps.fieldKey),
      clock,
      // The result goes to the member who sent the command, if no app of theirs is connected.
      onFinished: (row) =>
        void (async () => {
          if ((await backplane.presence.status({ kind: 'user', id: row.created_by })).online) return;
          await notifications.push([row.created_by], {
            kind: 'command_result',
            familyId: row.family_id,
            ts: row.updated_at,
            deviceId: row.device_id,
            commandId: row.id,
            commandType: row.type,
            commandStatus: row.status,
          });
        })().catch((err: unknown) => logger.error({ err }, 'push enqueue failed')),
    },
    { maxContacts: config.commands.maxContacts, defaultTtlMs: config.commands.defaultTtlS * 1000 },
  );
  const calls = new CallService(
    {
      media,
      store,
      guard,
      devices,
      roomControl,
      pushRing: (userIds, n) => notifications.push(userIds, n),
      pushMissed: (userIds, n) => notifications.push(userIds, n),
      isOnline: async (p) => (await backplane.presence.status(p)).online,
      clock,
    },
    { nodeId: backplane.nodeId, ...config.calls },
  );
  backplane.serveCalls(calls);
  metrics.observeCalls(calls, media);
  const presence = new PresenceService({ store, guard, presence: backplane.presence, roomControl, clock });
  // A family was deleted (by its owner, or with its last owner's account): what nodes hold of it
  // in memory goes, its learned access points and its fences (on every node).
  const familyDeleted = (fid: string) => {
    location.positioning.accessPoints.forgetFamily(fid);
    location.geofences.invalidateFamily(fid);
  };
  const families = new FamilyService(
    {
      store,
      guard,
      devices,
      roomControl,
      departures: {
        forgetWatchLocation: (did) => location.service.forgetWatch(did),
        withdrawCommands: (did, types) => commands.withdraw(did, types),
        leaveCalls: async (principal, familyId, kinds) => {
          calls.removeParty(principal, familyId, kinds);
          await backplane.publish({ type: 'leave-calls', principal, familyId, ...(kinds ? { media: [...kinds] } : {}) });
        },
      },
      familyDeleted,
      clock,
      newId,
    },
    { inviteTtlS: config.inviteTtlS, bindingCodeTtlS: config.bindingCodeTtlS },
  );
  const provisioning = new Provisioning(
    { store, tokens, devices, roomControl, clock, newId },
    { provisioningKey: config.provisioningKey, bindingCodeTtlS: config.bindingCodeTtlS },
  );
  const places = new PlacesService(
    { store, guard, geofences: location.geofences, clock, newId },
    { maxPerFamily: config.location.maxGeofencesPerFamily },
  );
  const privacy = new PrivacyService(
    {
      store,
      guard,
      roomControl,
      notifyOffline,
      viewCommand: (row) => commands.view(row),
      watchLeft: (did, fid) => families.watchLeft(did, fid),
      familyDeleted,
      confirmPassword: (account, password, hash) => accounts.confirmPassword(account, password, hash),
      clock,
      newId,
    },
    { bindingCodeTtlS: config.bindingCodeTtlS },
  );

  const health = new HealthService({ store, guard, clock, newId });

  // What another node asks of this one.
  backplane.onPeerMessage(async (msg: PeerMessage) => {
    if (msg.type === 'device') devices.invalidate(msg.id, true);
    else if (msg.type === 'fences') location.geofences.invalidateFamily(msg.id, true);
    else if (msg.type === 'watch-left') await location.service.watchLeftHere(msg.id);
    else if (msg.type === 'history-erased') await location.service.historyErasedHere(msg.id, msg.familyId);
    else calls.removeParty(msg.principal, msg.familyId, msg.media);
  });

  const startJobs = () => {
    const stops = [
      // Principals whose node died: offline for their families, and out of their calls here.
      every(config.nodeHeartbeatMs, 'presence-sweep', logger, async () => {
        for (const p of await presence.sweep()) calls.socketsGone(p);
      }),
      startLocationJobs(location, devices, config, clock, logger),
      startMessagingJobs({ store, commands, outbox, config, clock, logger, metrics }),
    ];
    return () => stops.forEach((stop) => stop());
  };

  return {
    config,
    store,
    logger,
    backplane,
    media,
    audio,
    metrics,
    clock,
    newId,
    roomControl,
    tokens,
    authenticator,
    guard,
    devices,
    accounts,
    passwordReset,
    provisioning,
    families,
    presence,
    location,
    places,
    chat,
    commands,
    calls,
    privacy,
    notifications,
    health,
    startJobs,
  };
}
