// The access-point estimator: it converges to where the GPS fixes put the AP, outliers do not
// move it far, its accuracy shrinks with evidence, and aged-out evidence stops counting.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { distanceMeters } from '../../../src/geo/geometry.js';
import { moveMeters, offsetMeters } from '../../../src/positioning/weighted-centroid.js';
import {
  type ApEstimate,
  DEFAULT_LEARNER,
  type GpsSighting,
  apUncertainty,
  isUsable,
  learn,
  locateFromAccessPoints,
} from '../../../src/positioning/wifi-learner.js';

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;
const SCHOOL = { lat: 48.137154, lng: 11.576124 };

function feed(sightings: readonly GpsSighting[], start?: ApEstimate): ApEstimate {
  let e = start;
  for (const s of sightings) e = learn(e, s).estimate;
  return e!;
}

/** A sighting `dist` metres from `at` in direction `bearing` (radians). */
function near(at: { lat: number; lng: number }, dist: number, bearing: number, extra: Partial<GpsSighting> = {}): GpsSighting {
  const p = moveMeters(at, dist * Math.sin(bearing), dist * Math.cos(bearing));
  return { ...p, acc: 10, ts: T0, rssi: -60, ...extra };
}

const arbSighting = (at: { lat: number; lng: number }, maxDist: number) =>
  fc
    .record({
      dist: fc.double({ min: 0, max: maxDist, noNaN: true }),
      bearing: fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
      acc: fc.double({ min: 3, max: 40, noNaN: true }),
      rssi: fc.option(fc.integer({ min: -85, max: -35 }), { nil: undefined }),
      minutes: fc.integer({ min: 0, max: 60 * 24 * 5 }),
    })
    .map((r) => near(at, r.dist, r.bearing, { acc: r.acc, rssi: r.rssi, ts: T0 + r.minutes * 60_000 }));

