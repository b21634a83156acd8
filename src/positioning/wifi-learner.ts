// The access-point estimator: where a family's own GPS fixes put each access point they heard.
//
// Each GPS fix that hears an AP is one observation of the AP's position: the fix's position, with
// a variance of the fix's accuracy² plus the distance the signal suggests² (log-distance path
// loss: a strong signal means the watch was close). Observations are combined by an
// inverse-variance weighted running mean (West's incremental update), so an accurate, close fix
// counts for much more than a ±80 m fix at the edge of the AP's range (though never for more
// than the average of the evidence before it). Evidence ages: weights
// halve every `halfLifeMs`, and an AP heard of no longer than `maxAgeMs` starts over. An
// observation far outside the AP's spread is an outlier (a bad GPS fix, a reflection) and is not
// counted; several in a row mean the AP moved (a router taken to a new flat), and it starts over
// where it is now heard.
import type { LatLng } from '../geo/geometry.js';
import { type Estimate, moveMeters, offsetMeters, robustCentroid } from './weighted-centroid.js';

export interface ApEstimate extends LatLng {
  /** Decayed sum of the accepted observations' weights (1/m²). */
  weight: number;
  /** Weighted mean squared distance of those observations from the estimate (m²). */
  spread2: number;
  /** Decayed number of accepted observations. */
  count: number;
  /** Observations rejected as outliers in a row. */
  rejects: number;
  firstSeen: number;
  lastSeen: number;
}

/** A GPS fix that heard the AP. */
export interface GpsSighting extends LatLng {
  acc: number;
  ts: number;
  rssi?: number | undefined;
}

export interface LearnerOptions {
  halfLifeMs: number;
  maxAgeMs: number;
  /** GPS fixes less accurate than this say too little about where an AP is. */
  maxGpsAccM: number;
  gateSigmas: number;
  gateFloorM: number;
  /** This many outliers in a row: the AP has moved. */
  moveAfterRejects: number;
  /** An AP is used to locate once its (decayed) count reaches this... */
  minCount: number;
  /** ...and while its observations spread less than this (a bus's or a phone's hotspot does not). */
  maxSpreadM: number;
}

const DAY = 86_400_000;
export const DEFAULT_LEARNER: LearnerOptions = {
  halfLifeMs: 30 * DAY,
  maxAgeMs: 90 * DAY,
  maxGpsAccM: 100,
  gateSigmas: 3,
  gateFloorM: 150,
  moveAfterRejects: 5,
  minCount: 2,
  maxSpreadM: 150,
};

// The estimate's own spread starts from a prior (a typical indoor AP is heard some tens of metres
// around it) worth PRIOR_COUNT observations, so one or two fixes from one spot do not claim a
// tight AP position.
const PRIOR_SPREAD_M = 50;
const PRIOR_COUNT = 2;
/** No GPS fix is trusted to better than this, whatever it claims. */
const MIN_GPS_SIGMA_M = 5;
/** Never claim better than this from Wi-Fi. */
export const MIN_WIFI_ACC_M = 15;

/**
 * Distance (m) the signal suggests: log-distance path loss with -40 dBm at 1 m and an indoor
 * exponent of 3, clamped to what Wi-Fi reaches; unknown signal: a typical indoor range.
 */
export function distanceFromRssi(rssi: number | undefined): number {
  if (rssi === undefined) return 40;
  return Math.min(150, Math.max(3, 10 ** ((-40 - rssi) / 30)));
}

export type LearnOutcome = 'created' | 'updated' | 'rejected' | 'moved' | 'ignored';

