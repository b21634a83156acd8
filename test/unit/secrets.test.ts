import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { normalizeCode, randomCode, randomToken, safeEqual, sha256 } from '../../src/auth/secrets.js';
import { randomImei } from '../../src/contract/imei.js';
import { isValidImei } from '../../src/contract/schemas.js';

const CODE_RE = /^[0-9A-HJKMNP-TV-Z]+$/; // Crockford base32: no I, L, O, U

describe('hashPassword / verifyPassword', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await verifyPassword('Correct horse battery staple', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts: two hashes of one password differ and both verify', async () => {
    const a = await hashPassword('hunter22');
    const b = await hashPassword('hunter22');
    expect(a).not.toBe(b);
    expect(await verifyPassword('hunter22', a)).toBe(true);
    expect(await verifyPassword('hunter22', b)).toBe(true);
  });

  it('handles unicode passwords', async () => {
    const stored = await hashPassword('pässwörd-🔒');
    expect(await verifyPassword('pässwörd-🔒', stored)).toBe(true);
    expect(await verifyPassword('passwort-🔒', stored)).toBe(false);
  });

  it('returns false for a malformed stored string', async () => {
    const good = await hashPassword('pw-123456');
    const parts = good.split('$');
    for (const stored of [
      '',
      'garbage',
      'bcrypt$2b$10$abcdefghijklmnopqrstuv',
      good.replace(/^scrypt/, 'scrypt2'),
      parts.slice(0, 5).join('$'), // no hash
      `${parts.slice(0, 5).join('$')}$`, // empty hash
      `scrypt$16384$8$1$$${parts[5] ?? ''}`, // empty salt
    ]) {
      expect(await verifyPassword('pw-123456', stored), JSON.stringify(stored)).toBe(false);
    }
  });

  it('a stored hash with a changed salt or hash byte does not verify', async () => {
    const good = await hashPassword('pw-123456');
    const [scheme, n, r, p, salt = '', hash = ''] = good.split('$');
    const flip = (b64: string) => {
      const buf = Buffer.from(b64, 'base64');
      buf[0] = (buf[0] ?? 0) ^ 1;
      return buf.toString('base64');
    };
    expect(await verifyPassword('pw-123456', [scheme, n, r, p, flip(salt), hash].join('$'))).toBe(false);
    expect(await verifyPassword('pw-123456', [scheme, n, r, p, salt, flip(hash)].join('$'))).toBe(false);
  });

  // A hash field that decodes to zero bytes once made scrypt derive an empty key that "matched".
  it('a hash field that decodes to no bytes must not accept any password', async () => {
    expect(await verifyPassword('anything at all', 'scrypt$16384$8$1$c2FsdHNhbHQ=$!!!!')).toBe(false);
  });

  // Unparsable or out-of-range cost parameters must be a 401 at login, not a 500.
  it('bad cost parameters return false instead of throwing', async () => {
    const good = await hashPassword('pw-123456');
    const [, , , , salt = '', hash = ''] = good.split('$');
    expect(await verifyPassword('pw-123456', `scrypt$abc$8$1$${salt}$${hash}`)).toBe(false);
    expect(await verifyPassword('pw-123456', `scrypt$3$8$1$${salt}$${hash}`)).toBe(false);
  });

  it('the dummy hash is a real scrypt hash', async () => {
    const dummy = await DUMMY_HASH_PROMISE;
    expect(dummy.startsWith('scrypt$')).toBe(true);
    expect(await verifyPassword('not-a-real-password', dummy)).toBe(true);
    expect(await verifyPassword('something-else', dummy)).toBe(false);
  });
});

describe('randomCode', () => {
  it('has the requested length (10 by default)', () => {
    expect(randomCode()).toHaveLength(10);
    expect(randomCode(6)).toHaveLength(6);
    expect(randomCode(32)).toHaveLength(32);
    expect(randomCode(0)).toBe('');
  });

  it('uses only the Crockford alphabet (no I, L, O, U) and all 32 of its symbols', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const code = randomCode(20);
      expect(code).toMatch(CODE_RE);
      expect(code).not.toMatch(/[ILOU]/);
      for (const ch of code) seen.add(ch);
    }
    expect(seen.size).toBe(32);
  });

  it('is random (no repeats in a small sample)', () => {
    const codes = new Set(Array.from({ length: 500 }, () => randomCode()));
    expect(codes.size).toBe(500);
  });

  it('a generated code is already normal', () => {
    for (let i = 0; i < 100; i++) {
      const code = randomCode();
      expect(normalizeCode(code)).toBe(code);
    }
  });
});

