// Account use cases: register, login, refresh (rotating, with reuse detection), logout, and the
// caller's own account: nickname, password change, privacy-policy acceptance.
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../backplane/backplane.js';
import { E } from '../contract/errors.js';
import type { Principal, TokenPair, UserView } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { Store } from '../store/store.js';
import type { UserRow } from '../store/users.js';
import type { Guard } from './policy.js';
import { RULES } from './rules.js';
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
  guard: Guard;
  roomControl: RoomControl;
  /** HUB_POLICY_VERSION: the privacy-policy version users must have accepted. */
  policyVersion: string;
}

/** What GET /v1/me answers. */
export interface MeView {
  user: UserView;
  /** True while the user has not accepted the hub's current privacy-policy version. */
  policyAcceptanceRequired: boolean;
  policy: { version: string; acceptedVersion: string | null; acceptedAt: number | null };
}

const versionOrder = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
/** Versions compare segment by segment, numbers as numbers: 2 < 10, 2026-01-05 < 2026-02-01. */
export const policyNewer = (current: string, accepted: string | null): boolean =>
  accepted === null || versionOrder.compare(current, accepted) > 0;

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

  async register(
    email: string,
    password: string,
    nickname: string,
    acceptedPolicyVersion?: string,
  ): Promise<{ user: UserView } & TokenPair> {
    if (acceptedPolicyVersion !== undefined) this.requireCurrentPolicy(acceptedPolicyVersion);
    const user = await this.o.store.users.create({
      id: this.o.newId(),
      email,
      passwordHash: await hashPassword(password),
      nickname,
      createdAt: this.o.clock(),
      policyVersion: acceptedPolicyVersion ?? null,
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
  async me(user: Principal): Promise<MeView> {
    await this.o.guard.check(RULES['account.me'], user, {});
    const row = await this.o.store.users.findById(user.id);
    if (!row) throw E.accountGone();
    return this.meView(row);
  }

  private meView(row: UserRow): MeView {
    const version = this.o.policyVersion;
    return {
      user: userView(row),
      policyAcceptanceRequired: policyNewer(version, row.policy_version),
      policy: { version, acceptedVersion: row.policy_version, acceptedAt: row.policy_accepted_at },
    };
  }

  /** GET /v1/policy: the version a client shows and sends back when the person accepts it. */
  policy(): { version: string } {
    return { version: this.o.policyVersion };
  }

  private requireCurrentPolicy(version: string): void {
    if (version !== this.o.policyVersion) throw E.policyVersionMismatch(this.o.policyVersion);
  }

  /** POST /v1/me/policy: the user accepts the current privacy-policy version (only that one). */
  async acceptPolicy(user: Principal, req: { version: string }): Promise<MeView> {
    await this.o.guard.check(RULES['account.policy'], user, req);
    this.requireCurrentPolicy(req.version);
    await this.o.store.users.acceptPolicy(user.id, req.version, this.o.clock());
    return this.me(user);
  }

  /** PATCH /v1/me: a new nickname, which the user's families see at once (GET and `member:updated`). */
  async update(user: Principal, req: { nickname: string }): Promise<MeView> {
    await this.o.guard.check(RULES['account.update'], user, req);
    const { store, roomControl } = this.o;
    if (!(await store.users.setNickname(user.id, req.nickname))) throw E.accountGone();
    for (const fid of await store.families.familyIdsOf(user.id)) {
      const member = (await store.families.members(fid)).find((m) => m.userId === user.id);
      if (member) roomControl.emit(rooms.guardians(fid), 'member:updated', { familyId: fid, member });
    }
    return this.me(user);
  }

  /**
   * POST /v1/me/password: re-authenticated with the current password (a wrong one counts as a
   * failed login); every other session ends, on every node: its refresh token is revoked, its
   * access tokens stop working (the guard checks the session) and its sockets are disconnected.
   * The caller's own session goes on. A token that names no session (hand-signed) keeps none.
   */
  async changePassword(
    user: Principal,
    req: { currentPassword: string; newPassword: string },
    sessionId: string | undefined,
  ): Promise<void> {
    await this.o.guard.check(RULES['account.password'], user, {});
    const { store } = this.o;
    const row = await store.users.findById(user.id);
    if (!row) throw E.accountGone();
    if (!row.password_hash) throw E.noPassword();
    await this.confirmPassword(row.email ?? row.id, req.currentPassword, row.password_hash);
    await store.users.setPasswordHash(user.id, await hashPassword(req.newPassword), { revokeAll: sessionId === undefined });
    await this.endSessions(user.id, sessionId);
  }

  /** Ends every session of the user but `keep` (none: all, and every access token issued so far). */
  async endSessions(userId: string, keep: string | undefined): Promise<void> {
    const ended = await this.o.store.sessions.revokeOthers(userId, keep, this.o.clock());
    for (const sid of ended) this.o.onSessionEnded(sid);
    if (keep === undefined) this.o.roomControl.disconnect({ kind: 'user', id: userId });
  }

  /** A password reset proved the mailbox: failed logins counted against the account are forgotten. */
  async clearLoginFailures(account: string): Promise<void> {
    await this.failuresByAccount.delete(account);
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
