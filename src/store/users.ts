import type { Kysely, Selectable } from 'kysely';
import { E } from '../contract/errors.js';
import type { Database, UsersTable } from './schema.js';
import { isUniqueViolation } from './errors.js';

export type UserRow = Selectable<UsersTable>;

export interface NewUser {
  id: string;
  email: string | null;
  passwordHash: string | null;
  nickname: string;
  externalSubject?: string | null;
  createdAt: number;
  /** The privacy-policy version accepted at registration, if any. */
  policyVersion?: string | null;
}

export class UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(u: NewUser): Promise<UserRow> {
    const row: UserRow = {
      id: u.id,
      email: u.email,
      password_hash: u.passwordHash,
      nickname: u.nickname,
      external_subject: u.externalSubject ?? null,
      token_version: 0,
      created_at: u.createdAt,
      policy_version: u.policyVersion ?? null,
      policy_accepted_at: u.policyVersion ? u.createdAt : null,
    };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw E.emailTaken();
      throw err;
    }
    return row;
  }

  findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  findByExternalSubject(subject: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('external_subject', '=', subject).executeTakeFirst();
  }

  async tokenVersion(id: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('users').select('token_version').where('id', '=', id).executeTakeFirst();
    return row?.token_version;
  }

  /** Invalidates every access token issued so far for the user. */
  async bumpTokenVersion(id: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set((eb) => ({ token_version: eb('token_version', '+', 1) }))
      .where('id', '=', id)
      .execute();
  }

  /** Changes the nickname; false when the user is gone. */
  async setNickname(id: string, nickname: string): Promise<boolean> {
    const r = await this.db.updateTable('users').set({ nickname }).where('id', '=', id).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Sets a new password hash. With `revokeAll`, every access token issued so far stops working
   * too (the token version goes up): a password reset, where no session is to be kept.
   */
  async setPasswordHash(id: string, hash: string, opts: { revokeAll: boolean }): Promise<void> {
    await this.db
      .updateTable('users')
      .set((eb) => ({
        password_hash: hash,
        ...(opts.revokeAll ? { token_version: eb('token_version', '+', 1) } : {}),
      }))
      .where('id', '=', id)
      .execute();
  }

  async acceptPolicy(id: string, version: string, at: number): Promise<void> {
    await this.db.updateTable('users').set({ policy_version: version, policy_accepted_at: at }).where('id', '=', id).execute();
  }
}
