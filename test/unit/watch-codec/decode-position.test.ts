import { describe, expect, it } from 'vitest';
import { decodeFrame, statusFlags } from '../../../src/watch/codec/index.js';
import { as, decoded, frame } from './helpers.js';

const pos = (content: string, opts?: Parameters<typeof frame>[1]) => {
  const f = decoded(frame(content, opts));
  return f.kind === 'alarm' ? f.position : as(f, 'position').position;
};

describe('position frames', () => {
  it('decodes a UD2 fix with cells, Wi-Fi and a trailing accuracy field', () => {
    const f = as(
      decoded(
        frame(
          'UD2,140523,071522,A,22.571707,N,113.861396,E,0.50,12.8,45.0,7,80,91,1200,2,00000000,' +
            '2,1,460,0,9360,4082,131,9360,4092,148,1,home-ap,34:31:c4:c8:a9:22,-67,0.0',
        ),
      ),
      'position',
    );
    expect(f.type).toBe('UD2');
    expect(f.header).toEqual({ maker: '3G', id: '8800000015', index: null, declaredLength: expect.any(Number) });
    expect(f.position).toEqual({
      ts: Date.UTC(2023, 4, 14, 7, 15, 22),
      valid: true,
      lat: 22.571707,
      lng: 113.861396,
      speedKmh: 0.5,
      course: 12.8,
      altitude: 45,
      satellites: 7,
      signal: 80,
      battery: 91,
      steps: 1200,
      tumbles: 2,
      status: 0,
      flags: { alerts: [], lowBattery: false },
      cells: [
        { mcc: 460, mnc: 0, lac: 9360, cid: 4082, rssi: 131 },
        { mcc: 460, mnc: 0, lac: 9360, cid: 4092, rssi: 148 },
      ],
      wifi: [{ ssid: 'home-ap', mac: '34:31:c4:c8:a9:22', rssi: -67 }],
    });
  });

  it('makes S and W negative', () => {
    const p = pos('UD,010224,235959,A,33.868820,S,151.209296,E,0,0,0,9,90,50,0,0,00000000,0,0');
    expect([p.lat, p.lng]).toEqual([-33.86882, 151.209296]);
    const q = pos('UD,010224,235959,A,40.712776,N,74.005974,W,0,0,0,9,90,50,0,0,00000000,0,0');
    expect([q.lat, q.lng]).toEqual([40.712776, -74.005974]);
  });

  it('keeps the sign a watch wrote itself, with N/E or an empty hemisphere', () => {
    const p = pos('UD2,210716,231601,A,-33.480366,N,-70.763069,E,0.00,0.0,0.0,6,100,34,0,0,00000000,0,0');
    expect([p.lat, p.lng]).toEqual([-33.480366, -70.763069]);
    const q = pos('UD,030117,161129,A,52.745450,N,0.369512,,0.1481,000,99,00,70,5,0,50,00000000,0,0');
    expect([q.lat, q.lng]).toEqual([52.74545, 0.369512]);
    const r = pos('UD,110116,113639,A,16.479064,S,-68.119072,,0.7593,000,99,00,80,80,0,50,00000000,0,0');
    expect([r.lat, r.lng]).toEqual([-16.479064, -68.119072]);
    // A negative value with S or W is still south or west, never flipped back.
    const s = pos('UD2,100116,153723,A,38.000000,N,-9.000000,W,0.44,299.3,0.0,7,100,86,0,0,00000008,0,0');
    expect([s.lat, s.lng]).toEqual([38, -9]);
  });

  it('reads numbers padded with spaces', () => {
    const p = pos('UD,120316,140610,A,48.779045,N, 9.1574736,E,0.00,0.0,0.0,5,25,83,0,0,00000000,0,0');
    expect(p.lng).toBe(9.1574736);
    expect(p.battery).toBe(83);
  });

  it('never gives coordinates for an invalid fix, nor for a "valid" one at 0,0', () => {
    const v = pos('UD,070318,020827,V,48.779045,N,9.157473,E,0,0,0,0,100,19,1000,50,00000000,1,255,262,1,21041,9067,121');
    expect(v.valid).toBe(false);
    expect('lat' in v || 'lng' in v).toBe(false);
    expect(v.cells).toEqual([{ mcc: 262, mnc: 1, lac: 21041, cid: 9067, rssi: 121 }]);
    const zero = pos('UD,070318,020827,A,00.000000,N,000.000000,E,0,0,0,0,100,19,1000,50,00000000,0,0');
    expect(zero.valid).toBe(false);
    expect('lat' in zero || 'lng' in zero).toBe(false);
    const offGlobe = pos('UD,070318,020827,A,91.000000,N,10.000000,E,0,0,0,0,100,19,1000,50,00000000,0,0');
    expect(offGlobe.valid).toBe(false);
  });

  it('reads the INDEX field of ZJ watches and accepts a LEN that is wrong', () => {
    const f = as(
      decoded(
        frame('AL,040418,052156,A,22.536207,N,113.938673,E,0,0,0,5,100,82,1000,50,00100000,1,255,460,0,9340,3663,35', {
          maker: 'ZJ',
          id: '014111001332708',
          index: '0075',
          len: '0064',
        }),
      ),
      'alarm',
    );
    expect(f.header).toEqual({ maker: 'ZJ', id: '014111001332708', index: '0075', declaredLength: 0x64 });
    expect(f.position.flags).toEqual({ alerts: ['removed'], lowBattery: false });
    expect(f.position.cells).toEqual([{ mcc: 460, mnc: 0, lac: 9340, cid: 3663, rssi: 35 }]);
  });

  it('reads SG frames whose empty cell list still has ta, mcc and mnc', () => {
    const p = pos('UD,251021,223408,A,41.465000,N,81.531280,W,0.926,000,0,00,70,70,0,50,00000000,0,1,,,,00', { maker: 'SG' });
    expect(p.lng).toBe(-81.53128);
    expect(p.cells).toEqual([]);
    expect(p.wifi).toEqual([]);
    const q = pos(
      'UD,251021,223408,V,0,N,0,E,0,0,0,0,70,70,0,50,00000000,0,1,460,0,2,a,aa:bb:cc:dd:ee:01,-50,b,aa:bb:cc:dd:ee:02,-60',
    );
    expect(q.wifi.map((w) => w.mac)).toEqual(['aa:bb:cc:dd:ee:01', 'aa:bb:cc:dd:ee:02']);
  });

  it('reads Wi-Fi names holding commas and brackets, and drops entries whose MAC is the placeholder 0', () => {
    const p = pos(
      'UD,010120,025946,V,0.0,N,0.0,E,22.0,0,-1,0,100,98,0,0,00000000,0,4,' +
        'Cafe, Bar & Grill,f4:db:e6:d2:a8:00,-53,[Guest] net,f4:db:e6:da:d0:80,-79,printer,0,-60,Home-5G,78:0C:F0:24:F9:80,-82,0.0',
    );
    expect(p.altitude).toBe(-1);
    expect(p.wifi).toEqual([
      { ssid: 'Cafe, Bar & Grill', mac: 'f4:db:e6:d2:a8:00', rssi: -53 },
      { ssid: '[Guest] net', mac: 'f4:db:e6:da:d0:80', rssi: -79 },
      { ssid: 'Home-5G', mac: '78:0c:f0:24:f9:80', rssi: -82 },
    ]);
  });

  it('takes no more Wi-Fi entries than the count says, and leaves empty names out', () => {
    const p = pos(
      'UD,010120,025946,V,0.0,N,0.0,E,0,0,0,0,100,98,0,0,00000000,0,1,,aa-bb-cc-dd-ee-ff,-40,x,11:22:33:44:55:66,-41',
    );
    expect(p.wifi).toEqual([{ mac: 'aa:bb:cc:dd:ee:ff', rssi: -40 }]);
  });

  it('reads hex lac and cid of LTE firmwares and tags LTE cells', () => {
    const p = pos(
      'UD_LTE,300621,135101,A,32.162652,N,34.888748,E,30.84,265.158,65.621,18,100,83,0,0,00000000,1,1,425,01,27DF,7A3B0C,100,0,1.7055488',
    );
    expect(p.cells).toEqual([{ mcc: 425, mnc: 1, lac: 0x27df, cid: 0x7a3b0c, rssi: 100, radio: 'lte' }]);
    expect(p.speedKmh).toBe(30.84);
    expect(p.course).toBe(265.158);
  });

  it('keeps at most 16 cells and 32 access points', () => {
    const cells = Array.from({ length: 20 }, (_, i) => `100,${1000 + i},50`).join(',');
    const aps = Array.from({ length: 40 }, (_, i) => `ap${i},02:00:00:00:00:${(i + 16).toString(16)},-70`).join(',');
    const p = pos(`UD,010120,025946,V,0,N,0,E,0,0,0,0,100,98,0,0,00000000,20,1,234,15,${cells},40,${aps}`);
    expect(p.cells).toHaveLength(16);
    expect(p.cells[15]!.cid).toBe(1015);
    expect(p.wifi).toHaveLength(32);
    expect(p.wifi[31]!.ssid).toBe('ap31');
  });

  it('gives ts null for a date that does not exist, but keeps the fix', () => {
    const p = pos('UD,320223,120000,A,10.000000,N,10.000000,E,0,0,0,4,100,50,0,0,00000000,0,0');
    expect(p.ts).toBeNull();
    expect(p.lat).toBe(10);
  });

  it('answers malformed fields with an error that still names the header and type', () => {
    const cases = [
      'AL,040418,052156,A,22.5,N,113.9,E,0,0,0,5,100,82,1000,50', // one field short
      'AL,040418,052156,X,22.5,N,113.9,E,0,0,0,5,100,82,1000,50,00000000',
      'AL,040418,052156,A,abc,N,113.9,E,0,0,0,5,100,82,1000,50,00000000',
      'AL,040418,052156,A,22.5,Q,113.9,E,0,0,0,5,100,82,1000,50,00000000',
      'AL,040418,052156,A,22.5,N,113.9,E,0,0,0,5,100,82,1000,50,zz',
      'AL,04a418,052156,A,22.5,N,113.9,E,0,0,0,5,100,82,1000,50,00000000',
      'AL,040418,052156,A,22.5,N,113.9,E,fast,0,0,5,100,82,1000,50,00000000',
    ];
    for (const c of cases) {
      const r = decodeFrame(frame(c));
      expect(r.ok, c).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('BAD_FIELDS');
        expect(r.error.type).toBe('AL');
        expect(r.error.header?.id).toBe('8800000015');
      }
    }
  });
});