describe('normalizeCode', () => {
  it('uppercases and strips dashes and spaces', () => {
    expect(normalizeCode('abcd-efgh')).toBe('ABCDEFGH');
    expect(normalizeCode(' ab cd\tef-gh \n')).toBe('ABCDEFGH');
  });

  it('maps the look-alikes I and L to 1 and O to 0, in either case', () => {
    expect(normalizeCode('IiLl')).toBe('1111');
    expect(normalizeCode('Oo')).toBe('00');
    expect(normalizeCode('h0la-1o')).toBe('H01A-10'.replace('-', ''));
  });

  it('a typed code (lowercase, dashes, spaces, look-alikes) normalises to the generated one', () => {
    expect(normalizeCode('7k1o-ab3l 9z')).toBe('7K10AB319Z');
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 16 }),
        fc.array(fc.constantFrom('', '', '', '-', ' ', ' - '), { minLength: 16, maxLength: 16 }),
        fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
        (length, separators, lower) => {
          const code = randomCode(length);
          const typed = [...code]
            .map((ch, i) => {
              let t = ch;
              if (ch === '1') t = i % 2 === 0 ? 'I' : 'L';
              if (ch === '0') t = 'O';
              return (lower[i] ? t.toLowerCase() : t) + (separators[i] ?? '');
            })
            .join('');
          expect(normalizeCode(typed)).toBe(code);
        },
      ),
    );
  });
});

describe('safeEqual / sha256 / randomToken', () => {
  it('safeEqual compares contents', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('abc', '')).toBe(false);
    expect(safeEqual('ABC', 'abc')).toBe(false);
  });

  it('sha256 gives 64 lowercase hex characters and the standard digest', () => {
    const h = sha256('anything');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256('abc')).not.toBe(sha256('abd'));
  });

  it('randomToken is 32 random bytes in base64url', () => {
    const t = randomToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(randomToken()).not.toBe(t);
  });
});

describe('randomImei', () => {
  it('makes a valid IMEI from any 14 digits, and a wrong last digit invalid', () => {
    for (let n = 0; n < 500; n++) {
      const imei = randomImei();
      expect(isValidImei(imei)).toBe(true);
      const wrong = imei.slice(0, 14) + String((Number(imei[14]) + 1 + Math.floor(Math.random() * 9)) % 10);
      expect(isValidImei(wrong)).toBe(false);
    }
  });
});

describe('isValidImei', () => {
  it('accepts valid Luhn IMEIs', () => {
    expect(isValidImei('490154203237518')).toBe(true);
    expect(isValidImei('356938035643809')).toBe(true);
    expect(isValidImei('000000000000000')).toBe(true);
  });

  it('rejects a wrong check digit', () => {
    for (let d = 0; d <= 9; d++) {
      if (d === 8) continue;
      expect(isValidImei(`49015420323751${d}`)).toBe(false);
    }
  });

  it('rejects a swap of two adjacent digits', () => {
    expect(isValidImei('940154203237518')).toBe(false);
  });

  it('rejects 14 or 16 digits, letters, separators and padding', () => {
    expect(isValidImei('49015420323751')).toBe(false);
    expect(isValidImei('4901542032375180')).toBe(false);
    expect(isValidImei('49015420323751A')).toBe(false);
    expect(isValidImei('4901542032375l8')).toBe(false);
    expect(isValidImei('49-015420-323751-8')).toBe(false);
    expect(isValidImei(' 490154203237518')).toBe(false);
    expect(isValidImei('490154203237518\n')).toBe(false);
    expect(isValidImei('')).toBe(false);
    expect(isValidImei('４９０１５４２０３２３７５１８')).toBe(false); // full-width digits
  });

  it('property: for any 14 digits exactly one of the ten check digits is valid', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 14, maxLength: 14 }), (digits) => {
        const body = digits.join('');
        const valid = Array.from({ length: 10 }, (_, d) => d).filter((d) => isValidImei(`${body}${d}`));
        expect(valid).toHaveLength(1);
      }),
      { numRuns: 500 },
    );
  });
});
