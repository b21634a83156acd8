import { describe, it, expect } from 'vitest';
import { payloadBytes } from '../../rooms/payload-size.js';

const BIG = 1_000_000_000;

describe('payloadBytes', () => {
  it('counts strings in UTF-8 bytes (plus 2 for quotes)', () => {
    expect(payloadBytes('', BIG)).toBe(2);
    expect(payloadBytes('hello', BIG)).toBe(7);
    expect(payloadBytes('é', BIG)).toBe(4); // 2 bytes in UTF-8, not 1 char
    expect(payloadBytes('€', BIG)).toBe(5); // 3 bytes
    expect(payloadBytes('🙂', BIG)).toBe(6); // 4 bytes, 2 UTF-16 units
    expect(payloadBytes('x'.repeat(1000), BIG)).toBe(1002);
  });

  it('counts scalars as 8 bytes', () => {
    for (const v of [0, 1.5, true, false, null, undefined]) expect(payloadBytes(v, BIG)).toBe(8);
  });

  it('counts Buffers and typed arrays by byteLength', () => {
    expect(payloadBytes(Buffer.alloc(0), BIG)).toBe(0);
    expect(payloadBytes(Buffer.alloc(1234), BIG)).toBe(1234);
    expect(payloadBytes(new Uint8Array(10), BIG)).toBe(10);
    expect(payloadBytes(new Float64Array(10), BIG)).toBe(80);
    expect(payloadBytes(new ArrayBuffer(7), BIG)).toBe(7);
    expect(payloadBytes({ img: Buffer.alloc(5000) }, BIG)).toBe(5000 + 3 + 4);
  });

  it('counts arrays and nested objects (keys + 4, arrays + 2 and + 1 per element)', () => {
    expect(payloadBytes([], BIG)).toBe(2);
    expect(payloadBytes({}, BIG)).toBe(0);
    expect(payloadBytes(['ab', 1], BIG)).toBe(2 + 2 + 4 + 8);
    expect(payloadBytes({ a: 1 }, BIG)).toBe(1 + 4 + 8);
    expect(payloadBytes({ é: 'é' }, BIG)).toBe(2 + 4 + 4);
    const nested = { lat: 1, lng: 2, tags: ['a', { deep: ['x', null] }] };
    // lat:3+4+8 lng:3+4+8 tags:4+4 + [2+2 + 'a'3 + {deep:4+4 + [2+2 + 'x'3 + null 8]}]
    expect(payloadBytes(nested, BIG)).toBe(15 + 15 + 8 + 4 + 3 + 8 + 4 + 3 + 8);
  });

  it('grows with content, so a larger payload never measures smaller', () => {
    const small = { msg: 'x'.repeat(100) };
    const large = { msg: 'x'.repeat(100), more: ['x'.repeat(100)] };
    expect(payloadBytes(large, BIG)).toBeGreaterThan(payloadBytes(small, BIG));
  });

  it('returns the exact size when at or under the limit', () => {
    const v = { a: 'x'.repeat(50) };
    const size = payloadBytes(v, BIG);
    expect(payloadBytes(v, size)).toBe(size);
  });

  it('stops counting once past the limit (1e6-element array, small limit)', () => {
    const huge = new Array<number>(1_000_000).fill(1);
    const limit = 1024;
    const n = payloadBytes(huge, limit);
    expect(n).toBeGreaterThan(limit);
    expect(n).toBeLessThan(limit + 1000);
    // Without the early stop it would be 2 + 9e6.
    expect(payloadBytes(huge, BIG)).toBe(2 + 9 * 1_000_000);
  });

  it('stops early on deeply nested and long-string payloads too', () => {
    const strings = Array.from({ length: 10_000 }, () => 'y'.repeat(100));
    const n = payloadBytes({ strings }, 500);
    expect(n).toBeGreaterThan(500);
    expect(n).toBeLessThan(500 + 1000);
    // A single over-limit string is counted in one step: still > limit.
    expect(payloadBytes('z'.repeat(10_000), 100)).toBe(10_002);
  });

  // Measuring must cost about the limit, not the payload's size.
  it('reads only about limit-many elements of a huge array', () => {
    let reads = 0;
    const huge = new Proxy(new Array<number>(1_000_000).fill(1), {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    expect(payloadBytes(huge, 1024)).toBeGreaterThan(1024);
    expect(reads).toBeLessThan(10_000);
  });
});