describe('status word', () => {
  it('maps the PROTOCOL bits to alerts', () => {
    expect(statusFlags(0x00010000)).toEqual({ alerts: ['sos'], lowBattery: false });
    expect(statusFlags(0x00100000)).toEqual({ alerts: ['removed'], lowBattery: false });
    expect(statusFlags(0x00200000)).toEqual({ alerts: ['fall'], lowBattery: false });
    expect(statusFlags(0x00400000)).toEqual({ alerts: ['fall'], lowBattery: false });
    expect(statusFlags(0x00000001)).toEqual({ alerts: [], lowBattery: true });
    expect(statusFlags(0x00020000)).toEqual({ alerts: [], lowBattery: true });
    expect(statusFlags(0x00710001)).toEqual({ alerts: ['sos', 'fall', 'removed'], lowBattery: true });
    // Motion (bit 4) and geofence bits raise nothing here.
    expect(statusFlags(0x000c0016)).toEqual({ alerts: [], lowBattery: false });
  });

  it('decodes an SOS alarm from an AL_LTE frame with no fix', () => {
    const f = as(decoded(frame('AL_LTE,170525,214118,V,0,N,0,E,0,0,0,0,0,22,0,0,00010000,0,0,0')), 'alarm');
    expect(f.position.flags.alerts).toEqual(['sos']);
    expect(f.position.valid).toBe(false);
    expect(f.position.battery).toBe(22);
  });
});
