import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeDownlink,
  encodeDownlink,
  parseFrame,
  type Downlink,
  type DownlinkFrame,
  type EncodeResult,
  type WatchAddress,
} from '../../../src/watch/codec/index.js';

const to: WatchAddress = { maker: '3G', id: '8800000015', index: null };
const AMR = Buffer.concat([Buffer.from('#!AMR\n', 'latin1'), Buffer.from([0x3c, 0x7d, 0x5b, 0x2c, 0x91])]);

function wire(r: EncodeResult): string[] {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.frames.map((f) => f.bytes.toString('latin1'));
}
const answers = (r: EncodeResult) => (r.ok ? r.frames.map((f) => f.answer) : []);
const errorCode = (r: EncodeResult) => (r.ok ? 'ok' : r.error.code);

function back(r: EncodeResult): DownlinkFrame[] {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.frames.map((f) => {
    const d = decodeDownlink(f.bytes);
    if (!d.ok) throw new Error(d.error.message);
    return d.frame;
  });
}

describe('downlink encoders', () => {
  it('encodes the commands without parameters', () => {
    expect(wire(encodeDownlink(to, { type: 'locate' }))).toEqual(['[3G*8800000015*0002*CR]']);
    expect(wire(encodeDownlink(to, { type: 'find' }))).toEqual(['[3G*8800000015*0004*FIND]']);
    expect(wire(encodeDownlink(to, { type: 'photo' }))).toEqual(['[3G*8800000015*0008*rcapture]']);
    expect(wire(encodeDownlink(to, { type: 'power_off' }))).toEqual(['[3G*8800000015*0008*POWEROFF]']);
    // The watch answers rcapture in upper case.
    expect(answers(encodeDownlink(to, { type: 'photo' }))).toEqual(['RCAPTURE']);
  });

  it('echoes MF and INDEX the watch uses', () => {
    const zj = { maker: 'ZJ', id: '014111001332708', index: '0075' };
    expect(wire(encodeDownlink(zj, { type: 'locate' }))).toEqual(['[ZJ*014111001332708*0075*0002*CR]']);
  });

  it('encodes set_interval as UPLOAD', () => {
    expect(wire(encodeDownlink(to, { type: 'set_interval', params: { seconds: 300 } }))).toEqual([
      '[3G*8800000015*000A*UPLOAD,300]',
    ]);
    expect(errorCode(encodeDownlink(to, { type: 'set_interval', params: { seconds: 1.5 } }))).toBe('BAD_PARAMS');
  });

  it('encodes SOS numbers as one SOS frame with three slots, or as SOS1…SOS3', () => {
    const params = { numbers: ['+44 7700 900123', '(020) 7946-0018'] };
    expect(wire(encodeDownlink(to, { type: 'set_sos_numbers', params }))).toEqual([
      '[3G*8800000015*001E*SOS,+447700900123,02079460018,]',
    ]);
    const slots = encodeDownlink(to, { type: 'set_sos_numbers', params }, { sosStyle: 'slots' });
    expect(wire(slots)).toEqual([
      '[3G*8800000015*0012*SOS1,+447700900123]',
      '[3G*8800000015*0010*SOS2,02079460018]',
      '[3G*8800000015*0005*SOS3,]',
    ]);
    expect(answers(slots)).toEqual(['SOS1', 'SOS2', 'SOS3']);
    expect(errorCode(encodeDownlink(to, { type: 'set_sos_numbers', params: { numbers: ['111', '222', '333', '444'] } }))).toBe(
      'BAD_PARAMS',
    );
  });

  it('refuses a phone number that could break the frame', () => {
    for (const n of ['123,456', '12]34', '1*2', '[1', 'abc']) {
      expect(errorCode(encodeDownlink(to, { type: 'set_sos_numbers', params: { numbers: [n] } })), n).toBe('BAD_PARAMS');
      expect(errorCode(encodeDownlink(to, { type: 'set_contacts', params: { contacts: [{ name: 'x', phone: n }] } }))).toBe(
        'BAD_PARAMS',
      );
    }
  });

  it('encodes contacts five to a frame, PHB then PHB2, names as UTF-16BE hex', () => {
    const contacts = [
      { name: 'Mum', phone: '+33 6 12 34 56 78' },
      { name: '张三', phone: '13800138000' },
      ...['C', 'D', 'E', 'F', 'G'].map((name, i) => ({ name, phone: `55500${i}` })),
    ];
    const r = encodeDownlink(to, { type: 'set_contacts', params: { contacts } });
    const frames = wire(r);
    expect(frames).toHaveLength(2);
    expect(frames[0]).toBe(
      '[3G*8800000015*0056*PHB,+33612345678,004D0075006D,13800138000,5F204E09,555000,0043,555001,0044,555002,0045]',
    );
    expect(frames[1]).toBe('[3G*8800000015*001C*PHB2,555003,0046,555004,0047]');
    expect(answers(r)).toEqual(['PHB', 'PHB2']);
  });

  it('clears the phonebook with a bare PHB', () => {
    expect(wire(encodeDownlink(to, { type: 'set_contacts', params: { contacts: [] } }))).toEqual(['[3G*8800000015*0003*PHB]']);
  });

  it('encodes daily quiet hours as SILENCETIME and per-weekday ones as SILENCETIME2 (Sunday-first mask)', () => {
    const everyDay = [0, 1, 2, 3, 4, 5, 6];
    expect(
      wire(
        encodeDownlink(to, { type: 'set_quiet_hours', params: { ranges: [{ days: everyDay, start: '21:10', end: '07:30' }] } }),
      ),
    ).toEqual(['[3G*8800000015*001A*SILENCETIME,21:10-07:30,,,]']);
    const weekly = encodeDownlink(to, {
      type: 'set_quiet_hours',
      params: {
        ranges: [
          { days: [1, 2, 3, 4, 5], start: '08:00', end: '12:00' },
          { days: [0, 6], start: '13:00', end: '14:30' },
        ],
      },
    });
    expect(wire(weekly)).toEqual(['[3G*8800000015*0036*SILENCETIME2,08:00-12:00-0111110,13:00-14:30-1000001,,]']);
    expect(wire(encodeDownlink(to, { type: 'set_quiet_hours', params: { ranges: [] } }))).toEqual([
      '[3G*8800000015*000F*SILENCETIME,,,,]',
    ]);
    const five = Array.from({ length: 5 }, () => ({ days: everyDay, start: '01:00', end: '02:00' }));
    expect(errorCode(encodeDownlink(to, { type: 'set_quiet_hours', params: { ranges: five } }))).toBe('BAD_PARAMS');
    expect(
      errorCode(
        encodeDownlink(to, { type: 'set_quiet_hours', params: { ranges: [{ days: [1], start: '24:00', end: '01:00' }] } }),
      ),
    ).toBe('BAD_PARAMS');
  });

  it('encodes voice as TK with escaped AMR bytes, LEN counting the escaped bytes', () => {
    const r = encodeDownlink(to, { type: 'voice_reminder', audio: AMR });
    expect(r.ok && r.frames[0]!.bytes).toEqual(
      Buffer.concat([
        Buffer.from('[3G*8800000015*0011*TK,#!AMR\n<', 'latin1'),
        Buffer.from([0x7d, 0x01, 0x7d, 0x02, 0x7d, 0x04, 0x91, 0x5d]),
      ]),
    );
    expect(answers(r)).toEqual(['TK']);
    expect(answers(encodeDownlink(to, { type: 'voice_message', audio: AMR }))).toEqual(['TK']);
    expect(errorCode(encodeDownlink(to, { type: 'voice_message', audio: Buffer.from('OggS....') }))).toBe('BAD_PARAMS');
    const huge = Buffer.concat([AMR, Buffer.alloc(70_000, 0x11)]);
    expect(errorCode(encodeDownlink(to, { type: 'voice_message', audio: huge }))).toBe('TOO_LARGE');
  });

  it('encodes family text as MESSAGE in UTF-16BE hex, surrogate pairs included', () => {
    expect(wire(encodeDownlink(to, { type: 'text_message', text: 'Hi 👋' }))).toEqual([
      '[3G*8800000015*001C*MESSAGE,004800690020D83DDC4B]',
    ]);
    expect(errorCode(encodeDownlink(to, { type: 'text_message', text: '' }))).toBe('BAD_PARAMS');
  });

  it('encodes the timezone as LZ with a signed hour offset', () => {
    expect(wire(encodeDownlink(to, { type: 'set_timezone', params: { language: 1, hours: 5.5 } }))).toEqual([
      '[3G*8800000015*0009*LZ,1,+5.5]',
    ]);
    expect(wire(encodeDownlink(to, { type: 'set_timezone', params: { language: 0, hours: -3 } }))).toEqual([
      '[3G*8800000015*0007*LZ,0,-3]',
    ]);
    expect(wire(encodeDownlink(to, { type: 'set_timezone', params: { language: 12, hours: 0 } }))).toEqual([
      '[3G*8800000015*0008*LZ,12,+0]',
    ]);
    expect(errorCode(encodeDownlink(to, { type: 'set_timezone', params: { language: 1, hours: 5.3 } }))).toBe('BAD_PARAMS');
    expect(errorCode(encodeDownlink(to, { type: 'set_timezone', params: { language: 1, hours: 15 } }))).toBe('BAD_PARAMS');
  });

  it('refuses an address that is not a watch', () => {
    expect(errorCode(encodeDownlink({ maker: '3G*', id: '1', index: null }, { type: 'locate' }))).toBe('BAD_PARAMS');
    expect(errorCode(encodeDownlink({ maker: '3G', id: '1]', index: null }, { type: 'locate' }))).toBe('BAD_PARAMS');
  });
});

