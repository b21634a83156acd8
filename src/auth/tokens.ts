// Access tokens: JWTs the hub signs (HS256) for users and watches, and, optionally, JWTs from an
// outside issuer (RS256/ES256, verified by public key) accepted as users. Algorithms are pinned
// per key, so `alg: none` and the HS256-with-a-public-key confusion are both refused.
import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { E } from '../contract/errors.js';
import { hasVisibleCharacter, isStorableText } from '../contract/schemas.js';
import type { PrincipalKind } from '../contract/models.js';

export interface VerifiedToken {
  kind: PrincipalKind;
  /** User or device id; for outside tokens, the issuer's subject (see `external`). */
  id: string;
  ver: number;
  /** Expiry, milliseconds since the epoch. */
  expiresAt: number;
  scopes: string[];
  /** The login session (refresh-token chain) a user token belongs to; ending it ends the token. */
  sessionId?: string;
  external?: { subject: string; email: string | undefined; name: string | undefined };
}

export interface TokenServiceOptions {
  /** Signs new tokens. */
  secret: string;
  /** Retired secrets: tokens they signed verify (by `kid` only) until they expire. */
  previousSecrets?: readonly string[];
  accessTtlS: number;
  deviceTtlS: number;
  external?: { issuer: string; publicKey: string; audience: string | undefined } | undefined;
  clock: () => number;
}

const HUB_ISSUER = 'kidwatch-hub';

/** The key id of a secret: a short hash, so the header names the key without revealing it. */
export const keyId = (secret: string) => createHash('sha256').update(secret).digest('hex').slice(0, 12);

export class TokenService {
  private readonly keys: Map<string, string>;
  private readonly currentKid: string;

  constructor(private readonly opts: TokenServiceOptions) {
    this.currentKid = keyId(opts.secret);
    this.keys = new Map([opts.secret, ...(opts.previousSecrets ?? [])].map((s) => [keyId(s), s]));
    // A bad outside-issuer key fails the start, not every login.
    if (opts.external) createPublicKey(opts.external.publicKey);
  }

  signUser(userId: string, ver: number, scopes: string[] = [], sessionId?: string): string {
    return this.sign('user', userId, ver, this.opts.accessTtlS, scopes, sessionId);
  }

  signDevice(deviceId: string, ver: number): string {
    return this.sign('device', deviceId, ver, this.opts.deviceTtlS, []);
  }

  private sign(typ: PrincipalKind, sub: string, ver: number, ttlS: number, scopes: string[], sid?: string): string {
    const iat = Math.floor(this.opts.clock() / 1000);
    const payload: Record<string, unknown> = { sub, typ, ver, iat, exp: iat + ttlS, jti: randomUUID() };
    if (scopes.length > 0) payload.scope = scopes.join(' ');
    if (sid) payload.sid = sid;
    return jwt.sign(payload, this.opts.secret, { algorithm: 'HS256', issuer: HUB_ISSUER, keyid: this.currentKid });
  }

  /** Verifies signature, algorithm, issuer and expiry; throws UNAUTHORIZED otherwise. */
  verify(token: string): VerifiedToken {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw E.tokenMissing();
    let decoded: jwt.Jwt | null;
    try {
      decoded = jwt.decode(token, { complete: true });
    } catch {
      decoded = null;
    }
    if (!decoded || typeof decoded.payload !== 'object') throw E.tokenInvalid('malformed token');
    const ext = this.opts.external;
    const clockTimestamp = Math.floor(this.opts.clock() / 1000);
    let claims: jwt.JwtPayload;
    try {
      if (ext && decoded.payload.iss === ext.issuer) {
        claims = jwt.verify(token, ext.publicKey, {
          algorithms: ['RS256', 'ES256'],
          issuer: ext.issuer,
          ...(ext.audience ? { audience: ext.audience } : {}),
          clockTimestamp,
        }) as jwt.JwtPayload;
        return this.externalUser(claims);
      }
      claims = this.verifyOwn(token, decoded.header.kid, clockTimestamp);
    } catch (err) {
      throw err instanceof jwt.TokenExpiredError ? E.tokenExpired() : E.tokenInvalid();
    }
    const { sub, typ, ver, exp } = claims;
    if (typeof sub !== 'string' || (typ !== 'user' && typ !== 'device') || typeof ver !== 'number' || typeof exp !== 'number') {
      throw E.tokenInvalid('invalid token claims');
    }
    const sid = typeof claims.sid === 'string' ? { sessionId: claims.sid } : {};
    return { kind: typ, id: sub, ver, expiresAt: exp * 1000, scopes: scopesOf(claims), ...sid };
  }

  /**
   * By its kid. A token without one (from before kids existed, or a hand-signed ops token) is
   * verified with the current secret only, as docs/protocol.md promises: a retired secret, which
   * may be retired because it leaked, must not keep verifying tokens that name no key.
   */
  private verifyOwn(token: string, kid: string | undefined, clockTimestamp: number): jwt.JwtPayload {
    const secret = kid === undefined ? this.opts.secret : this.keys.get(kid);
    if (secret === undefined) throw new Error('unknown key');
    return jwt.verify(token, secret, { algorithms: ['HS256'], issuer: HUB_ISSUER, clockTimestamp }) as jwt.JwtPayload;
  }

  private externalUser(claims: jwt.JwtPayload): VerifiedToken {
    const { sub, exp, iss } = claims;
    // The subject, email and name are stored (a user row): text the stores keep as given (see
    // isStorableText), and a name that shows something, or none (the account gets a default).
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256 || !isStorableText(sub) || typeof exp !== 'number') {
      throw E.tokenInvalid('invalid token claims');
    }
    const str = (v: unknown) => (typeof v === 'string' && v.length <= 254 && isStorableText(v) ? v : undefined);
    const name = (v: unknown) => {
      const s = str(v)?.trim();
      return s !== undefined && hasVisibleCharacter(s) ? cutAt(s, 64) : undefined;
    };
    return {
      kind: 'user',
      id: sub,
      ver: 0,
      expiresAt: exp * 1000,
      scopes: [],
      external: {
        subject: `${String(iss)}|${sub}`,
        // Only an address the issuer verified is taken as the account's email.
        email: claims.email_verified === true ? str(claims.email) : undefined,
        name: name(claims.name) ?? name(claims.preferred_username),
      },
    };
  }
}

function scopesOf(claims: jwt.JwtPayload): string[] {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
}

/** At most `max` UTF-16 units (what a nickname may hold), cut between code points, never inside a pair. */
function cutAt(s: string, max: number): string {
  let out = '';
  for (const cp of s) {
    if (out.length + cp.length > max) break;
    out += cp;
  }
  return out;
}
