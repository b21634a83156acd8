// Random codes and opaque tokens. Only their SHA-256 is stored, so a database leak reveals none.
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

// Crockford base32 without I, L, O, U: easy to read off a watch and to type.
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A human-typable code, e.g. a binding or invite code: 10 chars ≈ 50 bits. */
export function randomCode(length = 10): string {
  let out = '';
  for (let i = 0; i < length; i++) out += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return out;
}

/** Normalises what a person typed (case, dashes, spaces, look-alike letters) before hashing. */
export function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Compares two secrets in time independent of where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