describe('encoder → decoder round trips', () => {
  const phone = fc.tuple(fc.boolean(), fc.stringMatching(/^\d{3,15}$/)).map(([plus, d]) => (plus ? `+${d}` : d));
  const name = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
    .filter((s) => s.trim() === s && s.length > 0 && s.length <= 64);

  const lenIsExact = (r: EncodeResult) => {
    if (!r.ok) return;
    for (const f of r.frames) {
      const p = parseFrame(f.bytes);
      expect(p.ok).toBe(true);
      if (p.ok) expect(p.frame.header.declaredLength).toBe(p.frame.type.length + (p.frame.hasBody ? 1 + p.frame.body.length : 0));
    }
  };

  it('property: contacts come back in order, split into parts 1…n of five', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ name, phone }), { maxLength: 23 }), (contacts) => {
        const r = encodeDownlink(to, { type: 'set_contacts', params: { contacts } });
        lenIsExact(r);
        const frames = back(r);
        expect(frames.map((f) => (f.kind === 'phonebook' ? f.part : -1))).toEqual(
          Array.from({ length: Math.max(1, Math.ceil(contacts.length / 5)) }, (_, i) => i + 1),
        );
        expect(frames.flatMap((f) => (f.kind === 'phonebook' ? f.contacts : []))).toEqual(contacts);
      }),
    );
  });

  it('property: SOS numbers come back in their slots, in both styles', () => {
    fc.assert(
      fc.property(
        fc.array(phone, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('list' as const, 'slots' as const),
        (numbers, sosStyle) => {
          const r = encodeDownlink(to, { type: 'set_sos_numbers', params: { numbers } }, { sosStyle });
          lenIsExact(r);
          const slots = back(r).flatMap((f) => (f.kind === 'sos' ? f.numbers : []));
          expect(slots).toEqual([...numbers, '', '', ''].slice(0, 3));
        },
      ),
    );
  });

  it('property: quiet hours come back with their days and times', () => {
    const hhmm = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    const range = fc.record({
      days: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
      start: hhmm,
      end: hhmm,
    });
    fc.assert(
      fc.property(fc.array(range, { maxLength: 4 }), (ranges) => {
        const r = encodeDownlink(to, { type: 'set_quiet_hours', params: { ranges } });
        lenIsExact(r);
        const [f] = back(r);
        expect(f?.kind).toBe('quiet_hours');
        if (f?.kind !== 'quiet_hours') return;
        const daily = ranges.every((x) => new Set(x.days).size === 7);
        expect(f.weekly).toBe(!daily);
        expect(f.ranges).toEqual(ranges.map((x) => ({ ...x, days: [...new Set(x.days)].sort((a, b) => a - b) })));
      }),
    );
  });

  it('property: any text and any AMR audio come back unchanged', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
        fc.uint8Array({ maxLength: 3000 }),
        (text, bytes) => {
          const t = encodeDownlink(to, { type: 'text_message', text });
          lenIsExact(t);
          expect(back(t)).toMatchObject([{ kind: 'text', text }]);
          const audio = Buffer.concat([Buffer.from('#!AMR\n', 'latin1'), bytes]);
          const v = encodeDownlink(to, { type: 'voice_message', audio });
          lenIsExact(v);
          const [f] = back(v);
          expect(f?.kind === 'voice' && f.audio).toEqual(audio);
        },
      ),
    );
  });

  it('round-trips the simple commands, the interval and the timezone', () => {
    const cases: [Downlink, Partial<DownlinkFrame>][] = [
      [{ type: 'locate' }, { kind: 'locate' }],
      [{ type: 'find' }, { kind: 'find' }],
      [{ type: 'photo' }, { kind: 'photo' }],
      [{ type: 'power_off' }, { kind: 'power_off' }],
      [
        { type: 'set_interval', params: { seconds: 86_400 } },
        { kind: 'set_interval', seconds: 86_400 },
      ],
      [
        { type: 'set_timezone', params: { language: 3, hours: -9.75 } },
        { kind: 'timezone', language: 3, hours: -9.75 },
      ],
    ];
    for (const [d, expected] of cases) expect(back(encodeDownlink(to, d))).toMatchObject([expected]);
  });
});
