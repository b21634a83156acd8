// One line of an OpenCellID cell export (cell_towers.csv, and the hourly diffs in the same
// format): radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal.
// The files have no quoting; a line that does not parse strictly is skipped with a reason, so an
// import of a 40-million-line file reports what it left out instead of stopping at the first.
import { MAX_CID, MAX_LAC, MAX_MNC, RADIO_TYPES, type RadioType, cellIdProblem } from './observations.js';

export const OPENCELLID_COLUMNS = [
  'radio',
  'mcc',
  'net',
  'area',
  'cell',
  'unit',
  'lon',
  'lat',
  'range',
  'samples',
  'changeable',
  'created',
  'updated',
  'averageSignal',
] as const;

export const SKIP_REASONS = [
  'field_count',
  'radio',
  'identifiers',
  'position',
  'range',
  'numbers',
  'duplicate_in_file',
  'older_than_stored',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** A cell with more range than this does not locate anyone. */
export const MAX_RANGE_M = 100_000;

export interface TowerRecord {
  radio: RadioType;
  mcc: number;
  net: number;
  area: number;
  cell: number;
  lat: number;
  lng: number;
  rangeM: number;
  samples: number;
  changeable: 0 | 1;
  /** ms since the epoch (the file has seconds). */
  createdAt: number;
  updatedAt: number;
  averageSignal: number | null;
}

export type ParsedLine =
  { ok: true; tower: TowerRecord } | { ok: false; reason: Exclude<SkipReason, 'duplicate_in_file' | 'older_than_stored'> };

const INT_RE = /^-?\d{1,15}$/;
const NUM_RE = /^-?\d{1,4}(\.\d{1,20})?$/;

function int(s: string | undefined): number | undefined {
  return s !== undefined && INT_RE.test(s) ? Number(s) : undefined;
}

export function isHeader(line: string): boolean {
  return line.trim().toLowerCase() === OPENCELLID_COLUMNS.join(',').toLowerCase();
}

export function parseTowerLine(line: string): ParsedLine {
  const f = line.trim().split(',');
  if (f.length !== OPENCELLID_COLUMNS.length) return { ok: false, reason: 'field_count' };
  const radio = f[0]!.toLowerCase() as RadioType;
  if (!RADIO_TYPES.includes(radio)) return { ok: false, reason: 'radio' };

  const [mcc, net, area, cell] = [int(f[1]), int(f[2]), int(f[3]), int(f[4])];
  if (
    mcc === undefined ||
    net === undefined ||
    area === undefined ||
    cell === undefined ||
    mcc < 1 ||
    mcc > 999 ||
    net < 0 ||
    net > MAX_MNC ||
    area < 0 ||
    area > MAX_LAC ||
    cell < 0 ||
    cell > MAX_CID ||
    cellIdProblem({ mnc: net, lac: area, cid: cell, radio }) !== undefined
  ) {
    return { ok: false, reason: 'identifiers' };
  }

  const lng = NUM_RE.test(f[6]!) ? Number(f[6]) : NaN;
  const lat = NUM_RE.test(f[7]!) ? Number(f[7]) : NaN;
  // 0,0 is what a missing position turns into, never a tower.
  if (!(lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180) || (lat === 0 && lng === 0)) {
    return { ok: false, reason: 'position' };
  }
  const range = int(f[8]);
  if (range === undefined || range < 0 || range > MAX_RANGE_M) return { ok: false, reason: 'range' };

  const [samples, changeable, created, updated, signal] = [int(f[9]), int(f[10]), int(f[11]), int(f[12]), int(f[13])];
  if (
    samples === undefined ||
    samples < 0 ||
    (changeable !== 0 && changeable !== 1) ||
    created === undefined ||
    updated === undefined ||
    created < 0 ||
    updated < 0 ||
    created > 1e11 ||
    updated > 1e11 ||
    signal === undefined
  ) {
    return { ok: false, reason: 'numbers' };
  }
  return {
    ok: true,
    tower: {
      radio,
      mcc,
      net,
      area,
      cell,
      lat,
      lng,
      rangeM: range,
      samples,
      changeable,
      createdAt: created * 1000,
      updatedAt: updated * 1000,
      // Most rows say 0: no signal was measured. Anything outside dBm range is unknown too.
      averageSignal: signal < 0 && signal >= -150 ? signal : null,
    },
  };
}
