import { describe, expect, it } from 'vitest';
import { decodeFrame, escapeBinary } from '../../../src/watch/codec/index.js';
import { as, decoded, frame } from './helpers.js';

const AMR = Buffer.concat([Buffer.from('#!AMR\n', 'latin1'), Buffer.from([0x3c, 0x7d, 0x5b, 0x5d, 0x2c, 0x2a, 0xff, 0x00])]);
const bin = (prefix: string, data: Buffer) => Buffer.concat([Buffer.from(prefix, 'latin1'), escapeBinary(data)]);

describe('heartbeats and INIT', () => {
  it('reads LK bare, with steps, rollovers and battery, and the two-field SG form', () => {
    expect(decoded(frame('LK'))).toMatchObject({ kind: 'heartbeat', type: 'LK' });
    expect(decoded(frame('LK'))).not.toHaveProperty('battery');
    expect(decoded(frame('LK,50,3,87'))).toMatchObject({ kind: 'heartbeat', steps: 50, rollovers: 3, battery: 87 });
    const sg = decoded(frame('LK,0,100', { maker: 'SG' }));
    expect(sg).toMatchObject({ steps: 0, battery: 100 });
    expect(sg).not.toHaveProperty('rollovers');
  });

  it('never rejects a heartbeat: unreadable numbers are left out', () => {
    const f = decoded(frame('LK,x,,95'));
    expect(f).toMatchObject({ kind: 'heartbeat', battery: 95 });
    expect(f).not.toHaveProperty('steps');
  });

  it('reads INIT with its fields', () => {
    expect(decoded(frame('INIT,13800138000,1,V1.0'))).toMatchObject({ kind: 'init', fields: ['13800138000', '1', 'V1.0'] });
    expect(decoded(frame('INIT'))).toMatchObject({ kind: 'init', fields: [] });
  });
});

describe('health frames', () => {
  const reading = (content: string) => as(decoded(frame(content)), 'health').reading;

  it('reads each health type, in any case', () => {
    expect(reading('PULSE,72')).toEqual({ heartRate: 72 });
    expect(reading('heart,71')).toEqual({ heartRate: 71 });
    expect(reading('HEART,65')).toEqual({ heartRate: 65 });
    expect(reading('BLOOD,109,68')).toEqual({ systolic: 109, diastolic: 68 });
    expect(reading('bphrt,120,79,73,,,,')).toEqual({ systolic: 120, diastolic: 79, heartRate: 73 });
    expect(reading('TEMP,36.50')).toEqual({ bodyTempC: 36.5 });
    expect(reading('btemp2,1,35.29')).toEqual({ bodyTempC: 35.29 });
    expect(reading('oxygen,1,97')).toEqual({ spo2: 97 });
    expect(reading('Oxygen,98')).toEqual({ spo2: 98 });
  });

  it('leaves out "no measurement" and impossible values', () => {
    expect(reading('heart,0')).toEqual({});
    expect(reading('btemp2,0,35.29')).toEqual({});
    expect(reading('TEMP,99.0')).toEqual({});
    expect(reading('oxygen,1,140')).toEqual({});
    expect(reading('BLOOD,0,0')).toEqual({});
    expect(reading('heart')).toEqual({});
  });
});

