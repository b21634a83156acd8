// Turns a bearer token into a principal: signature and expiry by TokenService, then revocation
// (token version) against the store. Outside-issuer users get a local account on first sight.
import { E } from '../contract/errors.js';
import type { Principal } from '../contract/models.js';
import type { Store } from '../store/store.js';
import type { TokenService, VerifiedToken } from './tokens.js';

export interface AuthContext {
  principal: Principal;
  /** When the token expires, milliseconds since the epoch. */
  expiresAt: number;
  scopes: string[];
  sessionId: string | undefined;
}

export class Authenticator {
  constructor(
    private readonly tokens: TokenService,
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly newId: () => string,
  ) {}

  async authenticate(token: unknown): Promise<AuthContext> {
    if (typeof token !== 'string') throw E.tokenMissing();
    const v = this.tokens.verify(token);
    const ctx = (id: string): AuthContext => ({
      principal: { kind: v.kind, id },
      expiresAt: v.expiresAt,
      scopes: v.scopes,
      sessionId: v.sessionId,
    });
    if (v.external) return ctx(await this.externalUserId(v.external));
    const current =
      v.kind === 'user' ? await this.store.users.tokenVersion(v.id) : (await this.store.devices.findById(v.id))?.token_version;
    if (current === undefined || current !== v.ver) throw E.tokenRevoked();
    if (v.sessionId && (await this.store.sessions.chainRevoked(v.sessionId))) throw E.sessionEnded();
    return ctx(v.id);
  }

  private async externalUserId(ext: NonNullable<VerifiedToken['external']>): Promise<string> {
    const known = await this.store.users.findByExternalSubject(ext.subject);
    if (known) return known.id;
    // An email already used by a local account is not linked: that would let the outside
    // issuer take over the account.
    const emailFree = ext.email && !(await this.store.users.findByEmail(ext.email.toLowerCase()));
    try {
      const created = await this.store.users.create({
        id: this.newId(),
        email: emailFree ? ext.email!.toLowerCase() : null,
        passwordHash: null,
        nickname: (ext.name ?? 'Parent').slice(0, 64),
        externalSubject: ext.subject,
        createdAt: this.clock(),
      });
      return created.id;
    } catch (err) {
      // Two first requests at once: the other one created it.
      const raced = await this.store.users.findByExternalSubject(ext.subject);
      if (raced) return raced.id;
      throw err;
    }
  }
}
