// The cells/wifi schemas a fix carries: strict ranges, MAC normalisation, bounds, and how they
// compose with the real fixSchema (all of lat/lng/acc or none, never 0,0 by default).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixSchema } from '../../../src/contract/schemas.js';
import {
  MAX_CELLS,
  MAX_WIFI,
  cellObservation,
  normaliseMac,
  serialiseObservations,
  wifiField,
} from '../../../src/positioning/observations.js';

// The fix schema itself, with its observations (built from fixObservationShape and checkFixPosition).
const fixWithObservations = fixSchema;

describe('MAC addresses', () => {
  it('normalises the usual spellings to lower-case colon form', () => {
    for (const s of ['0A:1B:2C:3D:4E:5F', '0a-1b-2c-3d-4e-5f', '0a1b2c3d4e5f', '0A1b2C3d4E5f']) {
      expect(normaliseMac(s)).toBe('0a:1b:2c:3d:4e:5f');
    }
  });

  it('refuses malformed, mixed-separator, group and all-zero addresses', () => {
    for (const s of [
      '0a:1b:2c:3d:4e',
      '0a:1b-2c:3d:4e:5f',
      'zz:1b:2c:3d:4e:5f',
      '01:00:5e:00:00:fb',
      'ff:ff:ff:ff:ff:ff',
      '00:00:00:00:00:00',
      ' 0a:1b:2c:3d:4e:5f',
      '',
    ]) {
      expect(normaliseMac(s), s).toBeUndefined();
    }
  });

  it('normalising is idempotent and yields the canonical form (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 6, maxLength: 6 }),
        fc.constantFrom(':', '-', ''),
        fc.boolean(),
        (bytes, sep, upper) => {
          const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0'));
          const raw = upper ? hex.join(sep).toUpperCase() : hex.join(sep);
          const mac = normaliseMac(raw);
          const unicast = (bytes[0]! & 1) === 0 && bytes.some((b) => b !== 0);
          if (!unicast) return mac === undefined;
          return mac === hex.join(':') && normaliseMac(mac) === mac;
        },
      ),
    );
  });
});

describe('cell observations', () => {
  it('accepts real identifiers of each radio', () => {
    expect(cellObservation.parse({ mcc: 262, mnc: 1, lac: 12345, cid: 54321, rssi: -81, radio: 'gsm' })).toMatchObject({
      cid: 54321,
    });
    expect(cellObservation.parse({ mcc: 262, mnc: 2, lac: 40100, cid: 26_843_545, radio: 'lte' }).radio).toBe('lte');
    expect(cellObservation.parse({ mcc: 310, mnc: 260, lac: 0xffffff, cid: 2 ** 36 - 1, radio: 'nr' }).cid).toBe(2 ** 36 - 1);
  });

  it('refuses identifiers out of the radio’s range, fractions, strings and unknown keys', () => {
    const bad = [
      { mcc: 262, mnc: 1, lac: 1, cid: 70_000, radio: 'gsm' },
      { mcc: 262, mnc: 1, lac: 70_000, cid: 1, radio: 'lte' },
      { mcc: 262, mnc: 1, lac: 1, cid: 2 ** 28, radio: 'lte' },
      { mcc: 0, mnc: 1, lac: 1, cid: 1 },
      { mcc: 1000, mnc: 1, lac: 1, cid: 1 },
      { mcc: 262, mnc: 1.5, lac: 1, cid: 1 },
      { mcc: '262', mnc: 1, lac: 1, cid: 1 },
      { mcc: 262, mnc: 1, lac: 1, cid: 1, rssi: 5 },
      { mcc: 262, mnc: 1, lac: 1, cid: 1, radio: '6g' },
      { mcc: 262, mnc: 1, lac: 1, cid: 1, imei: '1' },
    ];
    for (const c of bad) expect(cellObservation.safeParse(c).success, JSON.stringify(c)).toBe(false);
  });
});

