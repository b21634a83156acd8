// The position layout shared by UD, UD2, UD3, UD_LTE, UD_WCDMA, WT and the AL… alarms:
//   date, time, A|V, lat, N|S|'', lng, E|W|'', speed, course, altitude, satellites, signal,
//   battery, steps, tumbles, status (hex), then cells and Wi-Fi (see parseNetwork).
import { dateTime, decimal, hex, int } from './text.js';
import type { CellRadio, DeviceAlert, StatusFlags, WatchCell, WatchPosition, WatchWifi } from './types.js';

const MAX_CELLS = 16;
const MAX_WIFI = 32;
/** A cell count above this is not a cell list (some firmwares put other things there). */
const MAX_CELL_COUNT = 64;

export type PositionResult = { ok: true; position: WatchPosition } | { ok: false; message: string };

const bit = (word: number, n: number) => Math.floor(word / 2 ** n) % 2 === 1;

/** PROTOCOL "Status bits": 16 sos, 20 removed, 21 or 22 fall, 0 or 17 low battery. */
export function statusFlags(status: number): StatusFlags {
  const alerts: DeviceAlert[] = [];
  if (bit(status, 16)) alerts.push('sos');
  if (bit(status, 21) || bit(status, 22)) alerts.push('fall');
  if (bit(status, 20)) alerts.push('removed');
  return { alerts, lowBattery: bit(status, 0) || bit(status, 17) };
}

/** The radio a frame type names (`UD_LTE`, `AL_LTE`, `UD_WCDMA`); plain `UD` does not say. */
export function radioOf(type: string): CellRadio | undefined {
  const t = type.toUpperCase();
  if (t.endsWith('_LTE')) return 'lte';
  if (t.endsWith('_WCDMA')) return 'wcdma';
  if (t.endsWith('_CDMA')) return 'cdma';
  if (t.endsWith('_GSM')) return 'gsm';
  return undefined;
}

export function decodePosition(type: string, fields: string[]): PositionResult {
  if (fields.length < 16) return { ok: false, message: `${type} needs at least 16 fields, got ${fields.length}` };
  const f = fields.map((s) => s.trim());
  if (!/^\d{6}$/.test(f[0]!) || !/^\d{6}$/.test(f[1]!)) return { ok: false, message: 'date and time must be ddMMyy,HHmmss' };
  const validity = f[2]!;
  if (validity !== 'A' && validity !== 'V') return { ok: false, message: 'validity must be A or V' };
  const latHem = f[4]!.toUpperCase();
  const lngHem = f[6]!.toUpperCase();
  if (!['N', 'S', ''].includes(latHem) || !['E', 'W', ''].includes(lngHem)) {
    return { ok: false, message: 'hemispheres must be N/S and E/W (or empty)' };
  }
  const rawLat = decimal(f[3]);
  const rawLng = decimal(f[5]);
  if (rawLat === null || rawLng === null) return { ok: false, message: 'latitude and longitude must be decimal degrees' };
  // S and W make it negative; an empty hemisphere (or N/E on a watch that already wrote a sign) keeps the sign as sent.
  const lat = latHem === 'S' ? -Math.abs(rawLat) : rawLat;
  const lng = lngHem === 'W' ? -Math.abs(rawLng) : rawLng;

  const names = ['speed', 'course', 'altitude', 'satellites', 'signal', 'battery', 'steps', 'tumbles'] as const;
  const nums: number[] = [];
  for (let i = 0; i < names.length; i++) {
    const s = f[7 + i]!;
    // Some firmwares leave a counter empty; that is 0, but garbage is an error.
    const n = s === '' ? 0 : i < 3 ? decimal(s) : int(s);
    if (n === null) return { ok: false, message: `${names[i]} is not a number` };
    nums.push(n);
  }
  const status = hex(f[15]);
  if (status === null) return { ok: false, message: 'the status word must be hex' };

  // An A fix at 0,0 or off the globe is a watch with no fix that says otherwise: it is never a position.
  const usable = Math.abs(lat) <= 90 && Math.abs(lng) <= 180 && !(lat === 0 && lng === 0);
  const valid = validity === 'A' && usable;
  // Untrimmed: a Wi-Fi name may start or end with a space.
  const { cells, wifi } = parseNetwork(fields.slice(16), radioOf(type));
  const position: WatchPosition = {
    ts: dateTime(f[0]!, f[1]!),
    valid,
    speedKmh: nums[0]!,
    course: nums[1]!,
    altitude: nums[2]!,
    satellites: nums[3]!,
    signal: nums[4]!,
    battery: nums[5]!,
    steps: nums[6]!,
    tumbles: nums[7]!,
    status,
    flags: statusFlags(status),
    cells,
    wifi,
  };
  if (valid) {
    position.lat = lat;
    position.lng = lng;
  }
  return { ok: true, position };
}

