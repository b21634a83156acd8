import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame, escapeBinary, parseFrame, unescapeBinary } from '../../../src/watch/codec/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('binary escapes', () => {
  it('writes 7D 5B 5D 2C 2A as 7D 01..05, and nothing else changes', () => {
    expect(escapeBinary(hex('41 7d 5b 5d 2c 2a 42'))).toEqual(hex('41 7d01 7d02 7d03 7d04 7d05 42'));
    expect(escapeBinary(hex('00 ff 7e 7c'))).toEqual(hex('00 ff 7e 7c'));
    expect(unescapeBinary(hex('7d02 00 7d03 7d01 7d04 7d05'))).toEqual(hex('5b 00 5d 7d 2c 2a'));
  });

  it('keeps a 7D that escapes nothing (a watch that forgot, or a cut payload)', () => {
    expect(unescapeBinary(hex('01 7d 09 02'))).toEqual(hex('01 7d 09 02'));
    expect(unescapeBinary(hex('01 7d'))).toEqual(hex('01 7d'));
  });

  it('property: unescape(escape(x)) is x, and the escaped form holds no frame syntax', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        const e = escapeBinary(data);
        expect(unescapeBinary(e)).toEqual(Buffer.from(data));
        for (const b of [0x5b, 0x5d, 0x2c, 0x2a]) expect(e.includes(b)).toBe(false);
        for (let i = 0; i < e.length; i++) if (e[i] === 0x7d) expect([1, 2, 3, 4, 5]).toContain(e[i + 1]);
      }),
    );
  });
});

describe('header', () => {
  const parse = (s: string) => parseFrame(Buffer.from(s, 'latin1'));

  it('reads MF, ID, LEN and content, without an INDEX', () => {
    const r = parse('[SG*8800000015*000D*LK,50,100,100]');
    expect(r.ok && r.frame.header).toEqual({ maker: 'SG', id: '8800000015', index: null, declaredLength: 13 });
    expect(r.ok && r.frame.type).toBe('LK');
    expect(r.ok && r.frame.body.toString()).toBe('50,100,100');
  });

  it('reads the INDEX when two 4-hex fields follow the ID', () => {
    const r = parse('[ZJ*357653059860416*0007*000c*BLOOD,109,68]');
    expect(r.ok && r.frame.header).toEqual({ maker: 'ZJ', id: '357653059860416', index: '0007', declaredLength: 12 });
    expect(r.ok && r.frame.type).toBe('BLOOD');
  });

  it('never trusts LEN: too short, too long and lower case all parse to the same content', () => {
    for (const len of ['0001', 'FFFF', '00ab', '12']) {
      const r = parse(`[3G*1234567890*${len}*UD,a,b]`);
      expect(r.ok && r.frame.body.toString()).toBe('a,b');
      expect(r.ok && r.frame.header.declaredLength).toBe(parseInt(len, 16));
    }
  });

  it('keeps stars and commas that are part of the content', () => {
    const r = parse('[3G*1*0010*MESSAGE,a*b,c]');
    expect(r.ok && r.frame.type).toBe('MESSAGE');
    expect(r.ok && r.frame.body.toString()).toBe('a*b,c');
  });

  it('tells a body-less type from one with an empty body', () => {
    const a = parse('[3G*1*0002*TK]');
    const b = parse('[3G*1*0003*TK,]');
    expect(a.ok && a.frame.hasBody).toBe(false);
    expect(b.ok && b.frame.hasBody).toBe(true);
  });

  it('answers malformed headers with error values', () => {
    const cases: [string, string][] = [
      ['3G*1*0002*LK', 'BAD_FRAME'],
      ['[3G*1*0002*LK', 'BAD_FRAME'],
      ['[]', 'BAD_HEADER'],
      ['[3G*1*LK]', 'BAD_HEADER'],
      ['[3GX*1*0002*LK]', 'BAD_HEADER'],
      ['[3G**0002*LK]', 'BAD_HEADER'],
      ['[3G*12 34*0002*LK]', 'BAD_HEADER'],
      ['[3G*1*00G2*LK]', 'BAD_HEADER'],
      ['[3G*1*0002*]', 'BAD_FRAME'],
      ['[3G*1*0002*,1,2]', 'BAD_TYPE'],
      ['[3G*1*0002*L K]', 'BAD_TYPE'],
    ];
    for (const [s, code] of cases) {
      const r = parse(s);
      expect(r.ok ? 'ok' : r.error.code, s).toBe(code);
    }
  });

  it('writes LEN as the exact byte length in four upper-case hex digits, echoing INDEX', () => {
    expect(buildFrame({ maker: '3G', id: '1234567890', index: null }, Buffer.from('LK'))!.toString()).toBe(
      '[3G*1234567890*0002*LK]',
    );
    expect(buildFrame({ maker: 'ZJ', id: '9', index: '0034' }, Buffer.alloc(0x1ab, 0x61))!.toString()).toBe(
      `[ZJ*9*0034*01AB*${'a'.repeat(0x1ab)}]`,
    );
    expect(buildFrame({ maker: '3G', id: '1', index: null }, Buffer.alloc(0x10000))).toBeNull();
  });
});
