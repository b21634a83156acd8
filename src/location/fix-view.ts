// Between a stored fix row and what the wire carries: the `location` event and a history entry.
import type { FixSource, LocationEvent, StoredFix } from '../contract/models.js';
import type { PositionedFixRow } from '../store/fixes.js';

export function locationEvent(deviceId: string, familyId: string, r: PositionedFixRow): LocationEvent {
  return {
    deviceId,
    familyId,
    ts: r.ts,
    lat: r.lat,
    lng: r.lng,
    acc: r.acc,
    battery: r.battery,
    source: r.source as FixSource,
    cell: r.cell,
  };
}

export function storedFix(r: PositionedFixRow): StoredFix {
  return {
    ts: r.ts,
    lat: r.lat,
    lng: r.lng,
    acc: r.acc,
    ...(r.alt !== null ? { alt: r.alt } : {}),
    ...(r.speed !== null ? { speed: r.speed } : {}),
    ...(r.heading !== null ? { heading: r.heading } : {}),
    ...(r.battery !== null ? { battery: r.battery } : {}),
    source: r.source as FixSource,
    cell: r.cell,
  };
}
