// Shared geometry of the estimators: a local metric frame (equirectangular around a reference
// point: exact enough over the few kilometres one fix's cells or access points span, and it
// handles the antimeridian) and a weighted centroid that drops the points that disagree.
import { EARTH_RADIUS_M, type LatLng } from '../geo/geometry.js';

const RAD = Math.PI / 180;

/** East/north offset in metres of `p` from `ref`. */
export function offsetMeters(ref: LatLng, p: LatLng): { x: number; y: number } {
  let dLng = p.lng - ref.lng;
  if (dLng > 180) dLng -= 360;
  else if (dLng < -180) dLng += 360;
  return {
    x: dLng * RAD * EARTH_RADIUS_M * Math.cos(ref.lat * RAD),
    y: (p.lat - ref.lat) * RAD * EARTH_RADIUS_M,
  };
}

/** The point `x` metres east and `y` north of `ref`, clamped to valid coordinates. */
export function moveMeters(ref: LatLng, x: number, y: number): LatLng {
  const lat = Math.max(-90, Math.min(90, ref.lat + y / (RAD * EARTH_RADIUS_M)));
  const cos = Math.max(1e-6, Math.cos(ref.lat * RAD));
  let lng = ref.lng + x / (RAD * EARTH_RADIUS_M * cos);
  if (lng > 180) lng -= 360;
  else if (lng < -180) lng += 360;
  return { lat, lng };
}

export interface WeightedPoint extends LatLng {
  /** One-sigma distance (m) between this point and where the watch is. */
  sigma: number;
  /** Relative trust; the points' sigmas give their share of the accuracy. */
  weight: number;
}

export interface CentroidOptions {
  /** A point farther than max(gateFloorM, gateSigmas·σ) from the centroid of the others is dropped. */
  gateSigmas: number;
  gateFloorM: number;
}

export interface Estimate extends LatLng {
  /** Metres, about one sigma: the spread of the points kept plus their typical sigma. */
  acc: number;
  /** How many points the estimate rests on. */
  used: number;
}

/**
 * The weighted centroid of the points that agree. With three or more, the point that lies
 * farthest outside its gate from the centroid of the others is dropped, until all agree; two that
 * disagree are ambiguous (undefined), as is none.
 *
 * The accuracy is not the shrinking standard error of a mean: the points all see the same watch,
 * so their errors are not independent. It is the weighted spread of the points kept around the
 * centroid plus the harmonic mean of their variances — a single point's accuracy is its sigma.
 */
export function robustCentroid(points: readonly WeightedPoint[], opts: CentroidOptions): Estimate | undefined {
  let kept = points.filter((p) => p.weight > 0 && Number.isFinite(p.weight) && p.sigma > 0);
  if (kept.length === 0) return undefined;
  const gate = (p: WeightedPoint) => Math.max(opts.gateFloorM, opts.gateSigmas * p.sigma);
  while (kept.length >= 3) {
    let worst = -1;
    let worstRatio = 1;
    for (let i = 0; i < kept.length; i++) {
      const others = centroid(kept.filter((_, j) => j !== i));
      const p = kept[i]!;
      const d = Math.hypot(offsetMeters(others, p).x, offsetMeters(others, p).y);
      const ratio = d / gate(p);
      if (ratio > worstRatio) {
        worstRatio = ratio;
        worst = i;
      }
    }
    if (worst < 0) break;
    kept = kept.filter((_, j) => j !== worst);
  }
  if (kept.length === 2) {
    const [a, b] = kept as [WeightedPoint, WeightedPoint];
    const o = offsetMeters(a, b);
    if (Math.hypot(o.x, o.y) > Math.max(opts.gateFloorM, opts.gateSigmas * Math.hypot(a.sigma, b.sigma))) return undefined;
  }
  const c = centroid(kept);
  let wSum = 0;
  let spread2 = 0;
  let invVar = 0;
  for (const p of kept) {
    const o = offsetMeters(c, p);
    wSum += p.weight;
    spread2 += p.weight * (o.x * o.x + o.y * o.y);
    invVar += 1 / (p.sigma * p.sigma);
  }
  const acc = Math.sqrt(spread2 / wSum + kept.length / invVar);
  return { lat: c.lat, lng: c.lng, acc, used: kept.length };
}

/** Weighted mean, computed in the local frame of the first point. */
function centroid(points: readonly WeightedPoint[]): LatLng {
  const ref = points[0]!;
  let w = 0;
  let x = 0;
  let y = 0;
  for (const p of points) {
    const o = offsetMeters(ref, p);
    w += p.weight;
    x += p.weight * o.x;
    y += p.weight * o.y;
  }
  return moveMeters(ref, x / w, y / w);
}
