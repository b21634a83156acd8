// Password reset by email: a single-use, short-lived code mailed through HUB_SMTP_URL, then the
// code and a new password. The request is answered the same, in about the same time, whether or
// not an account has the address (the mail goes out after the answer); requests and guesses are
// throttled per address and per client address, and each code takes a few wrong guesses at most.
// A reset ends every session of the account, on every node.
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../backplane/backplane.js';
import { E } from '../contract/errors.js';
import type { Mailer } from '../mail/mailer.js';
import { passwordResetMail } from '../mail/password-reset-mail.js';
import type { Store } from '../store/store.js';
import { hashPassword } from './passwords.js';
import { normalizeCode, randomCode, sha256 } from './secrets.js';

/** Wrong guesses one code takes before it is gone. */
export const RESET_MAX_ATTEMPTS = 5;

export interface PasswordResetLimits {
  /** Reset mails asked for one address, and from one client address, per hour. */
  requestsPerAddress: number;
  requestsPerIp: number;
  /** Confirmations tried for one address, and from one client address, per 15 minutes. */
  confirmsPerAddress: number;
  confirmsPerIp: number;
}

export const DEFAULT_RESET_LIMITS: PasswordResetLimits = {
  requestsPerAddress: 3,
  requestsPerIp: 20,
  confirmsPerAddress: 10,
  confirmsPerIp: 30,
};

/** HUB_BUDGET_SCALE applies to these as to every per-person budget. */
export const scaleLimits = (l: PasswordResetLimits, scale: number): PasswordResetLimits => ({
  requestsPerAddress: l.requestsPerAddress * scale,
  requestsPerIp: l.requestsPerIp * scale,
  confirmsPerAddress: l.confirmsPerAddress * scale,
  confirmsPerIp: l.confirmsPerIp * scale,
});

export interface PasswordResetOptions {
  store: Store;
  /** Unset (no HUB_SMTP_URL): resets answer UNAVAILABLE. */
  mailer: Mailer | undefined;
  limiter: LimiterFactory;
  clock: () => number;
  ttlMin: number;
  limits?: PasswordResetLimits;
  /** Every session of the user ends: refresh tokens, access tokens, sockets on every node. */
  endAllSessions: (userId: string) => Promise<void>;
  /** The account's failed logins are forgotten (the mailbox was proved). */
  clearLoginFailures: (account: string) => Promise<void>;
  /** A mail could not be sent (after the answer, so only the log learns it). */
  onMailError: (err: unknown) => void;
}

export class PasswordReset {
  private readonly requestsByAddress: RateLimiterAbstract;
  private readonly requestsByIp: RateLimiterAbstract;
  private readonly confirmsByAddress: RateLimiterAbstract;
  private readonly confirmsByIp: RateLimiterAbstract;
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly o: PasswordResetOptions) {
    const l = o.limits ?? DEFAULT_RESET_LIMITS;
    this.requestsByAddress = o.limiter({ keyPrefix: 'reset-address', points: l.requestsPerAddress, durationS: 3600 });
    this.requestsByIp = o.limiter({ keyPrefix: 'reset-ip', points: l.requestsPerIp, durationS: 3600 });
    this.confirmsByAddress = o.limiter({ keyPrefix: 'reset-confirm-address', points: l.confirmsPerAddress, durationS: 900 });
    this.confirmsByIp = o.limiter({ keyPrefix: 'reset-confirm-ip', points: l.confirmsPerIp, durationS: 900 });
  }

  private async spend(limiter: RateLimiterAbstract, key: string, what: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw E.rateLimited(what, err.msBeforeNext);
      throw err;
    }
  }

  /**
   * POST /v1/auth/password-reset. Throttles count every address asked for, known or not, so
   * they say nothing about which exist either. Only accounts with a password get a code.
   */
  async request(email: string, ip: string): Promise<{ expiresInS: number }> {
    const mailer = this.o.mailer;
    if (!mailer) throw E.mailOff();
    await this.spend(this.requestsByIp, ip, 'password-reset requests');
    await this.spend(this.requestsByAddress, email, 'password-reset requests for this address');
    const { store } = this.o;
    const user = await store.users.findByEmail(email);
    const code = randomCode(10);
    const codeHash = sha256(normalizeCode(code));
    const now = this.o.clock();
    if (user?.password_hash && user.email) {
      await store.passwordResets.put({
        user_id: user.id,
        code_hash: codeHash,
        expires_at: now + this.o.ttlMin * 60_000,
        created_at: now,
      });
      const to = user.email;
      // After the answer: the relay's speed must not tell a known address from an unknown one.
      const sent = mailer
        .send(passwordResetMail({ to, code: `${code.slice(0, 5)}-${code.slice(5)}`, ttlMinutes: this.o.ttlMin }))
        .catch((err: unknown) => this.o.onMailError(err))
        .finally(() => this.sending.delete(sent));
      this.sending.add(sent);
    } else {
      // About the same work as the branch above (a read of the table), so timing says little.
      await store.passwordResets.find(codeHash);
    }
    return { expiresInS: this.o.ttlMin * 60 };
  }

  /**
   * POST /v1/auth/password-reset/confirm. A wrong, used or expired code, and an address with no
   * open code, are refused alike; the code is used up by the update that accepts it.
   */
  async confirm(email: string, code: string, newPassword: string, ip: string): Promise<void> {
    if (!this.o.mailer) throw E.mailOff();
    await this.spend(this.confirmsByIp, ip, 'password-reset attempts');
    await this.spend(this.confirmsByAddress, email, 'password-reset attempts for this address');
    const { store } = this.o;
    const user = await store.users.findByEmail(email);
    if (!user?.password_hash) throw E.resetCodeWrong();
    const check = await store.passwordResets.use(user.id, sha256(normalizeCode(code)), this.o.clock(), RESET_MAX_ATTEMPTS);
    if (check !== 'ok') throw E.resetCodeWrong();
    await store.users.setPasswordHash(user.id, await hashPassword(newPassword), { revokeAll: true });
    await this.o.endAllSessions(user.id);
    await this.o.clearLoginFailures(email);
  }

  /** Resolves once the mails being sent are sent (or failed): for a drain, and for tests. */
  async settled(): Promise<void> {
    await Promise.all([...this.sending]);
  }
}
