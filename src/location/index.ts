// Builds the location services of one hub.
import type { Access } from '../auth/access.js';
import type { RoomControl } from '../cluster/room-control.js';
import type { Config } from '../config.js';
import type { PeerMessage, PeerPublisher } from '../cluster/peers.js';
import type { FamilyNotifier } from '../push/family-notifier.js';
import { DeviceDirectory } from '../store/device-directory.js';
import { FixWriter } from '../store/fix-writer.js';
import type { Store } from '../store/store.js';
import { AlertService } from './alerts.js';
import { AreaService } from './area.js';
import { GeofenceService } from './geofence-service.js';
import { LatestPositions, type SharedLatest } from './latest.js';
import { LocationService } from './service.js';

export interface LocationServices {
  devices: DeviceDirectory;
  writer: FixWriter;
  latest: LatestPositions;
  geofences: GeofenceService;
  alerts: AlertService;
  area: AreaService;
  service: LocationService;
}

const DAY_MS = 86_400_000;

export function createLocationServices(o: {
  store: Store;
  access: Access;
  roomControl: RoomControl;
  notifyOffline: FamilyNotifier;
  publish: PeerPublisher;
  /** The cluster's shared newest positions; absent on a single node. */
  sharedLatest?: SharedLatest | undefined;
  clock: () => number;
  config: Config;
}): LocationServices {
  const { store, roomControl, clock, config } = o;
  const loc = config.location;
  const devices = new DeviceDirectory(store, (id) => o.publish({ type: 'device', id }));
  const writer = new FixWriter(store.fixes, { maxRows: loc.batchMaxRows, maxDelayMs: loc.batchMaxDelayMs });
  const latest = new LatestPositions(store, o.sharedLatest);
  const geofences = new GeofenceService(store, loc.geofenceMarginM, (id) => o.publish({ type: 'fences', id }));
  const alerts = new AlertService(store, o.access, roomControl, o.notifyOffline, clock);
  const area = new AreaService(latest, roomControl);
  const service = new LocationService(
    {
      devices,
      writer,
      latest,
      geofences,
      alerts,
      area,
      roomControl,
      clock,
      publishWatchLeft: (id) => o.publish({ type: 'watch-left', id }),
    },
    {
      h3Resolution: config.h3Resolution,
      maxFutureMs: loc.maxFutureS * 1000,
      retentionMs: loc.retentionDays * DAY_MS,
      lowBatteryPercent: loc.lowBatteryPercent,
    },
  );
  return { devices, writer, latest, geofences, alerts, area, service };
}

/** Applies what another node published. */
export function applyPeerMessage(s: LocationServices, msg: PeerMessage): void {
  if (msg.type === 'device') s.devices.invalidate(msg.id, true);
  else if (msg.type === 'fences') s.geofences.invalidateFamily(msg.id, true);
  else s.service.dropCaches(msg.id);
}
