// Refresh tokens, stored by hash. Tokens of one login form a chain: each refresh uses one up and
// adds the next; presenting a used one again revokes the whole chain (it was stolen or replayed).
import type { Kysely, Selectable } from 'kysely';
import type { Database, RefreshTokensTable } from './schema.js';

export type RefreshTokenRow = Selectable<RefreshTokensTable>;

export class SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Omit<RefreshTokenRow, 'used_at' | 'revoked_at'>): Promise<void> {
    await this.db
      .insertInto('refresh_tokens')
      .values({ ...row, used_at: null, revoked_at: null })
      .execute();
  }

  findByHash(tokenHash: string): Promise<RefreshTokenRow | undefined> {
    return this.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** Marks a token used; false if it was already used or revoked (so two racing refreshes cannot both win). */
  async markUsed(id: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('refresh_tokens')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async chainRevoked(chainId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('refresh_tokens')
      .select('id')
      .where('chain_id', '=', chainId)
      .where('revoked_at', 'is not', null)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async revokeChain(chainId: string, now: number): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('chain_id', '=', chainId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  async revokeAllForUser(userId: string, now: number): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /**
   * Revokes every open session (refresh-token chain) of the user but `keepChain` (none: all);
   * returns the chains it ended, so their live connections can be ended too.
   */
  async revokeOthers(userId: string, keepChain: string | undefined, now: number): Promise<string[]> {
    const open = await this.db
      .selectFrom('refresh_tokens')
      .select('chain_id')
      .distinct()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .$if(keepChain !== undefined, (q) => q.where('chain_id', '!=', keepChain!))
      .execute();
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .$if(keepChain !== undefined, (q) => q.where('chain_id', '!=', keepChain!))
      .execute();
    return open.map((r) => r.chain_id);
  }
}