/** lac and cid are decimal, but some LTE firmwares write them in hex (then they hold a-f). */
function cellNumber(s: string | undefined): number | null {
  if (s === undefined) return null;
  return /[a-fA-F]/.test(s) ? hex(s) : int(s);
}

const MAC = /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/;
const isMac = (s: string | undefined) => s !== undefined && MAC.test(s.trim()) && !/^(00[:-]){5}00$/.test(s.trim());

/**
 * Cells: `count, ta, mcc, mnc, {lac, cid, rssi}×count`, then Wi-Fi: `count, {ssid, mac, rssi}×count`,
 * then sometimes a trailing field (an accuracy, `0.0`). A malformed network part never fails the fix:
 * what parses is kept, the rest is dropped.
 */
export function parseNetwork(t: string[], radio: CellRadio | undefined): { cells: WatchCell[]; wifi: WatchWifi[] } {
  const cells: WatchCell[] = [];
  const count = int(t[0]);
  if (count === null || count < 0 || count > MAX_CELL_COUNT) return { cells, wifi: [] };
  let wifiAt: number;
  if (count > 0) {
    const mcc = int(t[2]) ?? 0;
    const mnc = int(t[3]) ?? 0;
    for (let k = 0, i = 4; k < count && i + 1 < t.length; k++, i += 3) {
      const lac = cellNumber(t[i]);
      const cid = cellNumber(t[i + 1]);
      const rssi = int(t[i + 2]);
      if (lac === null || cid === null || mcc <= 0 || cells.length >= MAX_CELLS) continue;
      const cell: WatchCell = { mcc, mnc, lac, cid };
      if (rssi !== null) cell.rssi = rssi;
      if (radio) cell.radio = radio;
      cells.push(cell);
    }
    wifiAt = 4 + 3 * count;
  } else {
    // With no cells, some firmwares (SG) still write ta, mcc, mnc; others (3G) go straight to the
    // Wi-Fi count. A real MCC (200–799) where the mcc would be tells them apart.
    const mcc = int(t[2]);
    wifiAt = mcc !== null && mcc >= 200 && mcc <= 799 ? 4 : 1;
  }
  return { cells, wifi: parseWifi(t, wifiAt) };
}

/**
 * The Wi-Fi name rule: an entry is `ssid, mac, rssi`, and the ssid is every field from the entry's
 * first one up to the next field that is a MAC address (six hex pairs, `:` or `-`) followed by an
 * integer RSSI. So a name may hold commas. An entry whose MAC is the placeholder `0` (`name,0,-53`)
 * counts as an entry but is dropped, as it cannot be located.
 */
export function parseWifi(t: string[], at: number): WatchWifi[] {
  const wanted = int(t[at]);
  const out: WatchWifi[] = [];
  if (wanted === null || wanted <= 0) return out;
  let seen = 0;
  let start = at + 1;
  for (let j = start + 1; j < t.length && seen < wanted; j++) {
    if (!isMac(t[j]) || int(t[j + 1]) === null) continue;
    // Placeholder entries ahead of this one: `name,0,rssi` (a name of at least one field). Walked by
    // index, never by slicing, so a frame full of them stays linear.
    let nameStart = start;
    for (let k = nameStart + 1; k + 1 < j && seen < wanted;) {
      if (t[k]!.trim() === '0' && int(t[k + 1]) !== null) {
        seen++;
        nameStart = k + 2;
        k = nameStart + 1;
      } else k++;
    }
    if (seen >= wanted) break;
    seen++;
    const entry: WatchWifi = { mac: t[j]!.trim().toLowerCase().replaceAll('-', ':'), rssi: int(t[j + 1])! };
    const ssid = t.slice(nameStart, j).join(',');
    if (ssid !== '') entry.ssid = ssid;
    if (out.length < MAX_WIFI) out.push(entry);
    start = j + 2;
    j = start;
  }
  return out;
}
