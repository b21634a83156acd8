// createServices(deps, config): every use case of the hub, wired once over the implementations the
// caller chose (src/main.ts: the store, the backplane, the media workers, the push provider).
// Transports (Socket.IO events, HTTP routes, the watch gateway) call these and nothing else.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Backplane } from './backplane/backplane.js';
import { Accounts } from './auth/accounts.js';
import { Authenticator } from './auth/authenticator.js';
import { FieldCipher } from './auth/field-crypto.js';
import { Guard } from './auth/policy.js';
import { TokenService } from './auth/tokens.js';
import { CallService } from './calls/service.js';
import { ChatService } from './chat/service.js';
import { CommandService } from './commands/service.js';
import type { Config } from './config.js';
import type { PeerMessage } from './contract/events.js';
import { FamilyService } from './families/service.js';
import { Provisioning } from './families/provisioning.js';
import { every } from './jobs/every.js';
import { startLocationJobs } from './jobs/location-jobs.js';
import { startMessagingJobs } from './jobs/messaging-jobs.js';
import { type LocationServices, createLocationServices } from './location/index.js';
import { PlacesService } from './location/places.js';
import type { Media } from './media/workers.js';
import { HubMetrics } from './metrics.js';
import { PresenceService } from './presence/service.js';
import { PrivacyService } from './privacy/service.js';
import { familyNotifier } from './push/family-notifier.js';
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
  readonly metrics: HubMetrics;
  readonly clock: () => number;
  readonly newId: () => string;
  readonly roomControl: SocketRoomControl;
  readonly tokens: TokenService;
  readonly authenticator: Authenticator;
  readonly guard: Guard;
  readonly devices: DeviceDirectory;
  readonly accounts: Accounts;
  readonly provisioning: Provisioning;
  readonly families: FamilyService;
  readonly presence: PresenceService;
  readonly location: LocationServices;
  readonly places: PlacesService;
  readonly chat: ChatService;
  readonly commands: CommandService;
  readonly calls: CallService;
  readonly privacy: PrivacyService;
  /** Starts the periodic jobs; returns their stop. */
  startJobs(): () => void;
}

export function createServices(deps: ServiceDeps, config: Config): Services {
  const { store, logger, backplane, media } = deps;
  const clock = deps.clock ?? Date.now;
  const newId = () => randomUUID();
  const metrics = new HubMetrics();
  const roomControl = new SocketRoomControl();
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
  const outbox = new PushOutbox(store.push, deps.pushProvider, {
    maxAttempts: config.push.maxAttempts,
    includeContent: config.push.includeContent,
    clock,
    newId,
    logger,
  });
  const notifyOffline = familyNotifier(store, backplane.presence, (userIds, n) => outbox.enqueue(userIds, n));
  const accounts = new Accounts({
    store,
    tokens,
    refreshTtlS: config.refreshTokenTtlS,
    loginMaxFailures: config.loginMaxFailures,
    limiter: backplane.limiter,
    clock,
    newId,
    onSessionEnded: (sid) => roomControl.endSession(sid),
  });
  const location = createLocationServices({
    store,
    guard,
    devices,
    backplane,
    roomControl,
    notifyOffline,
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
    },
    config.chat,
  );
  const commands = new CommandService(
    { store, guard, devices, roomControl, cipher: new FieldCipher(deps.fieldKey), clock },
    { maxContacts: config.commands.maxContacts, defaultTtlMs: config.commands.defaultTtlS * 1000 },
  );
  const calls = new CallService(
    {
      media,
      store,
      guard,
      devices,
      roomControl,
      pushRing: (userIds, n) => outbox.enqueue(userIds, n),
      isOnline: async (p) => (await backplane.presence.status(p)).online,
      clock,
    },
    { nodeId: backplane.nodeId, ...config.calls },
  );
  backplane.serveCalls(calls);
  metrics.observeCalls(calls, media);
  const presence = new PresenceService({ store, guard, presence: backplane.presence, roomControl, clock });
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
      clock,
      newId,
    },
    { inviteTtlS: config.inviteTtlS },
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
      familyDeleted: (fid) => location.positioning.accessPoints.forgetFamily(fid),
      confirmPassword: (account, password, hash) => accounts.confirmPassword(account, password, hash),
      clock,
      newId,
    },
    { bindingCodeTtlS: config.bindingCodeTtlS },
  );

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
    metrics,
    clock,
    newId,
    roomControl,
    tokens,
    authenticator,
    guard,
    devices,
    accounts,
    provisioning,
    families,
    presence,
    location,
    places,
    chat,
    commands,
    calls,
    privacy,
    startJobs,
  };
}
