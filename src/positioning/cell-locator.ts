// Position from the cell towers a watch hears, using the local tower table (OpenCellID rows).
// A tower row says where the cell's measurements centre and how far they reach (`range`): the
// watch is somewhere in that disc. Each heard tower is weighted by 1/range² (a small cell says
// more) and by its signal (a strong signal means nearby); towers far from the others are
// dropped. The accuracy is the cells' own ranges combined with how much they disagree — a single
// tower's accuracy is its range, never less than what that radio's cells realistically cover.
import type { RadioType } from './observations.js';
import { type Estimate, robustCentroid } from './weighted-centroid.js';

export interface TowerSighting {
  lat: number;
  lng: number;
  rangeM: number;
  samples: number;
  radio: RadioType;
  /** dBm as the watch heard it. */
  rssi?: number | undefined;
}

/**
 * The least range believed per radio: OpenCellID's range is the spread of its measurements,
 * which for a cell seen a few times can be a few metres.
 */
export const MIN_RANGE_M: Record<RadioType, number> = { gsm: 1000, umts: 500, lte: 500, nr: 250, cdma: 1000 };
export const MAX_CELL_ACC_M = 50_000;

/** Relative weight of a signal: ×2 per 6 dB above -85 dBm, bounded so one tower never dominates. */
export function signalFactor(rssi: number | undefined): number {
  if (rssi === undefined) return 1;
  return Math.min(8, Math.max(1 / 8, 2 ** ((rssi + 85) / 6)));
}

/** The watch's position from its heard towers, or undefined when they are none or contradict. */
export function locateFromTowers(towers: readonly TowerSighting[]): Estimate | undefined {
  const points = towers.map((t) => {
    // A cell placed from a couple of measurements may be far from its true centre.
    const sigma = Math.max(t.rangeM, MIN_RANGE_M[t.radio]) * (t.samples < 3 ? 1.5 : 1);
    return { lat: t.lat, lng: t.lng, sigma, weight: signalFactor(t.rssi) / (sigma * sigma) };
  });
  const est = robustCentroid(points, { gateSigmas: 2, gateFloorM: 2000 });
  if (!est) return undefined;
  return { ...est, acc: Math.min(MAX_CELL_ACC_M, Math.max(MIN_RANGE_M.nr, est.acc)) };
}