/** Folds one sighting into an AP's estimate (undefined: not yet known). Pure. */
export function learn(
  prev: ApEstimate | undefined,
  s: GpsSighting,
  o: LearnerOptions = DEFAULT_LEARNER,
): { estimate: ApEstimate | undefined; outcome: LearnOutcome } {
  if (!(s.acc >= 0) || s.acc > o.maxGpsAccM) return { estimate: prev, outcome: 'ignored' };
  const variance = Math.max(s.acc, MIN_GPS_SIGMA_M) ** 2 + distanceFromRssi(s.rssi) ** 2;
  if (!prev || s.ts - prev.lastSeen > o.maxAgeMs) {
    // Stale evidence stops counting: start over from this sighting.
    return { estimate: fresh(s, variance), outcome: 'created' };
  }
  // Decay the older side: the estimate if this sighting is newer, else this late sighting.
  const newer = s.ts >= prev.lastSeen;
  const prevDecay = newer ? 0.5 ** ((s.ts - prev.lastSeen) / o.halfLifeMs) : 1;
  const obsDecay = newer ? 1 : 0.5 ** ((prev.lastSeen - s.ts) / o.halfLifeMs);

  const off = offsetMeters(prev, s);
  const d2 = off.x * off.x + off.y * off.y;
  const gate = Math.max(o.gateFloorM, o.gateSigmas * Math.sqrt(effectiveSpread2(prev) + variance));
  if (d2 > gate * gate) {
    const rejects = prev.rejects + 1;
    if (rejects >= o.moveAfterRejects) return { estimate: fresh(s, variance), outcome: 'moved' };
    return { estimate: { ...prev, rejects }, outcome: 'rejected' };
  }

  const w0 = prev.weight * prevDecay;
  const c0 = prev.count * prevDecay;
  // No sighting weighs more than the average of the evidence so far: GPS accuracy is often
  // optimistic (multipath), and one confident wrong fix must not drag an AP that others placed.
  const wi = Math.min(obsDecay / variance, w0 / c0);
  const w = w0 + wi;
  const share = wi / w;
  const pos = moveMeters(prev, off.x * share, off.y * share);
  return {
    estimate: {
      lat: pos.lat,
      lng: pos.lng,
      weight: w,
      // West: S' = S + wi·w0/w·d², with S = spread2·w0 (decay scales S and w alike).
      spread2: (prev.spread2 * w0 + (wi * w0 * d2) / w) / w,
      count: c0 + obsDecay,
      rejects: 0,
      firstSeen: Math.min(prev.firstSeen, s.ts),
      lastSeen: Math.max(prev.lastSeen, s.ts),
    },
    outcome: 'updated',
  };
}

function fresh(s: GpsSighting, variance: number): ApEstimate {
  return { lat: s.lat, lng: s.lng, weight: 1 / variance, spread2: 0, count: 1, rejects: 0, firstSeen: s.ts, lastSeen: s.ts };
}

function effectiveSpread2(e: ApEstimate): number {
  return (e.spread2 * e.count + PRIOR_SPREAD_M * PRIOR_SPREAD_M * PRIOR_COUNT) / (e.count + PRIOR_COUNT);
}

/**
 * How far (m, about one sigma) the watch is from the estimate when it hears this AP, as of `now`:
 * the estimate's standard error (1/√weight, growing as evidence ages) plus the spread of the
 * places it was heard from. Shrinks as consistent evidence accumulates.
 */
export function apUncertainty(e: ApEstimate, now: number, o: LearnerOptions = DEFAULT_LEARNER): number {
  const decay = now > e.lastSeen ? 0.5 ** ((now - e.lastSeen) / o.halfLifeMs) : 1;
  return Math.sqrt(1 / (e.weight * decay) + effectiveSpread2(e));
}

/** Whether the AP can locate a watch at `now`: enough recent evidence, not mobile, not in doubt. */
export function isUsable(e: ApEstimate, now: number, o: LearnerOptions = DEFAULT_LEARNER): boolean {
  if (now - e.lastSeen > o.maxAgeMs) return false;
  const decay = now > e.lastSeen ? 0.5 ** ((now - e.lastSeen) / o.halfLifeMs) : 1;
  return e.count * decay >= o.minCount - 1e-9 && Math.sqrt(e.spread2) <= o.maxSpreadM && e.rejects < 2;
}

/**
 * Locates a watch from the learned APs it hears. Each usable AP puts the watch at the AP's
 * estimate with its uncertainty; closer (stronger) APs weigh more; APs that disagree with the
 * others (moved, mis-learned) are dropped, and two that disagree give no answer.
 */
export function locateFromAccessPoints(
  heard: readonly { estimate: ApEstimate; rssi?: number | undefined }[],
  now: number,
  o: LearnerOptions = DEFAULT_LEARNER,
): Estimate | undefined {
  const points = heard
    .filter((h) => isUsable(h.estimate, now, o))
    .map((h) => {
      const sigma = apUncertainty(h.estimate, now, o);
      return {
        lat: h.estimate.lat,
        lng: h.estimate.lng,
        sigma,
        weight: 1 / (sigma * sigma + distanceFromRssi(h.rssi) ** 2),
      };
    });
  const est = robustCentroid(points, { gateSigmas: 3, gateFloorM: 200 });
  return est && { ...est, acc: Math.max(MIN_WIFI_ACC_M, est.acc) };
}
