// Exact fence geometry. Geofence decisions are made here; H3 (fence-index.ts) only narrows candidates.
//
// Polygon edges are straight lines in the (lat, lng) plane, the same model pointInPolygon,
// distanceToRingMeters and the self-intersection check all use, so "inside" and "distance to the
// boundary" never disagree. For fences up to tens of km this differs from great-circle edges by
// metres at most, far below GPS accuracy.

export interface LatLng {
  lat: number;
  lng: number;
}

export type FenceShape =
  | { kind: 'circle'; center: LatLng; radius: number }
  | { kind: 'polygon'; polygon: [number, number][] /* [lat,lng], open or closed ring */ };

export type Placement = 'inside' | 'outside' | 'uncertain';

/** Mean Earth radius (IUGG), metres. */
export const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;
/** Metres per degree of latitude (and of longitude at the equator) on the mean sphere. */
const M_PER_DEG = EARTH_RADIUS_M * RAD;

export function distanceMeters(a: LatLng, b: LatLng): number {
  const dLat = (b.lat - a.lat) * RAD;
  const dLng = (b.lng - a.lng) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLng / 2) ** 2;
  // Rounding can push h a hair above 1 for antipodal points; asin would return NaN.
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(1, h)));
}

/** Drops the closing vertex if the ring repeats its first one (both forms are accepted everywhere). */
function openRing(ring: readonly (readonly [number, number])[]): readonly (readonly [number, number])[] {
  const first = ring[0];
  const last = ring[ring.length - 1];
  if (ring.length > 1 && first && last && first[0] === last[0] && first[1] === last[1]) return ring.slice(0, -1);
  return ring;
}

/**
 * p's longitude shifted by a multiple of 360° to lie nearest the ring, so a point just across the
 * antimeridian from a fence is measured as near, not ~360° away. Rings never span more than 180°.
 */
function unwrapLng(lng: number, ring: readonly (readonly [number, number])[]): number {
  let min = Infinity;
  let max = -Infinity;
  for (const v of ring) {
    if (v[1] < min) min = v[1];
    if (v[1] > max) max = v[1];
  }
  const mid = (min + max) / 2;
  return lng + 360 * Math.round((mid - lng) / 360);
}

export function pointInPolygon(p: LatLng, ring: [number, number][]): boolean {
  const r = openRing(ring);
  const x = unwrapLng(p.lng, r);
  const y = p.lat;
  let inside = false;
  // Even-odd ray casting towards +lng; the half-open test on lat counts a vertex on the ray once.
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [yi, xi] = r[i]!;
    const [yj, xj] = r[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function distanceToRingMeters(p: LatLng, ring: [number, number][]): number {
  const r = openRing(ring);
  if (r.length === 0) return Infinity;
  const lng0 = unwrapLng(p.lng, r);
  // Equirectangular around p: exact scale at p, so the error only grows with the distance of the
  // nearest edge point, and decisions only care about edges within accuracy+margin of p.
  const kx = M_PER_DEG * Math.cos(p.lat * RAD);
  const pts = r.map(([lat, lng]) => [(lng - lng0) * kx, (lat - p.lat) * M_PER_DEG] as const);
  let best = Infinity;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    best = Math.min(best, originToSegment(pts[j]!, pts[i]!));
  }
  return best;
}

function originToSegment(a: readonly [number, number], b: readonly [number, number]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(a[0] * dx + a[1] * dy) / len2));
  return Math.hypot(a[0] + t * dx, a[1] + t * dy);
}

export function classify(shape: FenceShape, p: LatLng, accuracyM: number, marginM: number): Placement {
  // Math.max keeps NaN, and every comparison with NaN is false: a fix with unknown accuracy or a
  // non-finite position is 'uncertain', which changes nothing.
  const r = Math.max(0, accuracyM) + Math.max(0, marginM);
  if (shape.kind === 'circle') {
    const d = distanceMeters(shape.center, p);
    if (d + r <= shape.radius) return 'inside';
    if (d - r > shape.radius) return 'outside';
    return 'uncertain';
  }
  const d = distanceToRingMeters(p, shape.polygon);
  if (!(d >= r)) return 'uncertain';
  // d ≥ r means the accuracy circle does not cross the boundary, so one side holds it all. With r = 0
  // a point on the boundary goes to whichever side the even-odd test says.
  const inside = pointInPolygon(p, shape.polygon);
  if (inside) return 'inside';
  return d > r ? 'outside' : 'uncertain';
}

const MAX_VERTICES = 500;
const MIN_RADIUS_M = 10;
const MAX_RADIUS_M = 50_000;

