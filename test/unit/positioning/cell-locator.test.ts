// Position from heard towers, the OpenCellID line parser, the local metric frame and the breaker.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { distanceMeters } from '../../../src/geo/geometry.js';
import { MIN_RANGE_M, type TowerSighting, locateFromTowers } from '../../../src/positioning/cell-locator.js';
import { CircuitBreaker } from '../../../src/positioning/circuit-breaker.js';
import { isHeader, parseTowerLine } from '../../../src/positioning/opencellid.js';
import { moveMeters, offsetMeters } from '../../../src/positioning/weighted-centroid.js';

const BERLIN = { lat: 52.520008, lng: 13.404954 };
const tower = (x: number, y: number, over: Partial<TowerSighting> = {}): TowerSighting => ({
  ...moveMeters(BERLIN, x, y),
  rangeM: 1500,
  samples: 40,
  radio: 'lte',
  ...over,
});

describe('locating from cell towers', () => {
  it('one tower: its position, and its range as the accuracy (never below the radio’s floor)', () => {
    const est = locateFromTowers([tower(0, 0)])!;
    expect(distanceMeters(est, BERLIN)).toBeLessThan(0.01);
    expect(est.acc).toBeCloseTo(1500, 0);
    expect(locateFromTowers([tower(0, 0, { rangeM: 3 })])!.acc).toBeCloseTo(MIN_RANGE_M.lte, 0);
    // Placed from two measurements: less sure.
    expect(locateFromTowers([tower(0, 0, { samples: 2 })])!.acc).toBeCloseTo(2250, 0);
  });

  it('leans towards the stronger and the smaller cell', () => {
    const strongEast = locateFromTowers([tower(-1000, 0, { rssi: -100 }), tower(1000, 0, { rssi: -60 })])!;
    expect(offsetMeters(BERLIN, strongEast).x).toBeGreaterThan(500);
    const smallWest = locateFromTowers([tower(-1000, 0, { rangeM: 600 }), tower(1000, 0, { rangeM: 2400 })])!;
    expect(offsetMeters(BERLIN, smallWest).x).toBeLessThan(-500);
  });

  it('drops a tower far from the others, and gives up on two that contradict', () => {
    const est = locateFromTowers([tower(0, 0), tower(800, 300), tower(60_000, 0, { rssi: -50 })])!;
    expect(est.used).toBe(2);
    expect(distanceMeters(est, BERLIN)).toBeLessThan(1000);
    expect(locateFromTowers([tower(0, 0), tower(60_000, 0)])).toBeUndefined();
    expect(locateFromTowers([])).toBeUndefined();
  });

  it('stays among the towers and is never more sure than the best cell (property)', () => {
    const arbTower = fc
      .record({
        x: fc.double({ min: -3000, max: 3000, noNaN: true }),
        y: fc.double({ min: -3000, max: 3000, noNaN: true }),
        rangeM: fc.integer({ min: 0, max: 10_000 }),
        rssi: fc.option(fc.integer({ min: -120, max: -40 }), { nil: undefined }),
      })
      .map((t) => tower(t.x, t.y, { rangeM: t.rangeM, rssi: t.rssi }));
    fc.assert(
      fc.property(fc.array(arbTower, { minLength: 1, maxLength: 16 }), (towers) => {
        const est = locateFromTowers(towers);
        if (!est) return towers.length >= 2;
        const o = offsetMeters(BERLIN, est);
        const inBox = Math.abs(o.x) <= 3000 + 1 && Math.abs(o.y) <= 3000 + 1;
        const best = Math.min(...towers.map((t) => Math.max(t.rangeM, MIN_RANGE_M.lte)));
        return inBox && est.acc >= best - 1e-6 && !(est.lat === 0 && est.lng === 0);
      }),
    );
  });
});

