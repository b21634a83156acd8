// Builds the location services of one hub.
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Backplane } from '../backplane/backplane.js';
import type { Guard } from '../auth/policy.js';
import type { Config } from '../config.js';
import { type Positioning, createPositioning } from '../positioning/setup.js';
import type { FamilyNotifier } from '../push/family-notifier.js';
import type { PushNotification } from '../push/types.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { DeviceDirectory } from '../store/device-directory.js';
import { FixWriter } from '../store/fix-writer.js';
import type { Store } from '../store/store.js';
import { AlertService } from './alerts.js';
import { AreaService } from './area.js';
import { GeofenceEvents } from './geofence-events.js';
import { GeofenceService } from './geofence-service.js';
import { LatestPositions } from './latest.js';
import { WatchLiveness } from './liveness.js';
import { LocationReads } from './reads.js';
import { LocationService } from './service.js';

export interface LocationServices {
  writer: FixWriter;
  positioning: Positioning;
  latest: LatestPositions;
  geofences: GeofenceService;
  geofenceEvents: GeofenceEvents;
  liveness: WatchLiveness;
  alerts: AlertService;
  area: AreaService;
  service: LocationService;
  /** The family's reads: newest positions and history (audited). */
  reads: LocationReads;
  /** At shutdown: lets late positions land, commits waiting fixes, writes learned access points. */
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;

export function createLocationServices(o: {
  store: Store;
  guard: Guard;
  devices: DeviceDirectory;
  backplane: Backplane;
  roomControl: RoomControl;
  notifyOffline: FamilyNotifier;
  /** Pushes to users connected or not (an SOS's emergency contacts). */
  pushUsers: (userIds: readonly string[], n: PushNotification) => Promise<void>;
  emergencyContacts: (familyId: string) => Promise<string[]>;
  clock: () => number;
  config: Config;
  /** The hub's metrics registry (positioning registers its own there). */
  registry: Registry;
  onBackgroundError: (err: unknown, what: string) => void;
}): LocationServices {
  const { store, roomControl, clock, config, backplane } = o;
  const loc = config.location;
  const writer = new FixWriter(store.fixSink, {
    maxRows: loc.batchMaxRows,
    maxDelayMs: loc.batchMaxDelayMs,
    maxInFlight: store.fixBatchesInFlight,
  });
  const latest = new LatestPositions(store, backplane.positions);
  const geofences = new GeofenceService(store, loc.geofenceMarginM, (id) => void backplane.publish({ type: 'fences', id }));
  const geofenceEvents = new GeofenceEvents(store, o.guard, clock);
  const alerts = new AlertService(
    store,
    o.guard,
    roomControl,
    o.notifyOffline,
    clock,
    loc.maxFutureS * 1000,
    {
      scheduleMs: loc.sosEscalationS.map((s) => s * 1000),
      renotifyMs: loc.sosRenotifyS * 1000,
      emergencyAfterSends: loc.sosEmergencyAfterSends,
    },
    o.pushUsers,
    o.emergencyContacts,
  );
  const silenceMs = loc.intervalS * loc.offlineAfterIntervals * 1000;
  const liveness = new WatchLiveness(
    { store, devices: o.devices, latest, alerts, clock, onError: o.onBackgroundError },
    { silenceMs, writeEveryMs: Math.min(silenceMs / 4, 5_000), flushMs: Math.min(silenceMs / 20, 1_000) },
  );
  const area = new AreaService(latest, roomControl, o.guard, {
    minCount: loc.areaMinCount,
    audit: (e) => store.audit.record({ id: randomUUID(), at: clock(), ...e }),
  });
  const positioning = createPositioning({ store, geolocation: config.geolocation, registry: o.registry, clock });
  const service = new LocationService(
    {
      store,
      guard: o.guard,
      devices: o.devices,
      writer,
      latest,
      geofences,
      geofenceEvents,
      notifyOffline: o.notifyOffline,
      liveness,
      alerts,
      area,
      roomControl,
      publishWatchLeft: (id) => backplane.publish({ type: 'watch-left', id }),
      publishHistoryErased: (id, familyId) => backplane.publish({ type: 'history-erased', id, familyId }),
      resolver: positioning.resolver,
      accessPoints: positioning.accessPoints,
      onBackgroundError: o.onBackgroundError,
      clock,
    },
    {
      h3Resolution: config.h3Resolution,
      maxFutureMs: loc.maxFutureS * 1000,
      retentionMs: loc.retentionDays * DAY_MS,
      lowBatteryPercent: loc.lowBatteryPercent,
      geofenceLateMs: loc.geofenceLateMs,
    },
  );
  const reads = new LocationReads({ store, guard: o.guard, latest, clock });
  const close = async () => {
    await service.idle();
    await writer.flush();
    await liveness.flush();
    await positioning.accessPoints.flush();
  };
  return { writer, positioning, latest, geofences, geofenceEvents, liveness, alerts, area, service, reads, close };
}
