// The APNs provider authentication token: an ES256 JWT signed with the team's .p8 key,
// header {alg: ES256, kid: keyId}, claims {iss: teamId, iat}. Apple refuses a token older than
// one hour (ExpiredProviderToken) and one renewed more often than every 20 minutes
// (TooManyProviderTokenUpdates), so one token is shared by all requests and renewed at 50 min.
import { createPrivateKey } from 'node:crypto';
import jwt from 'jsonwebtoken';

export interface ApnsSigningKey {
  /** The 10-character Key ID shown with the key in the developer account. */
  keyId: string;
  /** The 10-character Team ID. */
  teamId: string;
  /** The PEM text of the AuthKey_<keyId>.p8 file (a PKCS#8 P-256 key). */
  privateKey: string;
}

export const DEFAULT_TOKEN_REUSE_MS = 50 * 60_000;
/** Apple's limits: not renewed more often than 20 min, not used after 60 min. */
const MIN_REUSE_MS = 20 * 60_000;
const MAX_REUSE_MS = 55 * 60_000;
const ID_PATTERN = /^[A-Za-z0-9]{1,32}$/;

export class ApnsProviderToken {
  private token: string | null = null;
  private signedAt = 0;
  private readonly reuseMs: number;
  /** How many tokens were signed; for logs and tests. */
  signed = 0;

  constructor(
    private readonly key: ApnsSigningKey,
    private readonly clock: () => number = Date.now,
    reuseMs: number = DEFAULT_TOKEN_REUSE_MS,
  ) {
    if (!ID_PATTERN.test(key.keyId)) throw new TypeError('APNs key id malformed');
    if (!ID_PATTERN.test(key.teamId)) throw new TypeError('APNs team id malformed');
    // Fail at start, not at the first SOS: the key must be an EC P-256 private key.
    let ok = false;
    try {
      const k = createPrivateKey(key.privateKey);
      ok = k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    } catch {
      ok = false;
    }
    if (!ok) throw new TypeError('APNs key must be the PEM text of a .p8 (EC P-256) private key');
    this.reuseMs = Math.min(MAX_REUSE_MS, Math.max(MIN_REUSE_MS, reuseMs));
  }

  /** The token to send now: the kept one while young enough, else a new one. */
  current(): string {
    if (this.token && this.clock() - this.signedAt < this.reuseMs) return this.token;
    return this.sign();
  }

  /**
   * APNs called `rejected` expired. Sign a new one unless another request already did, so a burst
   * of concurrent rejections yields one renewal, not many (which Apple would throttle).
   */
  renew(rejected: string): string {
    if (this.token !== null && this.token !== rejected) return this.token;
    return this.sign();
  }

  private sign(): string {
    const now = this.clock();
    this.token = jwt.sign({ iss: this.key.teamId, iat: Math.floor(now / 1000) }, this.key.privateKey, {
      algorithm: 'ES256',
      keyid: this.key.keyId,
    });
    this.signedAt = now;
    this.signed++;
    return this.token;
  }
}
