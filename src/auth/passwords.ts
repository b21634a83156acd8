// Password hashing with node:crypto scrypt. Stored as `scrypt$N$r$p$salt$hash` (base64) so the
// cost can be raised later without breaking old hashes.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );

const COST = { N: 16384, r: 8, p: 1 };
const KEY_LEN = 32;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** False for a wrong password and for a stored value that is not a well-formed hash (never throws). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash ?? '', 'base64');
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (scheme !== 'scrypt' || !salt || expected.length !== KEY_LEN) return false;
  if (![cost.N, cost.r, cost.p].every(Number.isSafeInteger)) return false;
  try {
    const key = await scrypt(password, Buffer.from(salt, 'base64'), KEY_LEN, { ...cost, maxmem: 64 * 1024 * 1024 });
    return timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}

/** A hash of a fixed password, verified against when the account does not exist, so login takes as long either way. */
export const DUMMY_HASH_PROMISE = hashPassword('not-a-real-password');
