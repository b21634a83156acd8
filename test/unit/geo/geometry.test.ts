import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { classify, distanceMeters, distanceToRingMeters, pointInPolygon, shapeProblem } from '../../../src/geo/geometry.js';
import type { FenceShape, LatLng } from '../../../src/geo/geometry.js';
import { destination, offset, pointArb, shapeArb, square, starPolygon } from './helpers.js';

const PARIS = { lat: 48.8566, lng: 2.3522 };
const LONDON = { lat: 51.5074, lng: -0.1278 };
const C: LatLng = { lat: 48.85, lng: 2.35 };

/** U-shape opening north: 300 m wide, 300 m tall, a 100 m wide notch from the top down to 100 m. */
function uShape(c: LatLng): [number, number][] {
  const pts: [number, number][] = [
    [-150, -150],
    [150, -150],
    [150, 150],
    [50, 150],
    [50, -50],
    [-50, -50],
    [-50, 150],
    [-150, 150],
  ];
  return pts.map(([e, n]) => {
    const q = offset(c, e, n);
    return [q.lat, q.lng];
  });
}

function contains(shape: FenceShape, p: LatLng): boolean {
  return shape.kind === 'circle' ? distanceMeters(shape.center, p) <= shape.radius : pointInPolygon(p, shape.polygon);
}

describe('distanceMeters', () => {
  it('matches known distances', () => {
    expect(distanceMeters(PARIS, LONDON)).toBeGreaterThan(343_500 * 0.995);
    expect(distanceMeters(PARIS, LONDON)).toBeLessThan(343_500 * 1.005);
    expect(distanceMeters({ lat: 10, lng: 20 }, { lat: 11, lng: 20 })).toBeCloseTo(111_195, -1);
    expect(distanceMeters({ lat: 0, lng: 0 }, { lat: 0, lng: 1 })).toBeCloseTo(111_195, -1);
    // 1° of longitude shrinks with cos(lat).
    expect(distanceMeters({ lat: 60, lng: 0 }, { lat: 60, lng: 1 })).toBeCloseTo(55_597, -1);
    expect(distanceMeters(PARIS, PARIS)).toBe(0);
  });

  it('is short across the antimeridian and finite for antipodes', () => {
    expect(distanceMeters({ lat: 0, lng: 179.999 }, { lat: 0, lng: -179.999 })).toBeCloseTo(222.4, 0);
    expect(distanceMeters({ lat: 0, lng: 0 }, { lat: 0, lng: 180 })).toBeCloseTo(Math.PI * 6_371_008.8, 0);
  });

  it('is symmetric, non-negative and obeys the triangle inequality', () => {
    fc.assert(
      fc.property(pointArb(90), pointArb(90), pointArb(90), (a, b, c) => {
        const ab = distanceMeters(a, b);
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(Math.abs(ab - distanceMeters(b, a))).toBeLessThanOrEqual(1e-6);
        // Haversine loses ~cm near antipodes (asin of ~1), hence the relative slack.
        const bc = distanceMeters(b, c);
        expect(distanceMeters(a, c)).toBeLessThanOrEqual(ab + bc + 1e-8 * (ab + bc) + 1e-6);
      }),
      { numRuns: 500 },
    );
  });
});

describe('pointInPolygon', () => {
  const sq = square(C, 100);

  it('handles a convex ring, open or closed', () => {
    const closed = [...sq, sq[0]!];
    for (const ring of [sq, closed]) {
      expect(pointInPolygon(C, ring)).toBe(true);
      expect(pointInPolygon(offset(C, 90, 90), ring)).toBe(true);
      expect(pointInPolygon(offset(C, 110, 0), ring)).toBe(false);
      expect(pointInPolygon(offset(C, 0, -110), ring)).toBe(false);
    }
  });

  it('handles a concave U-shape: the notch is outside', () => {
    const u = uShape(C);
    expect(pointInPolygon(offset(C, 0, 100), u)).toBe(false); // in the notch
    expect(pointInPolygon(offset(C, 0, -100), u)).toBe(true); // the base
    expect(pointInPolygon(offset(C, -100, 100), u)).toBe(true); // left arm
    expect(pointInPolygon(offset(C, 100, 100), u)).toBe(true); // right arm
    expect(pointInPolygon(offset(C, 0, 200), u)).toBe(false);
  });

  it('sees a point just across the antimeridian as outside a fence ending at 180', () => {
    const ring: [number, number][] = [
      [0, 179],
      [0, 180],
      [1, 180],
      [1, 179],
    ];
    expect(pointInPolygon({ lat: 0.5, lng: 179.5 }, ring)).toBe(true);
    expect(pointInPolygon({ lat: 0.5, lng: -179.5 }, ring)).toBe(false);
  });
});

