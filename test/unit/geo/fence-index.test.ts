import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { FenceIndex } from '../../../src/geo/fence-index.js';
import type { IndexedFence } from '../../../src/geo/fence-index.js';
import { classify, distanceMeters, pointInPolygon, shapeProblem } from '../../../src/geo/geometry.js';
import type { FenceShape, LatLng } from '../../../src/geo/geometry.js';
import { destination, mulberry32, pointArb, shapeArb, starPolygon } from './helpers.js';

function contains(shape: FenceShape, p: LatLng): boolean {
  return shape.kind === 'circle' ? distanceMeters(shape.center, p) <= shape.radius : pointInPolygon(p, shape.polygon);
}

/** Points that stress the covering: the centre, just inside the boundary, and spread inside. */
function probes(shape: FenceShape): LatLng[] {
  if (shape.kind === 'circle') {
    const out: LatLng[] = [shape.center];
    for (let b = 0; b < 360; b += 7.5) {
      out.push(destination(shape.center, b, shape.radius * 0.999), destination(shape.center, b + 3, shape.radius * 0.5));
    }
    return out;
  }
  const ring = shape.polygon;
  const out: LatLng[] = [];
  for (let i = 0; i < ring.length; i++) {
    const [aLat, aLng] = ring[i]!;
    const [bLat, bLng] = ring[(i + 1) % ring.length]!;
    // Points along each edge, nudged a hair inwards or outwards; only those inside are kept.
    for (let t = 0; t <= 1; t += 0.125) {
      for (const eps of [1e-7, -1e-7]) {
        out.push({ lat: aLat + t * (bLat - aLat) + eps, lng: aLng + t * (bLng - aLng) + eps });
      }
    }
  }
  return out.filter((p) => pointInPolygon(p, ring));
}

function ids(index: FenceIndex, p: LatLng): string[] {
  return index.candidates(p).map((f) => f.id);
}

/** Fences of a few metres to ~100 km, so every resolution 7..4 gets used. */
function fencesArb(base: LatLng): fc.Arbitrary<IndexedFence[]> {
  const sized = fc.oneof(
    shapeArb(base, 5, 300),
    shapeArb(base, 200, 5000),
    shapeArb(base, 5000, 50_000),
    shapeArb(base, 50_000, 120_000),
  );
  return fc
    .array(sized, { minLength: 1, maxLength: 6 })
    .map((shapes) => shapes.map((shape, i) => ({ id: `f${i}`, shape, deviceIds: null })));
}

function assertNeverMisses(base: fc.Arbitrary<LatLng>, runs: number): void {
  fc.assert(
    fc.property(
      base.chain((b) =>
        fc.tuple(
          fc.constant(b),
          fencesArb(b),
          fc.array(
            fc.record({
              bearing: fc.double({ min: 0, max: 360, noNaN: true }),
              dist: fc.double({ min: 0, max: 150_000, noNaN: true }),
            }),
            { maxLength: 40 },
          ),
        ),
      ),
      ([b, fences, randoms]) => {
        const index = new FenceIndex(fences);
        const points = [...fences.flatMap((f) => probes(f.shape)), ...randoms.map((r) => destination(b, r.bearing, r.dist))];
        for (const p of points) {
          const got = new Set(ids(index, p));
          for (const f of fences) {
            if (contains(f.shape, p) || classify(f.shape, p, 0, 0) === 'inside')
              expect(got.has(f.id), `${f.id} at ${p.lat},${p.lng}`).toBe(true);
          }
        }
      },
    ),
    { numRuns: runs },
  );
}

