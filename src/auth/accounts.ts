// Account use cases: register, login, refresh (rotating, with reuse detection), logout.
import type { TokenPair, UserView } from '../contract/models.js';
import { unauthorized } from '../contract/errors.js';
import type { Store } from '../store/store.js';
import type { UserRow } from '../store/users.js';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './passwords.js';
import { randomToken, sha256 } from './secrets.js';
import type { TokenService } from './tokens.js';

export const userView = (u: UserRow): UserView => ({ id: u.id, email: u.email, nickname: u.nickname, createdAt: u.created_at });

export interface AccountsOptions {
  store: Store;
  tokens: TokenService;
  refreshTtlS: number;
  clock: () => number;
  newId: () => string;
  /** A session was ended (logout, or a refresh token replayed): end its live connections. */
  onSessionEnded: (sessionId: string) => void;
}

export class Accounts {
  constructor(private readonly o: AccountsOptions) {}

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

  async login(email: string, password: string): Promise<{ user: UserView } & TokenPair> {
    const user = await this.o.store.users.findByEmail(email);
    // Verify against a dummy hash for unknown accounts, so timing does not reveal which exist.
    const ok = await verifyPassword(password, user?.password_hash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !user.password_hash || !ok) throw unauthorized('wrong email or password');
    return { user: userView(user), ...(await this.issue(user, this.o.newId())) };
  }

  /** Rotates a refresh token. Presenting one that was already used revokes its whole chain. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const { sessions, users } = this.o.store;
    const now = this.o.clock();
    const row = await sessions.findByHash(sha256(refreshToken));
    if (!row || row.revoked_at !== null) throw unauthorized('refresh token revoked');
    if (row.used_at !== null || !(await sessions.markUsed(row.id, now))) {
      await sessions.revokeChain(row.chain_id, now);
      this.o.onSessionEnded(row.chain_id);
      throw unauthorized('refresh token reused: the session was revoked, log in again');
    }
    if (row.expires_at <= now) throw unauthorized('refresh token expired');
    const user = await users.findById(row.user_id);
    if (!user) throw unauthorized('account no longer exists');
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