describe('distanceToRingMeters', () => {
  const sq = square(C, 100);
  it('measures to the nearest edge from inside and outside', () => {
    expect(distanceToRingMeters(C, sq)).toBeCloseTo(100, 0);
    expect(distanceToRingMeters(offset(C, 60, 0), sq)).toBeCloseTo(40, 0);
    expect(distanceToRingMeters(offset(C, 150, 0), sq)).toBeCloseTo(50, 0);
    // Beyond a corner the nearest point is the vertex.
    expect(distanceToRingMeters(offset(C, 130, 140), sq)).toBeCloseTo(50, 0);
    expect(distanceToRingMeters(C, [...sq, sq[0]!])).toBeCloseTo(100, 0);
  });

  it('measures across the antimeridian', () => {
    const ring: [number, number][] = [
      [0, 179],
      [0, 180],
      [1, 180],
      [1, 179],
    ];
    expect(distanceToRingMeters({ lat: 0.5, lng: -179.999 }, ring)).toBeCloseTo(111.2, 0);
  });
});

describe('classify', () => {
  const circle: FenceShape = { kind: 'circle', center: C, radius: 100 };
  const poly: FenceShape = { kind: 'polygon', polygon: square(C, 100) };

  it('needs the whole accuracy circle on one side of a circle fence', () => {
    const at = (d: number) => destination(C, 37, d);
    expect(classify(circle, at(95), 20, 0)).toBe('uncertain'); // 5 m inside
    expect(classify(circle, at(50), 20, 0)).toBe('inside'); // 50 m inside
    expect(classify(circle, at(105), 20, 0)).toBe('uncertain'); // 5 m outside
    expect(classify(circle, at(150), 20, 0)).toBe('outside');
    expect(classify(circle, at(50), 20, 40)).toBe('uncertain'); // the margin widens the band
    expect(classify(circle, at(150), 20, 40)).toBe('uncertain');
    expect(classify(circle, at(95), 0, 0)).toBe('inside');
  });

  it('needs the whole accuracy circle on one side of a polygon fence', () => {
    expect(classify(poly, offset(C, 0, 95), 20, 0)).toBe('uncertain');
    expect(classify(poly, offset(C, 0, 50), 20, 0)).toBe('inside');
    expect(classify(poly, offset(C, 0, 105), 20, 0)).toBe('uncertain');
    expect(classify(poly, offset(C, 0, 150), 20, 0)).toBe('outside');
    expect(classify(poly, offset(C, 0, 50), 20, 40)).toBe('uncertain');
    const u: FenceShape = { kind: 'polygon', polygon: uShape(C) };
    expect(classify(u, offset(C, 0, 100), 20, 0)).toBe('outside'); // notch centre: 50 m from both arms
    expect(classify(u, offset(C, 0, 100), 60, 0)).toBe('uncertain');
  });

  it('treats non-finite accuracy or position as uncertain', () => {
    expect(classify(circle, C, Number.NaN, 0)).toBe('uncertain');
    expect(classify(poly, C, Number.NaN, 0)).toBe('uncertain');
    expect(classify(circle, { lat: Number.NaN, lng: 0 }, 5, 0)).toBe('uncertain');
  });

  const caseArb = fc.record({
    shape: shapeArb(C, 20, 2000),
    p: fc
      .record({ bearing: fc.double({ min: 0, max: 360, noNaN: true }), dist: fc.double({ min: 0, max: 5000, noNaN: true }) })
      .map(({ bearing, dist }) => destination(C, bearing, dist)),
    acc: fc.double({ min: 0, max: 500, noNaN: true }),
    smaller: fc.double({ min: 0, max: 1, noNaN: true }),
    margin: fc.double({ min: 0, max: 100, noNaN: true }),
  });

  it('is monotone in accuracy: a clear answer stays clear with a better fix', () => {
    fc.assert(
      fc.property(caseArb, ({ shape, p, acc, smaller, margin }) => {
        const wide = classify(shape, p, acc, margin);
        if (wide !== 'uncertain') expect(classify(shape, p, acc * smaller, margin)).toBe(wide);
      }),
      { numRuns: 1000 },
    );
  });

  it('never says inside for a point outside, nor outside for a point inside', () => {
    fc.assert(
      fc.property(caseArb, ({ shape, p, acc, margin }) => {
        const placement = classify(shape, p, acc, margin);
        expect(placement).not.toBe(contains(shape, p) ? 'outside' : 'inside');
      }),
      { numRuns: 1000 },
    );
  });

  it('says outside for points farther than radius + acc + margin from a circle', () => {
    fc.assert(
      fc.property(
        pointArb(70),
        fc.double({ min: 10, max: 50_000, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 1.001, max: 100_000, noNaN: true }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        (center, radius, acc, margin, extra, bearing) => {
          const p = destination(center, bearing, radius + acc + margin + extra);
          expect(classify({ kind: 'circle', center, radius }, p, acc, margin)).toBe('outside');
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('shapeProblem', () => {
  const ok = square(C, 100);

  it('accepts valid circles and polygons, open or closed', () => {
    expect(shapeProblem({ kind: 'circle', center: C, radius: 10 })).toBeNull();
    expect(shapeProblem({ kind: 'circle', center: C, radius: 50_000 })).toBeNull();
    expect(shapeProblem({ kind: 'polygon', polygon: ok })).toBeNull();
    expect(shapeProblem({ kind: 'polygon', polygon: [...ok, ok[0]!] })).toBeNull();
    expect(shapeProblem({ kind: 'polygon', polygon: uShape(C) })).toBeNull();
    // A repeated vertex is still one vertex, not a zero-length edge.
    expect(shapeProblem({ kind: 'polygon', polygon: [ok[0]!, ok[1]!, ok[1]!, ok[2]!, ok[3]!] })).toBeNull();
    const fracs = Array.from({ length: 500 }, (_, i) => 0.5 + 0.4 * Math.sin(i));
    expect(shapeProblem({ kind: 'polygon', polygon: starPolygon(C, 1000, fracs, []) })).toBeNull();
    expect(
      shapeProblem({
        kind: 'polygon',
        polygon: [
          [0, 170],
          [1, 170],
          [1, -10],
        ],
      }),
    ).toBeNull(); // span exactly 180
  });

  it.each<[string, unknown]>([
    ['radius too small', { kind: 'circle', center: C, radius: 9.9 }],
    ['radius too large', { kind: 'circle', center: C, radius: 50_001 }],
    ['radius NaN', { kind: 'circle', center: C, radius: Number.NaN }],
    ['center lat out of range', { kind: 'circle', center: { lat: 90.1, lng: 0 }, radius: 100 }],
    ['center lng out of range', { kind: 'circle', center: { lat: 0, lng: -180.1 }, radius: 100 }],
    ['center missing', { kind: 'circle', radius: 100 }],
    ['unknown kind', { kind: 'hexagon', center: C, radius: 100 }],
    ['not an object', null],
    ['polygon not an array', { kind: 'polygon', polygon: 'x' }],
    ['two vertices', { kind: 'polygon', polygon: ok.slice(0, 2) }],
    ['three vertices, closed, i.e. two distinct', { kind: 'polygon', polygon: [ok[0]!, ok[1]!, ok[0]!] }],
    [
      '501 vertices',
      {
        kind: 'polygon',
        polygon: starPolygon(
          C,
          1000,
          Array.from({ length: 501 }, () => 0.8),
          [],
        ),
      },
    ],
    ['NaN vertex', { kind: 'polygon', polygon: [...ok.slice(0, 3), [Number.NaN, 2]] }],
    ['Infinity vertex', { kind: 'polygon', polygon: [...ok.slice(0, 3), [48, Number.POSITIVE_INFINITY]] }],
    [
      'lat out of range',
      {
        kind: 'polygon',
        polygon: [
          [89, 0],
          [91, 1],
          [89, 2],
        ],
      },
    ],
    ['vertex not a pair', { kind: 'polygon', polygon: [...ok.slice(0, 3), [48]] }],
    [
      'zero area (collinear)',
      {
        kind: 'polygon',
        polygon: [
          [48, 2],
          [48.001, 2.001],
          [48.002, 2.002],
        ],
      },
    ],
    ['bow tie', { kind: 'polygon', polygon: [ok[0]!, ok[2]!, ok[1]!, ok[3]!] }],
    [
      'pinched (non-adjacent edges touch at a vertex)',
      {
        kind: 'polygon',
        polygon: [
          [0, 0],
          [0, 2],
          [1, 1],
          [2, 2],
          [2, 0],
          [1, 1],
        ],
      },
    ],
    [
      'spike folding back on itself',
      {
        kind: 'polygon',
        polygon: [
          [0, 0],
          [0, 2],
          [0, 3],
          [0, 1],
          [1, 1],
        ],
      },
    ],
    [
      'crosses the antimeridian',
      {
        kind: 'polygon',
        polygon: [
          [0, 179],
          [1, 179],
          [1, -179],
          [0, -179],
        ],
      },
    ],
  ])('rejects %s', (_name, shape) => {
    const msg = shapeProblem(shape as FenceShape);
    expect(typeof msg).toBe('string');
    expect(msg!.length).toBeGreaterThan(0);
  });
});