describe('FenceIndex', () => {
  it('never misses a fence containing the point (|lat| ≤ 70, any lng incl. the antimeridian)', () => {
    assertNeverMisses(pointArb(70), 60);
  });

  it('never misses near the antimeridian', () => {
    assertNeverMisses(
      fc.record({ lat: fc.double({ min: -60, max: 60, noNaN: true }), lng: fc.constantFrom(179.99, -179.99, 180) }),
      25,
    );
  });

  it('never misses at high latitudes and around the pole', () => {
    assertNeverMisses(
      fc.record({ lat: fc.double({ min: 80, max: 89.99, noNaN: true }), lng: fc.double({ min: -180, max: 180, noNaN: true }) }),
      15,
    );
    const pole: IndexedFence = {
      id: 'pole',
      shape: { kind: 'circle', center: { lat: 90, lng: 0 }, radius: 5000 },
      deviceIds: null,
    };
    const index = new FenceIndex([pole]);
    for (const p of probes(pole.shape)) expect(ids(index, p)).toContain('pole');
  });

  it('finds nothing 100 km away from every fence', () => {
    fc.assert(
      fc.property(
        pointArb(70).chain((b) =>
          fc.tuple(
            fc.constant(b),
            fc.array(
              shapeArb(b, 10, 5000).filter((s) => shapeProblem(s) === null),
              { minLength: 1, maxLength: 20 },
            ),
            fc.double({ min: 0, max: 360, noNaN: true }),
          ),
        ),
        ([b, shapes, bearing]) => {
          const index = new FenceIndex(shapes.map((shape, i) => ({ id: `f${i}`, shape, deviceIds: null })));
          // Validated shapes only: one crossing the antimeridian is unindexable and always a candidate.
          // Shapes reach at most ~15 km from b (5 km offset + 5 km size + a star's spread).
          const far = destination(b, bearing, 115_000);
          expect(ids(index, far)).toEqual([]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('returns only a handful of 1,000 fences spread over a country', () => {
    const rand = mulberry32(7);
    const fences: IndexedFence[] = [];
    for (let i = 0; i < 1000; i++) {
      const c = { lat: 43 + 7 * rand(), lng: -1 + 8 * rand() };
      const shape: FenceShape =
        i % 2 === 0
          ? { kind: 'circle', center: c, radius: 10 + 2000 * rand() }
          : {
              kind: 'polygon',
              polygon: starPolygon(
                c,
                50 + 2000 * rand(),
                [0.5, 1, 0.7, 0.9, 0.6].map((x) => x * (0.5 + rand())),
                [],
              ),
            };
      fences.push({ id: `f${i}`, shape, deviceIds: null });
    }
    const index = new FenceIndex(fences);
    expect(index.size).toBe(1000);
    let total = 0;
    for (let k = 0; k < 200; k++) {
      const p = { lat: 43 + 7 * rand(), lng: -1 + 8 * rand() };
      const got = ids(index, p);
      expect(got.length).toBeLessThan(20);
      total += got.length;
      for (const f of fences) if (contains(f.shape, p)) expect(got).toContain(f.id);
    }
    // Inside a fence: found, along with only its neighbours.
    const inside = ids(index, (fences[0]!.shape as { center: LatLng }).center);
    expect(inside).toContain('f0');
    expect(inside.length).toBeLessThan(20);
    expect(total / 200).toBeLessThan(5);
  });

  it('still finds a fence too big for any covering', () => {
    const huge: IndexedFence = {
      id: 'huge',
      shape: {
        kind: 'polygon',
        polygon: [
          [-30, -30],
          [-30, 30],
          [30, 30],
          [30, -30],
        ],
      },
      deviceIds: null,
    };
    const small: IndexedFence = {
      id: 'small',
      shape: { kind: 'circle', center: { lat: 0, lng: 0 }, radius: 100 },
      deviceIds: null,
    };
    const index = new FenceIndex([huge, small]);
    expect(ids(index, { lat: 10, lng: -20 })).toEqual(['huge']);
    expect(ids(index, { lat: 0, lng: 0 }).sort()).toEqual(['huge', 'small']);
  });

  it('keeps the last definition of a repeated id and ignores unusable points', () => {
    const a = { lat: 10, lng: 10 };
    const b = { lat: -10, lng: -10 };
    const index = new FenceIndex([
      { id: 'x', shape: { kind: 'circle', center: a, radius: 100 }, deviceIds: null },
      { id: 'x', shape: { kind: 'circle', center: b, radius: 100 }, deviceIds: ['w1'] },
    ]);
    expect(index.size).toBe(1);
    expect(index.get('x')?.deviceIds).toEqual(['w1']);
    expect(index.get('nope')).toBeUndefined();
    expect(ids(index, a)).toEqual([]);
    expect(ids(index, b)).toEqual(['x']);
    expect(ids(index, { lat: Number.NaN, lng: 0 })).toEqual([]);
    expect(ids(index, { lat: 95, lng: 0 })).toEqual([]);
  });
});
