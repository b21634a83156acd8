// Pure steps of a report, apart from the service's I/O: the row an accepted fix is stored as, and
// whether the watch's battery is low after it.
import type { Fix } from '../contract/models.js';
import { cellOf } from '../geo/h3.js';
import type { ResolvedPosition } from '../positioning/resolver.js';
import type { FixRow } from '../store/fixes.js';

/** Where a fix is: its own GPS position, or the one a resolver found for it. */
export type Position = Pick<ResolvedPosition, 'lat' | 'lng' | 'acc'> & { source: Fix['source'] };

/** Battery must climb this far above the threshold before another low_battery alert. */
const BATTERY_HYSTERESIS = 5;

/** The stored row of a fix; without a position it is a sign of life (no position at all, never 0,0). */
export function fixRow(deviceId: string, f: Fix, p: Position | undefined, receivedAt: number, h3Resolution: number): FixRow {
  return {
    device_id: deviceId,
    ts: f.ts,
    lat: p?.lat ?? null,
    lng: p?.lng ?? null,
    acc: p?.acc ?? null,
    alt: f.alt ?? null,
    speed: f.speed ?? null,
    heading: f.heading ?? null,
    battery: f.battery ?? null,
    source: p?.source ?? f.source,
    cell: p ? cellOf(p.lat, p.lng, h3Resolution) : null,
    received_at: receivedAt,
  };
}

/** Low once at or under the threshold; back to normal only well above it (no flapping). */
export function batteryLow(wasLow: boolean, battery: number | null, thresholdPercent: number): boolean {
  if (battery === null) return wasLow;
  if (battery <= thresholdPercent) return true;
  return wasLow && battery <= thresholdPercent + BATTERY_HYSTERESIS;
}