describe('a fix with observations', () => {
  const cell = { mcc: 262, mnc: 1, lac: 1, cid: 2, rssi: -70, radio: 'lte' as const };
  const ap = (i: number, rssi = -60) => ({ mac: `0a:00:00:00:00:${i.toString(16).padStart(2, '0')}`, rssi });

  it('may leave out lat/lng/acc with cells or wifi, and then says wifi or cell', () => {
    expect(fixWithObservations.safeParse({ ts: 1, source: 'cell', cells: [cell] }).success).toBe(true);
    expect(fixWithObservations.safeParse({ ts: 1, source: 'wifi', wifi: [ap(1), ap(2)] }).success).toBe(true);
    expect(fixWithObservations.safeParse({ ts: 1, source: 'gps', cells: [cell] }).success).toBe(false);
    expect(fixWithObservations.safeParse({ ts: 1, source: 'cell' }).success).toBe(false);
    expect(fixWithObservations.safeParse({ ts: 1, source: 'cell', cells: [] }).success).toBe(false);
    // Half a position is a client bug, not a sign of life.
    expect(fixWithObservations.safeParse({ ts: 1, lat: 52, source: 'cell', cells: [cell] }).success).toBe(false);
    expect(fixWithObservations.safeParse({ ts: 1, lat: 52, lng: 13, acc: 10, source: 'gps', wifi: [ap(1)] }).success).toBe(true);
  });

  it('is bounded: at most 16 cells and 32 access points', () => {
    const cells = Array.from({ length: MAX_CELLS + 1 }, (_, i) => ({ ...cell, cid: i }));
    const wifi = Array.from({ length: MAX_WIFI + 1 }, (_, i) => ap(i + 2));
    expect(fixWithObservations.safeParse({ ts: 1, source: 'cell', cells }).success).toBe(false);
    expect(fixWithObservations.safeParse({ ts: 1, source: 'cell', cells: cells.slice(1) }).success).toBe(true);
    expect(fixWithObservations.safeParse({ ts: 1, source: 'wifi', wifi }).success).toBe(false);
    expect(fixWithObservations.safeParse({ ts: 1, source: 'wifi', wifi: wifi.slice(1) }).success).toBe(true);
  });

  it('merges duplicate MACs (any spelling) keeping the strongest, and an opt-out wins', () => {
    const out = wifiField.parse([
      { mac: '0A-00-00-00-00-01', rssi: -80 },
      { mac: '0a:00:00:00:00:01', rssi: -50 },
      { mac: '0a:00:00:00:00:02', rssi: -40, ssid: 'Home' },
      { mac: '0a0000000002', rssi: -90, ssid: 'Home_nomap' },
    ]);
    expect(out).toEqual([
      { mac: '0a:00:00:00:00:01', rssi: -50 },
      { mac: '0a:00:00:00:00:02', rssi: -40, ssid: '_nomap' },
    ]);
  });

  it('refuses an SSID over 32 bytes even when it is 32 characters or fewer', () => {
    expect(wifiField.safeParse([{ mac: '0a:00:00:00:00:01', ssid: 'é'.repeat(17) }]).success).toBe(false);
    expect(wifiField.safeParse([{ mac: '0a:00:00:00:00:01', ssid: 'é'.repeat(16) }]).success).toBe(true);
  });

  it('is stored without SSIDs and without opted-out access points', () => {
    const wifi = wifiField.parse([
      { mac: '0a:00:00:00:00:01', rssi: -50, ssid: 'Smith family' },
      { mac: '0a:00:00:00:00:02', ssid: 'cafe_nomap' },
    ]);
    const stored = serialiseObservations({ cells: [cell], wifi });
    expect(stored.wifi).toBe(JSON.stringify([{ mac: '0a:00:00:00:00:01', rssi: -50 }]));
    expect(stored.wifi).not.toContain('Smith');
    expect(JSON.parse(stored.cells!)).toEqual([cell]);
    expect(serialiseObservations({})).toEqual({ cells: null, wifi: null });
  });
});
