// Account use cases: register, login, refresh (rotating, with reuse detection), logout.
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../backplane/backplane.js';
import { E } from '../contract/errors.js';
import type { Principal, TokenPair, UserView } from '../contract/models.js';
import type { Store } from '../store/store.js';
import type { UserRow } from '../store/users.js';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './passwords.js';
import { randomToken, sha256 } from './secrets.js';
import type { TokenService } from './tokens.js';

export const userView = (u: UserRow): UserView => ({ id: u.id, email: u.email, nickname: u.nickname, createdAt: u.created_at });

const LOGIN_WINDOW_S = 15 * 60;
/** How long after its use a cookie session's refresh token is still honoured once (see refresh). */
export const BROWSER_REUSE_GRACE_MS = 10_000;

export interface AccountsOptions {
  /** Failed logins allowed per account and per client address in 15 minutes. */
  loginMaxFailures: { perAccount: number; perIp: number };
  limiter: LimiterFactory;
  store: Store;
  tokens: TokenService;
  refreshTtlS: number;
  clock: () => number;
  newId: () => string;
  /** A session was ended (logout, or a refresh token replayed): end its live connections. */
  onSessionEnded: (sessionId: string) => void;
}

export class Accounts {
  private readonly failuresByAccount: RateLimiterAbstract;
  private readonly failuresByIp: RateLimiterAbstract;

  constructor(private readonly o: AccountsOptions) {
    this.failuresByAccount = o.limiter({
      keyPrefix: 'login-account',
      points: o.loginMaxFailures.perAccount,
      durationS: LOGIN_WINDOW_S,
    });
    this.failuresByIp = o.limiter({ keyPrefix: 'login-ip', points: o.loginMaxFailures.perIp, durationS: LOGIN_WINDOW_S });
  }

  async register(email: string, password: string, nickname: string): Promise<{ user: UserView } & TokenPair> {
    const user = await this.o.store.users.create({
      id: this.o.newId(),
      email,
      passwordHash: await hashPassword(password),
      nickname,
      createdAt: this.o.clock(),
    });
    return { user: userView(user), ...(await this.issue(user, this.o.newId())) };
  }

  /** Logs in; too many failures for the account or from the address answer RATE_LIMITED for a while. */
  async login(email: string, password: string, ip: string): Promise<{ user: UserView } & TokenPair> {
    await this.refuseIfThrottled(email, ip);
    const user = await this.o.store.users.findByEmail(email);
    // Verify against a dummy hash for unknown accounts, so timing does not reveal which exist.
    const ok = await verifyPassword(password, user?.password_hash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !user.password_hash || !ok) {
      await Promise.all([this.failuresByAccount.penalty(email), this.failuresByIp.penalty(ip)]);
      throw E.credentialsWrong();
    }
    await this.failuresByAccount.delete(email);
    return { user: userView(user), ...(await this.issue(user, this.o.newId())) };
  }

  /**
   * Checks the password of a signed-in user (re-confirmation before deleting the account, changing
   * the password): through the same throttle as logins, so it cannot be used to guess faster.
   */
  async confirmPassword(account: string, password: string | undefined, hash: string): Promise<void> {
    const spent = await this.failuresByAccount.get(account);
    if (spent && spent.consumedPoints >= this.o.loginMaxFailures.perAccount) throw E.loginLocked(spent.msBeforeNext);
    if (password !== undefined && (await verifyPassword(password, hash))) return;
    await this.failuresByAccount.penalty(account);
    throw E.passwordWrong();
  }

  /** GET /v1/me. */
  async me(user: Principal): Promise<{ user: UserView }> {
    const row = await this.o.store.users.findById(user.id);
    if (!row) throw E.accountGone();
    return { user: userView(row) };
  }

  private async refuseIfThrottled(email: string, ip: string): Promise<void> {
    const [account, address] = await Promise.all([this.failuresByAccount.get(email), this.failuresByIp.get(ip)]);
    const limits: [RateLimiterRes | null, number][] = [
      [account, this.o.loginMaxFailures.perAccount],
      [address, this.o.loginMaxFailures.perIp],
    ];
    for (const [res, max] of limits) if (res && res.consumedPoints >= max) throw E.loginLocked(res.msBeforeNext);
  }

  /** Rotates a refresh token. Presenting one that was already used revokes its whole chain. */
  async refresh(refreshToken: string, opts: { browser?: boolean } = {}): Promise<TokenPair> {
    const { sessions, users } = this.o.store;
    const now = this.o.clock();
    const row = await sessions.findByHash(sha256(refreshToken));
    if (!row || row.revoked_at !== null) throw E.refreshInvalid('refresh token revoked');
    if (row.used_at !== null || !(await sessions.markUsed(row.id, now))) {
      // A browser that reloads while its refresh is in flight never receives the new cookie and
      // presents the old one again a moment later. Within a few seconds of its use that is the
      // browser, not a thief, and the session goes on; later, or outside the cookie session, a
      // second use revokes the whole chain.
      const usedAt = (await sessions.findByHash(sha256(refreshToken)))?.used_at ?? null;
      if (
        opts.browser &&
        usedAt !== null &&
        now - usedAt <= BROWSER_REUSE_GRACE_MS &&
        !(await sessions.chainRevoked(row.chain_id))
      ) {
        const user = await users.findById(row.user_id);
        if (!user) throw E.accountGone();
        return this.issue(user, row.chain_id);
      }
      await sessions.revokeChain(row.chain_id, now);
      this.o.onSessionEnded(row.chain_id);
      throw E.refreshReused();
    }
    if (row.expires_at <= now) throw E.refreshInvalid('refresh token expired');
    const user = await users.findById(row.user_id);
    if (!user) throw E.accountGone();
    return this.issue(user, row.chain_id);
  }

  /** Ends the session the refresh token belongs to. Unknown tokens are accepted silently. */
  async logout(refreshToken: string): Promise<void> {
    const row = await this.o.store.sessions.findByHash(sha256(refreshToken));
    if (!row) return;
    await this.o.store.sessions.revokeChain(row.chain_id, this.o.clock());
    this.o.onSessionEnded(row.chain_id);
  }

  private async issue(user: UserRow, chainId: string): Promise<TokenPair> {
    const refreshToken = randomToken();
    const now = this.o.clock();
    await this.o.store.sessions.insert({
      id: this.o.newId(),
      token_hash: sha256(refreshToken),
      user_id: user.id,
      chain_id: chainId,
      expires_at: now + this.o.refreshTtlS * 1000,
      created_at: now,
    });
    return { accessToken: this.o.tokens.signUser(user.id, user.token_version, [], chainId), refreshToken };
  }
}
