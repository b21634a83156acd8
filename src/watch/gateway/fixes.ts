// A decoded 3G position as the contract's Fix: a valid one is a `gps` fix with an accuracy the
// watch's satellite count can honestly claim; an invalid one carries only the cells and Wi-Fi it
// heard (`wifi` or `cell`, located by the hub's positioning), never coordinates, never 0,0.
import type { Fix, FixCell, RadioName } from '../../contract/models.js';
import type { CellRadio, WatchPosition } from '../codec/index.js';

const RADIO: Record<CellRadio, RadioName> = { gsm: 'gsm', wcdma: 'umts', lte: 'lte', cdma: 'cdma' };

/**
 * The protocol carries no HDOP, only the satellites in use: a consumer GNSS chip with many in
 * view is good to about 10 m, with few it is not. These are deliberately on the cautious side.
 */
export function gpsAccuracyM(satellites: number): number {
  if (satellites >= 8) return 10;
  if (satellites >= 6) return 20;
  if (satellites >= 4) return 35;
  return 60;
}

/**
 * The fix's time: the watch's own, unless its clock gave none or is further ahead than the hub
 * accepts (a watch that has not synced its clock); then the time the frame arrived.
 */
function fixTime(p: WatchPosition, now: number, maxFutureMs: number): number {
  if (p.ts === null || p.ts > now + maxFutureMs) return now;
  // The wire has whole seconds: the fix is stamped at the end of its second (never past now), so
  // a watch bound a moment ago does not have its first fix taken for one from before the binding.
  return p.ts <= now ? Math.min(p.ts + 999, now) : p.ts;
}

/** The fix to report, or null when there is nothing to locate (an invalid fix with no cells and no Wi-Fi). */
export function fixOf(p: WatchPosition, now: number, maxFutureMs: number): Fix | null {
  const ts = fixTime(p, now, maxFutureMs);
  const battery = Number.isInteger(p.battery) && p.battery >= 0 && p.battery <= 100 ? p.battery : undefined;
  const common = battery !== undefined ? { ts, battery } : { ts };
  if (p.valid && p.lat !== undefined && p.lng !== undefined) {
    const fix: Fix = { ...common, lat: p.lat, lng: p.lng, acc: gpsAccuracyM(p.satellites), source: 'gps' };
    if (p.altitude >= -1000 && p.altitude <= 20_000) fix.alt = p.altitude;
    const speed = p.speedKmh / 3.6;
    if (speed >= 0 && speed <= 350) fix.speed = Math.round(speed * 100) / 100;
    if (p.course >= 0 && p.course <= 360) fix.heading = p.course;
    return fix;
  }
  // The watch's cell rssi is a vendor scale, not the dBm the contract means: left out.
  const cells: FixCell[] = p.cells.map((c) => {
    const cell: FixCell = { mcc: c.mcc, mnc: c.mnc, lac: c.lac, cid: c.cid };
    if (c.radio) cell.radio = RADIO[c.radio];
    return cell;
  });
  const wifi = p.wifi.map((w) => ({
    mac: w.mac,
    ...(w.rssi !== undefined && w.rssi <= 0 && w.rssi >= -120 ? { rssi: w.rssi } : {}),
    // Only read for the `_nomap` opt-out; never stored.
    ...(w.ssid !== undefined && Buffer.byteLength(w.ssid, 'utf8') <= 32 ? { ssid: w.ssid } : {}),
  }));
  if (cells.length === 0 && wifi.length === 0) return null;
  return {
    ...common,
    source: wifi.length > 0 ? 'wifi' : 'cell',
    ...(cells.length ? { cells } : {}),
    ...(wifi.length ? { wifi } : {}),
  };
}