function validLatLng(lat: unknown, lng: unknown): boolean {
  return (
    typeof lat === 'number' &&
    typeof lng === 'number' &&
    Number.isFinite(lat) &&
    Number.isFinite(lng) &&
    Math.abs(lat) <= 90 &&
    Math.abs(lng) <= 180
  );
}

export function shapeProblem(shape: FenceShape): string | null {
  // User input reaches here after schema parsing, but stay defensive: stored rows go through too.
  const s = shape as unknown as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null) return 'shape must be an object';
  if (s.kind === 'circle') {
    const c = s.center as Record<string, unknown> | null | undefined;
    if (typeof c !== 'object' || c === null || !validLatLng(c.lat, c.lng)) return 'center must be a valid lat/lng';
    const radius = s.radius;
    if (typeof radius !== 'number' || !Number.isFinite(radius) || radius < MIN_RADIUS_M || radius > MAX_RADIUS_M) {
      return `radius must be between ${MIN_RADIUS_M} and ${MAX_RADIUS_M} m`;
    }
    return null;
  }
  if (s.kind !== 'polygon') return 'kind must be circle or polygon';
  if (!Array.isArray(s.polygon)) return 'polygon must be an array of [lat, lng]';
  const raw = s.polygon as unknown[];
  for (const v of raw) {
    if (!Array.isArray(v) || v.length !== 2 || !validLatLng(v[0], v[1])) return 'polygon vertices must be valid [lat, lng] pairs';
  }
  // Repeated consecutive vertices (including the closing one) are the same vertex, not an edge.
  const ring: [number, number][] = [];
  for (const v of raw as [number, number][]) {
    const prev = ring[ring.length - 1];
    if (!prev || prev[0] !== v[0] || prev[1] !== v[1]) ring.push(v);
  }
  const first = ring[0];
  const last = ring[ring.length - 1];
  if (ring.length > 1 && first && last && first[0] === last[0] && first[1] === last[1]) ring.pop();
  if (ring.length < 3) return 'polygon needs at least 3 distinct vertices';
  if (ring.length > MAX_VERTICES) return `polygon can have at most ${MAX_VERTICES} vertices`;
  const lngs = ring.map((v) => v[1]);
  if (Math.max(...lngs) - Math.min(...lngs) > 180) return 'polygon must not cross the antimeridian';
  if (ringAreaM2(ring) < 1) return 'polygon has zero area';
  if (selfIntersects(ring)) return 'polygon must not intersect itself';
  return null;
}

/** Shoelace area in a local equirectangular plane; only used to reject degenerate rings. */
function ringAreaM2(ring: readonly [number, number][]): number {
  // Relative to the first vertex so the products stay small and rounding cannot fake an area.
  const [lat0, lng0] = ring[0]!;
  const kx = M_PER_DEG * Math.cos(lat0 * RAD);
  const xy = ring.map(([lat, lng]) => [(lng - lng0) * kx, (lat - lat0) * M_PER_DEG] as const);
  let twice = 0;
  for (let i = 0, j = xy.length - 1; i < xy.length; j = i++) {
    twice += xy[j]![0] * xy[i]![1] - xy[i]![0] * xy[j]![1];
  }
  return Math.abs(twice) / 2;
}

type Pt = readonly [number, number];

function orient(a: Pt, b: Pt, c: Pt): number {
  const v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

/** c lies within the bounding box of segment ab (used only when a, b, c are collinear). */
function within(a: Pt, b: Pt, c: Pt): boolean {
  return (
    Math.min(a[0], b[0]) <= c[0] && c[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= c[1] && c[1] <= Math.max(a[1], b[1])
  );
}

function segmentsTouch(a: Pt, b: Pt, c: Pt, d: Pt): boolean {
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && within(a, b, c)) ||
    (o2 === 0 && within(a, b, d)) ||
    (o3 === 0 && within(c, d, a)) ||
    (o4 === 0 && within(c, d, b))
  );
}

/**
 * O(n²) over ≤ 500 vertices (~125k pair tests): cheap enough for a write path. Non-adjacent edges
 * must not even touch (that would pinch the ring); adjacent edges must not fold back on each other.
 */
function selfIntersects(ring: readonly [number, number][]): boolean {
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    const a = ring[i]!;
    const b = ring[(i + 1) % n]!;
    const c = ring[(i + 2) % n]!;
    // Adjacent edges ab, bc overlap only if collinear and c turns back towards a.
    if (orient(a, b, c) === 0 && (a[0] - b[0]) * (c[0] - b[0]) + (a[1] - b[1]) * (c[1] - b[1]) > 0) return true;
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue; // edge n-1 shares vertex 0 with edge 0
      if (segmentsTouch(a, b, ring[j]!, ring[(j + 1) % n]!)) return true;
    }
  }
  return false;
}
