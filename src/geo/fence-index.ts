// Cell → fences lookup, so the cost of a fix grows with the fences near it, not with the family's
// total. It only narrows: geometry.ts decides.
//
// Completeness argument for a covering at resolution r. Let x be any point of the fence and C the
// cell holding x. C's centre lies within C's circumradius ρ of x, and ρ ≤ ~1.1 × the average edge
// length of r (measured over the globe, pentagons included). We take the fence's lat/lng box grown
// by BUFFER_EDGES average edges, converted to degrees with a conservative spherical bound, and ask
// H3 for every cell whose centre is in it (polygonToCells' centre test on an axis-aligned lat/lng
// box is exact). So C's centre is in the grown box and C is in the covering. The gridDisk(1) ring
// and the seed cell are belt and braces for rounding at the box edge.
import { getHexagonAreaAvg, getHexagonEdgeLengthAvg, gridDisk, polygonToCells } from 'h3-js';
import { EARTH_RADIUS_M } from './geometry.js';
import type { FenceShape, LatLng } from './geometry.js';
import { cellOf } from './h3.js';

export interface IndexedFence {
  id: string;
  shape: FenceShape;
  deviceIds: readonly string[] | null;
}

const RESOLUTIONS = [7, 6, 5, 4] as const;
const MAX_CELLS = 2000;
const BUFFER_EDGES = 1.5;
/** Stay off the pole itself, where every longitude is the same point; the ring covers the cap. */
const MAX_LAT = 89.999;
const DEG = 180 / Math.PI;

/** Lat/lng box; lng bounds may leave [-180, 180] (wrapped when covering); full means all lngs. */
interface Box {
  south: number;
  north: number;
  west: number;
  east: number;
}

function shapeBox(shape: FenceShape): Box {
  if (shape.kind === 'circle') {
    const { lat, lng } = shape.center;
    return grow({ south: lat, north: lat, west: lng, east: lng }, shape.radius);
  }
  let box: Box = { south: Infinity, north: -Infinity, west: Infinity, east: -Infinity };
  for (const [lat, lng] of shape.polygon) {
    box = {
      south: Math.min(box.south, lat),
      north: Math.max(box.north, lat),
      west: Math.min(box.west, lng),
      east: Math.max(box.east, lng),
    };
  }
  return box;
}

/**
 * Box holding every point within `meters` of the box. Latitude grows by the angle itself; a point
 * at angular distance a differs in lng by at most 2·asin(sin(a/2) / cos φmax) (haversine), where
 * φmax is the most poleward latitude either point can have.
 */
function grow(b: Box, meters: number): Box {
  const a = meters / EARTH_RADIUS_M;
  const south = b.south - a * DEG;
  const north = b.north + a * DEG;
  const phiMax = Math.max(Math.abs(south), Math.abs(north)) / DEG;
  const s = Math.sin(a / 2) / Math.cos(phiMax);
  const full = phiMax >= Math.PI / 2 || s >= 1;
  const dLng = full ? 360 : 2 * Math.asin(s) * DEG;
  return {
    south: Math.max(-MAX_LAT, south),
    north: Math.min(MAX_LAT, north),
    west: full ? -180 : b.west - dLng,
    east: full ? 180 : b.east + dLng,
  };
}

/** Splits at the antimeridian and into ≤ 90° slices: H3 reads a loop wider than 180° as wrapping. */
function lngSlices(b: Box): [number, number][] {
  if (b.east - b.west >= 360)
    return [
      [-180, -90],
      [-90, 0],
      [0, 90],
      [90, 180],
    ];
  const out: [number, number][] = [];
  for (let w = b.west; w < b.east; w += 90) {
    const e = Math.min(b.east, w + 90);
    // Shift the slice into [-180, 180]; a slice straddling ±180 becomes two.
    const k = Math.floor((w + 180) / 360);
    const w0 = w - 360 * k;
    const e0 = e - 360 * k;
    if (e0 <= 180) out.push([w0, e0]);
    else out.push([w0, 180], [-180, e0 - 360]);
  }
  return out;
}

function boxAreaM2(b: Box): number {
  const dLng = Math.min(360, b.east - b.west) / DEG;
  return EARTH_RADIUS_M ** 2 * dLng * Math.abs(Math.sin(b.north / DEG) - Math.sin(b.south / DEG));
}

/** Covering at `res`, or null if it would exceed MAX_CELLS (estimated first, to skip huge calls). */
function coverAt(shape: FenceShape, seed: LatLng, res: number): Set<string> | null {
  const box = grow(shapeBox(shape), BUFFER_EDGES * getHexagonEdgeLengthAvg(res, 'm'));
  if (boxAreaM2(box) / getHexagonAreaAvg(res, 'm2') > 2 * MAX_CELLS) return null;
  const centres = new Set<string>([cellOf(seed.lat, seed.lng, res)]);
  for (const [w, e] of lngSlices(box)) {
    const loop = [
      [box.south, w],
      [box.south, e],
      [box.north, e],
      [box.north, w],
    ];
    for (const c of polygonToCells(loop, res)) centres.add(c);
  }
  const cells = new Set<string>();
  for (const c of centres) for (const n of gridDisk(c, 1)) cells.add(n);
  return cells.size <= MAX_CELLS ? cells : null;
}

function seedOf(shape: FenceShape): LatLng | null {
  if (shape.kind === 'circle') return shape.center;
  const v = shape.polygon[0];
  return v ? { lat: v[0], lng: v[1] } : null;
}

export class FenceIndex {
  private readonly fences = new Map<string, IndexedFence>();
  /** Per resolution, cell → fences whose covering has that cell. */
  private readonly byRes = new Map<number, Map<string, IndexedFence[]>>();
  /**
   * Fences no covering of ≤ MAX_CELLS fits (bigger than a large country) or that H3 rejects:
   * checked on every lookup so nothing is ever missed. Expected to stay empty in practice.
   */
  private readonly unindexed: IndexedFence[] = [];

  constructor(fences: Iterable<IndexedFence>) {
    // Last definition of an id wins, so a repeated id cannot leave a stale fence in the cells.
    for (const f of fences) this.fences.set(f.id, f);
    for (const f of this.fences.values()) this.add(f);
  }

  get(id: string): IndexedFence | undefined {
    return this.fences.get(id);
  }

  get size(): number {
    return this.fences.size;
  }

  candidates(p: LatLng): IndexedFence[] {
    if (!Number.isFinite(p.lat) || !Number.isFinite(p.lng) || Math.abs(p.lat) > 90) return [];
    const out = [...this.unindexed];
    for (const [res, cells] of this.byRes) {
      const hit = cells.get(cellOf(p.lat, p.lng, res));
      if (hit) out.push(...hit);
    }
    return out;
  }

  private add(f: IndexedFence): void {
    const seed = seedOf(f.shape);
    let found: { res: number; cells: Set<string> } | null = null;
    try {
      for (const res of RESOLUTIONS) {
        if (!seed) break;
        const cells = coverAt(f.shape, seed, res);
        if (cells) {
          found = { res, cells };
          break;
        }
      }
    } catch {
      // Non-finite or out-of-range coordinates in a stored shape: fall through to unindexed.
      found = null;
    }
    if (!found) {
      this.unindexed.push(f);
      return;
    }
    let cellMap = this.byRes.get(found.res);
    if (!cellMap) this.byRes.set(found.res, (cellMap = new Map()));
    for (const c of found.cells) {
      const list = cellMap.get(c);
      if (list) list.push(f);
      else cellMap.set(c, [f]);
    }
  }
}
