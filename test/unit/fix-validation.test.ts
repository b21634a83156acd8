// What a watch author sees on a wrong first report: every problem of a fix named, a missing field
// called "required", and a `ts` in seconds recognised as such.
import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/contract/errors.js';
import { eventSchemas, parseOrThrow } from '../../src/contract/schemas.js';
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

// The report's shape, checked before any fix (docs/protocol.md, "location:report").
describe('location:report payload shape', () => {
  const shapeError = (payload: unknown): string => {
    try {
      parseOrThrow(eventSchemas['location:report'], payload);
    } catch (err) {
      expect(err).toBeInstanceOf(HubError);
      expect((err as HubError).code).toBe('BAD_REQUEST');
      return (err as HubError).message;
    }
    throw new Error(`${JSON.stringify(payload)} passed the report schema`);
  };

  it('takes one fix, or { fixes } with 1–100 entries, unchanged', () => {
    expect(parseOrThrow(eventSchemas['location:report'], good)).toEqual(good);
    const many = { fixes: [good, { ...good, ts: good.ts + 1 }] };
    expect(parseOrThrow(eventSchemas['location:report'], many)).toEqual(many);
    // A single fix with a wrong field passes the shape: its problem is a rejection of index 0.
    expect(parseOrThrow(eventSchemas['location:report'], { ...good, lat: 'north' })).toMatchObject({ lat: 'north' });
  });

  it('refuses both forms at once with the documented messages', () => {
    expect(shapeError({ ...good, fixes: 'x' })).toBe('send one fix or { fixes }, not both');
    expect(shapeError({ ...good, fixes: [good] })).toBe('Invalid input');
  });

  it('refuses what is neither form', () => {
    for (const payload of [
      [good],
      'fix',
      42,
      null,
      { fixes: [] },
      { fixes: Array(101).fill(good) },
      { fixes: [good], extra: 1 },
    ]) {
      shapeError(payload);
    }
    expect(shapeError({ fixes: [] })).toMatch(/fixes/);
  });
});
