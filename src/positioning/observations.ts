// What a watch reports when it has no GPS fix: the cell towers and Wi-Fi access points it hears.
// The zod pieces here are for the fix schema (src/contract/schemas.ts) to use; they validate
// strictly (ranges per radio, MAC format) and normalise (lower-case colon MACs, duplicates merged)
// so every later step — cache keys, lookups, the learner — sees one spelling of each identifier.
import { z } from 'zod';
import { RADIO_NAMES, type RadioName } from '../contract/models.js';

export const MAX_CELLS = 16;
export const MAX_WIFI = 32;

/** Radio generations as the hub names them (OpenCellID's names, lower-case): the contract's list. */
export const RADIO_TYPES = RADIO_NAMES;
export type RadioType = RadioName;

// Largest identifiers per radio (3GPP sizes): GSM LAC/CI 16 bits; UMTS and LTE cell ids 28 bits
// (RNC+CI, eNB+cell), their LAC/TAC 16 bits; NR cell ids 36 bits, TAC 24 bits. CDMA reuses the
// fields for SID (15 bits), NID and BID (16 bits).
const LIMITS: Record<RadioType, { mnc: number; lac: number; cid: number }> = {
  gsm: { mnc: 999, lac: 0xffff, cid: 0xffff },
  umts: { mnc: 999, lac: 0xffff, cid: 0xfffffff },
  lte: { mnc: 999, lac: 0xffff, cid: 0xfffffff },
  nr: { mnc: 999, lac: 0xffffff, cid: 2 ** 36 - 1 },
  cdma: { mnc: 0x7fff, lac: 0xffff, cid: 0xffff },
};
/** Bounds that hold whatever the radio (a watch may not say which). */
export const MAX_MNC = 0x7fff;
export const MAX_LAC = 0xffffff;
export const MAX_CID = 2 ** 36 - 1;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** Identifier ranges of one radio, or undefined when they fit. */
export function cellIdProblem(c: { mnc: number; lac: number; cid: number; radio?: RadioType | undefined }): string | undefined {
  if (!c.radio) return undefined;
  const l = LIMITS[c.radio];
  if (c.mnc > l.mnc) return `mnc must be at most ${l.mnc} for ${c.radio}`;
  if (c.lac > l.lac) return `lac must be at most ${l.lac} for ${c.radio}`;
  if (c.cid > l.cid) return `cid must be at most ${l.cid} for ${c.radio}`;
  return undefined;
}