describe('voice', () => {
  it('answers TKQ and TKQ2 as voice queries', () => {
    expect(decoded(frame('TKQ'))).toMatchObject({ kind: 'voice-query', type: 'TKQ' });
    expect(decoded(frame('TKQ2'))).toMatchObject({ kind: 'voice-query', type: 'TKQ2' });
  });

  it('unescapes the AMR bytes of a TK upload', () => {
    const f = as(decoded(frame(bin('TK,', AMR))), 'voice');
    expect(f.audio).toEqual(AMR);
    expect(f).not.toHaveProperty('target');
  });

  it('skips the short field some firmwares write before the audio', () => {
    expect(as(decoded(frame(bin('TK,1,', AMR))), 'voice').audio).toEqual(AMR);
  });

  it('reads the chat id of TK2', () => {
    const f = as(decoded(frame(bin('TK2,group_77,', AMR))), 'voice');
    expect(f.target).toBe('group_77');
    expect(f.audio).toEqual(AMR);
  });

  it('reads TK,1 / TK,0 as the echo of a voice downlink, not as audio', () => {
    expect(decoded(frame('TK,1'))).toMatchObject({ kind: 'echo', echo: 'TK', ok: true, command: 'voice_reminder' });
    expect(decoded(frame('TK,0'))).toMatchObject({ kind: 'echo', echo: 'TK', ok: false });
  });

  it('reads JXTK chunks: flag, session, index, total and unescaped bytes', () => {
    const f = as(decoded(frame(bin('JXTK,0,watch_7_20220526093954,1,6,', AMR), { maker: 'ZJ', index: '0034' })), 'voice-chunk');
    expect(f).toMatchObject({ flag: '0', session: 'watch_7_20220526093954', index: 1, total: 6 });
    expect(f.audio).toEqual(AMR);
    expect(f.header.index).toBe('0034');
  });

  it('rejects JXTK chunks whose numbering cannot be right', () => {
    for (const c of ['JXTK,0,s,0,6,x', 'JXTK,0,s,7,6,x', 'JXTK,0,s,a,6,x', 'JXTK,0,,1,1,x', 'JXTK,0,s,1']) {
      const r = decodeFrame(frame(c));
      expect(r.ok ? 'ok' : r.error.code, c).toBe('BAD_FIELDS');
    }
  });
});

describe('photos', () => {
  const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x2c, 0x5d, 0x5b, 0x7d, 0xff, 0xd9]);

  it('reads img: type, time taken and unescaped JPEG bytes', () => {
    const f = as(decoded(frame(bin('img,5,230405101502,', JPEG))), 'image');
    expect(f.imageType).toBe('5');
    expect(f.takenAt).toBe(Date.UTC(2023, 3, 5, 10, 15, 2));
    expect(f.image).toEqual(JPEG);
  });

  it('keeps a photo whose time is unreadable, and rejects one without bytes', () => {
    expect(as(decoded(frame(bin('img,1,notatime,', JPEG))), 'image').takenAt).toBeNull();
    const r = decodeFrame(frame('img,1,230405101502,'));
    expect(r.ok ? 'ok' : r.error.code).toBe('BAD_FIELDS');
    expect(decodeFrame(frame('img,1')).ok).toBe(false);
  });
});

describe('echoes and unknown types', () => {
  it('reads echoes of each downlink with the command they acknowledge', () => {
    const cases: [string, string, string | null][] = [
      ['CR', 'CR', 'locate'],
      ['FIND', 'FIND', 'find'],
      ['RCAPTURE', 'RCAPTURE', 'photo'],
      ['rcapture', 'RCAPTURE', 'photo'],
      ['POWEROFF', 'POWEROFF', 'power_off'],
      ['UPLOAD', 'UPLOAD', 'set_interval'],
      ['SOS', 'SOS', 'set_sos_numbers'],
      ['SOS2', 'SOS2', 'set_sos_numbers'],
      ['PHB', 'PHB', 'set_contacts'],
      ['PHB2', 'PHB2', 'set_contacts'],
      ['SILENCETIME', 'SILENCETIME', 'set_quiet_hours'],
      ['SILENCETIME2', 'SILENCETIME2', 'set_quiet_hours'],
      ['MESSAGE', 'MESSAGE', null],
      ['LZ', 'LZ', null],
    ];
    for (const [content, echo, command] of cases) {
      expect(decoded(frame(content)), content).toMatchObject({ kind: 'echo', echo, command, ok: true });
    }
  });

  it('reads a refusal (first field 0)', () => {
    expect(decoded(frame('LZ,0'))).toMatchObject({ kind: 'echo', echo: 'LZ', ok: false, fields: ['0'] });
  });

  it('keeps the type of frames it does not know, for logs', () => {
    expect(decoded(frame('WG,1,2'))).toMatchObject({ kind: 'unknown', type: 'WG' });
    expect(decoded(frame('SOSSMS'))).toMatchObject({ kind: 'unknown', type: 'SOSSMS' });
  });
});
