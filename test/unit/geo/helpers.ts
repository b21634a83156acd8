// Shared builders for the geo tests: exact spherical offsets and random fences.
import fc from 'fast-check';
import type { FenceShape, LatLng } from '../../../src/geo/geometry.js';

export const R = 6_371_008.8;
const RAD = Math.PI / 180;
export const M_PER_DEG = R * RAD;

/** Great-circle destination: distanceMeters(p, destination(p, b, d)) === d up to rounding. */
export function destination(p: LatLng, bearingDeg: number, meters: number): LatLng {
  const d = meters / R;
  const t = bearingDeg * RAD;
  const la1 = p.lat * RAD;
  const lo1 = p.lng * RAD;
  const la2 = Math.asin(Math.sin(la1) * Math.cos(d) + Math.cos(la1) * Math.sin(d) * Math.cos(t));
  const lo2 = lo1 + Math.atan2(Math.sin(t) * Math.sin(d) * Math.cos(la1), Math.cos(d) - Math.sin(la1) * Math.sin(la2));
  const lng = ((((lo2 / RAD + 180) % 360) + 360) % 360) - 180;
  return { lat: la2 / RAD, lng };
}

/** Local metric offset (east, north) in metres; exact along a meridian, approximate otherwise. */
export function offset(p: LatLng, eastM: number, northM: number): LatLng {
  return { lat: p.lat + northM / M_PER_DEG, lng: p.lng + eastM / (M_PER_DEG * Math.cos(p.lat * RAD)) };
}

/** Axis-aligned square polygon of half-side `half` metres around c, as an open ring. */
export function square(c: LatLng, half: number): [number, number][] {
  const corners = [offset(c, -half, -half), offset(c, half, -half), offset(c, half, half), offset(c, -half, half)];
  return corners.map((q) => [q.lat, q.lng]);
}

/** Star-shaped (hence simple) polygon around c; radii are fractions of `size` metres. */
export function starPolygon(c: LatLng, size: number, fracs: number[], jitters: number[]): [number, number][] {
  const n = fracs.length;
  return fracs.map((f, i) => {
    // Angles stay in their own sector, so consecutive gaps are < π and the ring never crosses itself.
    const angle = ((i + 0.1 + 0.8 * (jitters[i] ?? 0.5)) / n) * 360;
    const q = destination(c, angle, Math.max(1, f * size));
    return [q.lat, q.lng];
  });
}

export const latArb = (max = 70) => fc.double({ min: -max, max, noNaN: true });
export const lngArb = () => fc.double({ min: -180, max: 180, noNaN: true });
export const pointArb = (maxLat = 70) => fc.record({ lat: latArb(maxLat), lng: lngArb() });

/** A circle or star polygon of roughly `minM..maxM` metres around `c`. */
export function shapeArb(c: LatLng, minM: number, maxM: number): fc.Arbitrary<FenceShape> {
  const circle = fc
    .record({
      bearing: fc.double({ min: 0, max: 360, noNaN: true }),
      dist: fc.double({ min: 0, max: maxM, noNaN: true }),
      radius: fc.double({ min: minM, max: maxM, noNaN: true }),
    })
    .map(({ bearing, dist, radius }): FenceShape => ({ kind: 'circle', center: destination(c, bearing, dist), radius }));
  const polygon = fc
    .record({
      bearing: fc.double({ min: 0, max: 360, noNaN: true }),
      dist: fc.double({ min: 0, max: maxM, noNaN: true }),
      size: fc.double({ min: minM, max: maxM, noNaN: true }),
      fracs: fc.array(fc.double({ min: 0.2, max: 1, noNaN: true }), { minLength: 3, maxLength: 12 }),
      jitters: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }),
    })
    .map(({ bearing, dist, size, fracs, jitters }): FenceShape => ({
      kind: 'polygon',
      polygon: starPolygon(destination(c, bearing, dist), size, fracs, jitters),
    }));
  return fc.oneof(circle, polygon);
}

/** Small seeded PRNG so the country-sized scenario is reproducible. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