export const cellObservation = z
  .strictObject({
    mcc: int(1, 999),
    mnc: int(0, MAX_MNC),
    lac: int(0, MAX_LAC),
    cid: int(0, MAX_CID),
    /** dBm (LTE RSRP goes down to -140). */
    rssi: int(-150, 0).optional(),
    radio: z.enum(RADIO_TYPES).optional(),
  })
  .superRefine((c, ctx) => {
    const problem = cellIdProblem(c);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
export type CellObservation = z.output<typeof cellObservation>;

const MAC_RE = /^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;

/**
 * `aa:bb:cc:dd:ee:ff` for any of the usual spellings (colons, hyphens, none; any case), or
 * undefined when it is not one, or not a unicast address: an access point's BSSID is never a
 * group address, and all-zero is what broken firmware sends.
 */
export function normaliseMac(input: string): string | undefined {
  if (!MAC_RE.test(input)) return undefined;
  const hex = input.replace(/[:-]/g, '').toLowerCase();
  const first = Number.parseInt(hex.slice(0, 2), 16);
  if ((first & 1) === 1 || /^0{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

export const macAddress = z
  .string()
  .max(17)
  .transform((s, ctx) => {
    const mac = normaliseMac(s);
    if (mac === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a unicast MAC address such as 0a:1b:2c:3d:4e:5f' });
      return z.NEVER;
    }
    return mac;
  });

export const wifiObservation = z.strictObject({
  mac: macAddress,
  /** dBm. */
  rssi: int(-120, 0).optional(),
  /** At most 32 bytes, as in 802.11. Used only to honour the `_nomap` opt-out; never stored or sent. */
  ssid: z
    .string()
    .max(32)
    .refine((s) => Buffer.byteLength(s, 'utf8') <= 32, 'must be at most 32 bytes')
    .optional(),
});
export type WifiObservation = z.output<typeof wifiObservation>;

/** Cells as a fix carries them: bounded, duplicates (same radio and ids) merged keeping the strongest. */
export const cellsField = z.array(cellObservation).max(MAX_CELLS).transform(dedupeCells);
/** Access points as a fix carries them: bounded, duplicate MACs merged keeping the strongest. */
export const wifiField = z.array(wifiObservation).max(MAX_WIFI).transform(dedupeWifi);

/** The keys a fix schema adds: `{ ...fixObservationShape }` on a strict object. */
export const fixObservationShape = { cells: cellsField.optional(), wifi: wifiField.optional() };

export interface Observations {
  cells?: readonly CellObservation[] | undefined;
  wifi?: readonly WifiObservation[] | undefined;
}

/**
 * For the fix schema's superRefine: a position is all of lat/lng/acc or none of them; a fix with
 * none must carry cells or access points and say `wifi` or `cell` as its source. Pass
 * `FIX_POSITION_CHECK` as its params so it runs even when another field is wrong, and the watch
 * author learns every problem at once.
 */
export function checkFixPosition(
  f: Observations & { lat?: number | undefined; lng?: number | undefined; acc?: number | undefined; source: string },
  ctx: z.RefinementCtx,
): void {
  // The common fix, with all three, allocates nothing here.
  if (f.lat !== undefined && f.lng !== undefined && f.acc !== undefined) return;
  const fields = { lat: f.lat, lng: f.lng, acc: f.acc };
  const missing = Object.entries(fields).filter(([, v]) => v === undefined);
  if (missing.length === 0) return;
  if (missing.length < 3) {
    // Named per field, as a missing required field is, so a watch author sees which one.
    for (const [k] of missing) ctx.addIssue({ code: 'custom', path: [k], message: 'required: lat, lng and acc go together' });
    return;
  }
  if (!hasObservations(f)) {
    ctx.addIssue({ code: 'custom', message: 'a fix without lat/lng/acc must carry cells or wifi' });
  } else if (f.source !== 'wifi' && f.source !== 'cell') {
    ctx.addIssue({ code: 'custom', message: 'a fix without lat/lng/acc has source wifi or cell' });
  }
}

/** The refinement's params: it runs on any object, whatever else failed. */
export const FIX_POSITION_CHECK = {
  when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null,
};

export function hasObservations(o: Observations): boolean {
  return (o.cells?.length ?? 0) > 0 || (o.wifi?.length ?? 0) > 0;
}

/** The `_nomap` SSID suffix is the owner's opt-out from location services: such an AP is never used. */
export function isOptedOut(ap: WifiObservation): boolean {
  return ap.ssid !== undefined && /_nomap$/i.test(ap.ssid);
}

export function cellKey(c: { mcc: number; mnc: number; lac: number; cid: number }): string {
  return `${c.mcc}:${c.mnc}:${c.lac}:${c.cid}`;
}

function stronger<T extends { rssi?: number | undefined }>(a: T, b: T): T {
  return (b.rssi ?? -Infinity) > (a.rssi ?? -Infinity) ? b : a;
}

export function dedupeCells(cells: CellObservation[]): CellObservation[] {
  const byKey = new Map<string, CellObservation>();
  for (const c of cells) {
    const k = `${c.radio ?? ''}/${cellKey(c)}`;
    const seen = byKey.get(k);
    byKey.set(k, seen ? stronger(seen, c) : c);
  }
  return [...byKey.values()];
}

export function dedupeWifi(aps: WifiObservation[]): WifiObservation[] {
  const byMac = new Map<string, WifiObservation>();
  for (const ap of aps) {
    const seen = byMac.get(ap.mac);
    // An opt-out seen on any copy wins: the owner asked.
    const keep = seen ? stronger(seen, ap) : ap;
    byMac.set(ap.mac, seen && (isOptedOut(seen) || isOptedOut(ap)) ? { ...keep, ssid: '_nomap' } : keep);
  }
  return [...byMac.values()];
}

/**
 * The JSON kept with a fix (fix_observations): identifiers and signal only. SSIDs are left out
 * (they name homes and schools and are not needed to locate), and opted-out APs are dropped.
 */
export function serialiseObservations(o: Observations): { cells: string | null; wifi: string | null } {
  const cells = (o.cells ?? []).map((c) => ({ mcc: c.mcc, mnc: c.mnc, lac: c.lac, cid: c.cid, rssi: c.rssi, radio: c.radio }));
  const wifi = (o.wifi ?? []).filter((ap) => !isOptedOut(ap)).map((ap) => ({ mac: ap.mac, rssi: ap.rssi }));
  return {
    cells: cells.length > 0 ? JSON.stringify(cells) : null,
    wifi: wifi.length > 0 ? JSON.stringify(wifi) : null,
  };
}
