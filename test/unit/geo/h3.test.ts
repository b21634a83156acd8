import fc from 'fast-check';
import { cellToLatLng } from 'h3-js';
import { describe, it, expect } from 'vitest';
import { cellOf, isCell, parentOf, resolutionOf } from '../../../src/geo/h3.js';
import { mulberry32, pointArb } from './helpers.js';

const resPair = fc
  .tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 15 }))
  .map(([a, b]) => [Math.max(a, b), Math.min(a, b)] as const);

describe('h3 wrappers', () => {
  it('cellOf gives a valid cell of the asked resolution', () => {
    fc.assert(
      fc.property(pointArb(90), fc.integer({ min: 0, max: 15 }), (p, res) => {
        const c = cellOf(p.lat, p.lng, res);
        expect(isCell(c)).toBe(true);
        expect(resolutionOf(c)).toBe(res);
      }),
    );
  });

  it('parentOf is consistent with cellOf across resolutions', () => {
    fc.assert(
      fc.property(pointArb(85), resPair, fc.integer({ min: 0, max: 15 }), (p, [fine, coarse], mid) => {
        const c = cellOf(p.lat, p.lng, fine);
        expect(parentOf(c, fine)).toBe(c);
        const parent = parentOf(c, coarse);
        expect(resolutionOf(parent)).toBe(coarse);
        // Parents compose through any intermediate resolution.
        const m = Math.min(fine, Math.max(coarse, mid));
        expect(parentOf(parentOf(c, m), coarse)).toBe(parent);
        // H3 children do not tile their parent exactly, so cellOf(p, coarse) may differ from the
        // parent near edges; but the cell at the parent's centre (its centre child) always agrees.
        const [lat, lng] = cellToLatLng(parent);
        expect(parentOf(cellOf(lat, lng, fine), coarse)).toBe(parent);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with cellOf at the coarse resolution for nearly every point', () => {
    // Uniform points (fast-check's doubles cluster on special values such as 0 and the bounds).
    const rand = mulberry32(42);
    const n = 2000;
    let same = 0;
    for (let i = 0; i < n; i++) {
      const lat = -85 + 170 * rand();
      const lng = -180 + 360 * rand();
      if (parentOf(cellOf(lat, lng, 9), 7) === cellOf(lat, lng, 7)) same++;
    }
    expect(same / n).toBeGreaterThan(0.8);
  });

  it('rejects a parent resolution finer than the cell', () => {
    const c = cellOf(48.85, 2.35, 7);
    expect(() => parentOf(c, 8)).toThrow(RangeError);
    expect(() => parentOf(c, -1)).toThrow(RangeError);
    expect(() => parentOf('nope', 3)).toThrow(RangeError);
    expect(() => cellOf(48.85, 2.35, 16)).toThrow(RangeError);
    expect(() => cellOf(Number.NaN, 2.35, 7)).toThrow(RangeError);
  });

  it('isCell accepts only canonical cell strings', () => {
    const c = cellOf(48.85, 2.35, 9);
    expect(isCell(c)).toBe(true);
    expect(isCell(cellOf(0, 0, 0))).toBe(true);
    expect(isCell(cellOf(0, 0, 15))).toBe(true);
    for (const bad of [
      '',
      'garbage',
      'zzzzzzzzzzzzzzz',
      c.toUpperCase(),
      `0${c}`,
      `${c}f`,
      `${c}${c}`,
      'f'.repeat(15),
      '8'.repeat(15),
      '115283473fffffff',
      'x'.repeat(10_000),
    ]) {
      expect(isCell(bad)).toBe(false);
    }
    expect(isCell(undefined as unknown as string)).toBe(false);
    expect(isCell(42 as unknown as string)).toBe(false);
  });
});
