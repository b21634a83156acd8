// What a watch author sees on a wrong first report: every problem of a fix named, a missing field
// called "required", and a `ts` in seconds recognised as such.
import { describe, expect, it } from 'vitest';
import { checkFixes } from '../../src/location/validate.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const limits = { maxFutureMs: 300_000, maxAgeMs: 30 * 86_400_000 };
const good = { ts: NOW - 1000, lat: 52.5, lng: 13.4, acc: 10, source: 'gps' };

describe('fix validation messages', () => {
  it('lists every problem of a fix, not only the first', () => {
    const { accepted, rejected } = checkFixes([{ ...good, lat: 95, lng: -200, acc: -1 }], NOW, limits);
    expect(accepted).toEqual([]);
    expect(rejected).toHaveLength(1);
    const message = rejected[0]!.message;
    for (const field of ['lat', 'lng', 'acc']) expect(message).toContain(`${field}:`);
  });

  it('names a missing field as required', () => {
    const { ts: _ts, acc: _acc, ...partial } = good;
    const { rejected } = checkFixes([partial], NOW, limits);
    expect(rejected[0]!.message).toMatch(/ts: required/);
    expect(rejected[0]!.message).toMatch(/acc: required/);
    expect(rejected[0]!.message).not.toMatch(/undefined/);
  });

  it('recognises a ts in seconds and says ts is in milliseconds', () => {
    const { accepted, rejected } = checkFixes([{ ...good, ts: Math.floor(NOW / 1000) }], NOW, limits);
    expect(accepted).toEqual([]);
    expect(rejected[0]).toMatchObject({ index: 0, code: 'BAD_REQUEST' });
    expect(rejected[0]!.message).toMatch(/seconds.*milliseconds/);
  });

  it('still calls a genuinely old ts old', () => {
    const { rejected } = checkFixes([{ ...good, ts: NOW - 40 * 86_400_000 }], NOW, limits);
    expect(rejected[0]!.message).toBe('ts is older than the retention window');
  });

  it('accepts a good fix beside bad ones, with the bad ones indexed', () => {
    const { accepted, rejected } = checkFixes(
      [{ ...good, lat: 'x' }, good, { ...good, ts: good.ts + 1, source: 'moon' }],
      NOW,
      limits,
    );
    expect(accepted).toEqual([good]);
    expect(rejected.map((r) => r.index)).toEqual([0, 2]);
  });

  it('refuses a fix taken before the watch’s binding began: it is the previous family’s', () => {
    const boundAt = NOW - 60_000;
    const before = { ...good, ts: boundAt - 1 };
    const at = { ...good, ts: boundAt };
    const { accepted, rejected } = checkFixes([before, at], NOW, { ...limits, notBefore: boundAt });
    expect(accepted).toEqual([at]);
    expect(rejected).toEqual([{ index: 0, code: 'BAD_REQUEST', message: 'ts is before the watch was bound to its family' }]);
  });
});