describe('learning an access point', () => {
  it('with sightings of equal quality, the estimate is their plain mean (property)', () => {
    fc.assert(
      fc.property(fc.array(arbSighting(SCHOOL, 60), { minLength: 1, maxLength: 30 }), (raw) => {
        const same = raw.map((s) => ({ ...s, acc: 12, rssi: -60, ts: T0 }));
        const e = feed(same);
        const mean = { x: 0, y: 0 };
        for (const s of same) {
          const o = offsetMeters(SCHOOL, s);
          mean.x += o.x / same.length;
          mean.y += o.y / same.length;
        }
        return distanceMeters(e, moveMeters(SCHOOL, mean.x, mean.y)) < 0.01;
      }),
    );
  });

  it('converges to where the GPS fixes put it (property)', () => {
    fc.assert(
      fc.property(fc.array(arbSighting(SCHOOL, 30), { minLength: 1, maxLength: 40 }), (sightings) => {
        // Every sighting is within 30 m of the AP, so the estimate is too (a weighted mean stays in their hull).
        return distanceMeters(feed(sightings), SCHOOL) <= 30 + 1e-6;
      }),
    );
    // Sightings scattered evenly around it: the estimate lands on it.
    const ring = Array.from({ length: 24 }, (_, i) => near(SCHOOL, 35, (i * Math.PI) / 12, { ts: T0 + i * 3_600_000 }));
    expect(distanceMeters(feed(ring), SCHOOL)).toBeLessThan(1);
  });

  it('an outlier does not move it far (property)', () => {
    fc.assert(
      fc.property(
        fc.array(arbSighting(SCHOOL, 20), { minLength: 10, maxLength: 30 }),
        fc.double({ min: 0, max: 20_000, noNaN: true }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.option(fc.integer({ min: -100, max: -30 }), { nil: undefined }),
        (good, dist, bearing, acc, rssi) => {
          const before = feed(good);
          const ts = Math.max(...good.map((s) => s.ts)) + 60_000;
          const after = learn(before, near(SCHOOL, dist, bearing, { acc, rssi, ts })).estimate!;
          return distanceMeters(after, SCHOOL) < 40 && distanceMeters(after, before) < 25;
        },
      ),
    );
  });

  it('one confident sighting does not outweigh the evidence before it', () => {
    // Ten coarse sightings, then a ±3 m fix at -35 dBm 140 m away (inside the gate): multipath
    // GPS looks exactly like this. It counts as one sighting among eleven, no more.
    const coarse = feed(Array.from({ length: 10 }, (_, i) => ({ ...SCHOOL, acc: 40, rssi: -80, ts: T0 + i })));
    const r = learn(coarse, near(SCHOOL, 140, 1, { acc: 3, rssi: -35, ts: T0 + 20 }));
    expect(r.outcome).toBe('updated');
    expect(distanceMeters(r.estimate!, SCHOOL)).toBeLessThan(140 / 11 + 0.5);
  });

  it('a far sighting is rejected, and after several in a row the AP is taken to have moved', () => {
    const home = feed(Array.from({ length: 10 }, (_, i) => near(SCHOOL, 5, i, { ts: T0 + i * 60_000 })));
    const flat = moveMeters(SCHOOL, 3000, 0);
    let e = home;
    for (let i = 0; i < DEFAULT_LEARNER.moveAfterRejects - 1; i++) {
      const r = learn(e, { ...flat, acc: 8, ts: T0 + DAY + i * 60_000, rssi: -50 });
      expect(r.outcome).toBe('rejected');
      e = r.estimate!;
      expect(distanceMeters(e, SCHOOL)).toBeLessThan(10);
    }
    // In doubt while being contradicted.
    expect(isUsable(e, T0 + DAY + DAY / 24)).toBe(false);
    const moved = learn(e, { ...flat, acc: 8, ts: T0 + 2 * DAY, rssi: -50 });
    expect(moved.outcome).toBe('moved');
    expect(distanceMeters(moved.estimate!, flat)).toBeLessThan(0.01);
    // An accepted sighting ends a run of rejects.
    const back = learn(learn(home, { ...flat, acc: 8, ts: T0 + DAY }).estimate, near(SCHOOL, 3, 0, { ts: T0 + DAY + 1 }));
    expect(back.outcome).toBe('updated');
    expect(back.estimate!.rejects).toBe(0);
  });

  it('ignores GPS fixes too coarse to place an AP', () => {
    const r = learn(undefined, { ...SCHOOL, acc: 250, ts: T0 });
    expect(r).toEqual({ estimate: undefined, outcome: 'ignored' });
  });

  it('its accuracy shrinks with consistent evidence (property)', () => {
    fc.assert(
      fc.property(fc.array(arbSighting(SCHOOL, 0), { minLength: 2, maxLength: 40 }), (sightings) => {
        const now = T0 + 6 * DAY;
        let e: ApEstimate | undefined;
        let last = Infinity;
        for (const s of sightings) {
          e = learn(e, s).estimate!;
          const u = apUncertainty(e, now);
          if (u > last + 1e-9) return false;
          last = u;
        }
        return true;
      }),
    );
    const one = feed([near(SCHOOL, 0, 0)]);
    const many = feed(Array.from({ length: 30 }, (_, i) => near(SCHOOL, 15, i, { ts: T0 + i * 3_600_000 })));
    expect(apUncertainty(many, T0 + 2 * DAY)).toBeLessThan(apUncertainty(one, T0 + 2 * DAY) / 2);
    // Not usable from a single sighting; usable after a few.
    expect(isUsable(one, T0)).toBe(false);
    expect(isUsable(many, T0 + 2 * DAY)).toBe(true);
  });

  it('aged evidence counts less, and aged-out evidence stops counting', () => {
    const a = SCHOOL;
    const b = moveMeters(SCHOOL, 80, 0);
    const old = feed(Array.from({ length: 10 }, (_, i) => ({ ...a, acc: 10, rssi: -60, ts: T0 + i })));
    // Two half-lives later, ten equal sightings at B outweigh the ten at A four to one.
    const later = T0 + 2 * DEFAULT_LEARNER.halfLifeMs;
    const mixed = feed(
      Array.from({ length: 10 }, (_, i) => ({ ...b, acc: 10, rssi: -60, ts: later + i })),
      old,
    );
    expect(distanceMeters(mixed, a) / distanceMeters(a, b)).toBeCloseTo(0.8, 1);
    // Its uncertainty grows as it ages, and past maxAge it no longer locates anyone.
    expect(apUncertainty(old, T0 + 60 * DAY)).toBeGreaterThan(apUncertainty(old, T0 + DAY));
    expect(isUsable(old, T0 + DEFAULT_LEARNER.maxAgeMs + DAY)).toBe(false);
    // A sighting after maxAge starts over where it is heard now.
    const fresh = learn(old, { ...b, acc: 10, ts: T0 + DEFAULT_LEARNER.maxAgeMs + DAY });
    expect(fresh.outcome).toBe('created');
    expect(distanceMeters(fresh.estimate!, b)).toBeLessThan(0.01);
    expect(fresh.estimate!.count).toBe(1);
  });

  it('a sighting that arrives late counts as old as it is', () => {
    const now = T0 + 60 * DAY;
    const base = feed([
      { ...SCHOOL, acc: 10, ts: now },
      { ...SCHOOL, acc: 10, ts: now + 1 },
    ]);
    const b = moveMeters(SCHOOL, 60, 0);
    const late = learn(base, { ...b, acc: 10, ts: now - 2 * DEFAULT_LEARNER.halfLifeMs }).estimate!;
    const fresh = learn(base, { ...b, acc: 10, ts: now + 2 }).estimate!;
    expect(distanceMeters(late, SCHOOL)).toBeLessThan(distanceMeters(fresh, SCHOOL) / 2);
    expect(late.lastSeen).toBe(now + 1);
  });
});

describe('locating from learned access points', () => {
  const learned = (at: { lat: number; lng: number }, n = 8) =>
    feed(Array.from({ length: n }, (_, i) => near(at, 10, i, { ts: T0 + i * 3_600_000 })));
  const now = T0 + DAY;

  it('one usable AP places the watch at it with that AP’s uncertainty', () => {
    const est = locateFromAccessPoints([{ estimate: learned(SCHOOL), rssi: -55 }], now)!;
    expect(distanceMeters(est, SCHOOL)).toBeLessThan(5);
    expect(est.acc).toBeGreaterThanOrEqual(15);
    expect(est.acc).toBeLessThan(80);
  });

  it('drops an AP that disagrees with the others, and gives up on two that disagree', () => {
    const far = moveMeters(SCHOOL, 5000, 0);
    const three = locateFromAccessPoints(
      [{ estimate: learned(SCHOOL) }, { estimate: learned(moveMeters(SCHOOL, 30, 0)) }, { estimate: learned(far), rssi: -40 }],
      now,
    )!;
    expect(three.used).toBe(2);
    expect(distanceMeters(three, SCHOOL)).toBeLessThan(30);
    expect(locateFromAccessPoints([{ estimate: learned(SCHOOL) }, { estimate: learned(far) }], now)).toBeUndefined();
  });

  it('ignores APs with too little evidence or past their age', () => {
    expect(locateFromAccessPoints([{ estimate: learned(SCHOOL, 1) }], now)).toBeUndefined();
    expect(locateFromAccessPoints([{ estimate: learned(SCHOOL) }], T0 + 100 * DAY)).toBeUndefined();
    expect(locateFromAccessPoints([], now)).toBeUndefined();
  });
});
