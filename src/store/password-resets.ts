// Password-reset codes: at most one open code per account, stored by hash (a leaked database
// reveals none), with its expiry and the wrong guesses spent on it. A code is used up by the
// update that accepts it, so two confirmations racing with the same code cannot both win.
import type { Kysely, Selectable } from 'kysely';
import type { Database, PasswordResetsTable } from './schema.js';

export type PasswordResetRow = Selectable<PasswordResetsTable>;

export type ResetCheck = 'ok' | 'wrong' | 'none';

export class PasswordResetRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Opens a code for the user, replacing any earlier one (only the newest code works). */
  async put(row: Omit<PasswordResetRow, 'attempts'>): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('password_resets').where('user_id', '=', row.user_id).execute();
      await tx
        .insertInto('password_resets')
        .values({ ...row, attempts: 0 })
        .execute();
    });
  }

  find(userId: string): Promise<PasswordResetRow | undefined> {
    return this.db.selectFrom('password_resets').selectAll().where('user_id', '=', userId).executeTakeFirst();
  }

  /**
   * Checks a guess. The right code, unexpired and with guesses left, is deleted (used up) and
   * answers `ok`; a wrong one spends a guess and the code goes once `maxAttempts` are spent;
   * `none` when there is no open code (never asked, used, expired or guessed away).
   */
  async use(userId: string, codeHash: string, now: number, maxAttempts: number): Promise<ResetCheck> {
    const row = await this.find(userId);
    if (!row || row.expires_at <= now || row.attempts >= maxAttempts) {
      if (row) await this.db.deleteFrom('password_resets').where('user_id', '=', userId).execute();
      return 'none';
    }
    if (row.code_hash === codeHash) {
      const r = await this.db
        .deleteFrom('password_resets')
        .where('user_id', '=', userId)
        .where('code_hash', '=', codeHash)
        .where('attempts', '<', maxAttempts)
        .executeTakeFirst();
      return Number(r.numDeletedRows) === 1 ? 'ok' : 'none';
    }
    await this.db
      .updateTable('password_resets')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('user_id', '=', userId)
      .execute();
    await this.db.deleteFrom('password_resets').where('user_id', '=', userId).where('attempts', '>=', maxAttempts).execute();
    return 'wrong';
  }

  /** Drops expired codes (the retention job); returns how many. */
  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('password_resets').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