describe('the local metric frame', () => {
  it('moving by an offset lands on the point, across the antimeridian too (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -80, max: 80, noNaN: true }),
        fc.double({ min: -180, max: 180, noNaN: true }),
        fc.double({ min: -5000, max: 5000, noNaN: true }),
        fc.double({ min: -5000, max: 5000, noNaN: true }),
        (lat, lng, x, y) => {
          const ref = { lat, lng };
          const p = moveMeters(ref, x, y);
          const o = offsetMeters(ref, p);
          // The round trip is exact; the frame's distances are an approximation (equirectangular:
          // the east offset is scaled at the reference latitude), within 1% over a few km up to 80°.
          const d = Math.hypot(x, y);
          return Math.abs(o.x - x) < 1e-3 && Math.abs(o.y - y) < 1e-3 && Math.abs(distanceMeters(ref, p) - d) <= 0.01 * d + 0.01;
        },
      ),
    );
  });
});

describe('OpenCellID lines', () => {
  const good = 'LTE,262,2,40100,26843545,0,13.404954,52.520008,1200,57,1,1459813000,1700000000,-95';

  it('parses a row: seconds become ms, 0 signal is unknown', () => {
    expect(parseTowerLine(good)).toEqual({
      ok: true,
      tower: {
        radio: 'lte',
        mcc: 262,
        net: 2,
        area: 40100,
        cell: 26843545,
        lat: 52.520008,
        lng: 13.404954,
        rangeM: 1200,
        samples: 57,
        changeable: 1,
        createdAt: 1459813000_000,
        updatedAt: 1700000000_000,
        averageSignal: -95,
      },
    });
    const r = parseTowerLine('GSM,262,1,1234,5678,0,13.4,52.5,0,1,1,1,2,0\r');
    expect(r.ok && r.tower.averageSignal).toBeNull();
    expect(isHeader('radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal')).toBe(true);
  });

  it('gives a reason for each bad row', () => {
    const cases: [string, string][] = [
      ['LTE,262,2,40100,1,0,13.4,52.5,1200,57,1,1,2', 'field_count'],
      ['WIMAX,262,2,40100,1,0,13.4,52.5,1200,57,1,1,2,0', 'radio'],
      ['GSM,262,2,40100,70000,0,13.4,52.5,1200,57,1,1,2,0', 'identifiers'],
      ['LTE,0,2,40100,1,0,13.4,52.5,1200,57,1,1,2,0', 'identifiers'],
      ['LTE,262,2,-1,1,0,13.4,52.5,1200,57,1,1,2,0', 'identifiers'],
      ['LTE,262,2,40100,1,0,0,0,1200,57,1,1,2,0', 'position'],
      ['LTE,262,2,40100,1,0,13.4,95,1200,57,1,1,2,0', 'position'],
      ['LTE,262,2,40100,1,0,1e3,52.5,1200,57,1,1,2,0', 'position'],
      ['LTE,262,2,40100,1,0,13.4,52.5,500000,57,1,1,2,0', 'range'],
      ['LTE,262,2,40100,1,0,13.4,52.5,1200,57,2,1,2,0', 'numbers'],
      ['LTE,262,2,40100,1,0,13.4,52.5,1200,x,1,1,2,0', 'numbers'],
    ];
    for (const [line, reason] of cases) expect(parseTowerLine(line), line).toEqual({ ok: false, reason });
  });
});

describe('the circuit breaker', () => {
  it('opens after the threshold, lets one trial through after the pause, and closes or reopens on it', () => {
    let now = 0;
    const states: string[] = [];
    const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1000, clock: () => now, onState: (s) => states.push(s) });
    for (let i = 0; i < 2; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.failure();
    }
    expect(b.state).toBe('closed');
    b.success(); // a success resets the count
    for (let i = 0; i < 3; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.failure();
    }
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    now = 1000;
    expect(b.tryAcquire()).toBe(true);
    expect(b.state).toBe('half_open');
    expect(b.tryAcquire()).toBe(false); // one trial only
    b.failure();
    expect(b.state).toBe('open');
    now = 1999;
    expect(b.tryAcquire()).toBe(false);
    now = 2000;
    expect(b.tryAcquire()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });
});
