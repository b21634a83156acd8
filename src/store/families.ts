import type { Kysely, Selectable, Transaction } from 'kysely';
import { E } from '../contract/errors.js';
import type { MemberView, Role } from '../contract/models.js';
import type { DialectName } from './db.js';
import type { Database, FamiliesTable, InvitesTable } from './schema.js';
import { isUniqueViolation } from './errors.js';
import { deleteFamilyIn, type FamilyDeletion, type NewBindingCode } from './family-deletion.js';

export type FamilyRow = Selectable<FamiliesTable>;
export type InviteRow = Selectable<InvitesTable>;

export class FamilyRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  /** Creates a family with its creator as owner, in one transaction. */
  create(id: string, name: string, ownerId: string, now: number): Promise<FamilyRow> {
    return this.db.transaction().execute(async (tx) => {
      const row = { id, name, created_at: now };
      await tx.insertInto('families').values(row).execute();
      await tx.insertInto('family_members').values({ family_id: id, user_id: ownerId, role: 'owner', joined_at: now }).execute();
      return row;
    });
  }

  async allIds(): Promise<string[]> {
    return (await this.db.selectFrom('families').select('id').execute()).map((r) => r.id);
  }

  findById(id: string): Promise<FamilyRow | undefined> {
    return this.db.selectFrom('families').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listForUser(userId: string): Promise<(FamilyRow & { role: Role })[]> {
    return this.db
      .selectFrom('family_members as m')
      .innerJoin('families as f', 'f.id', 'm.family_id')
      .select(['f.id', 'f.name', 'f.created_at', 'm.role'])
      .where('m.user_id', '=', userId)
      .orderBy('f.created_at')
      .execute() as Promise<(FamilyRow & { role: Role })[]>;
  }

  async familyIdsOf(userId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('family_members').select('family_id').where('user_id', '=', userId).execute();
    return rows.map((r) => r.family_id);
  }

  async roleOf(familyId: string, userId: string): Promise<Role | undefined> {
    const row = await this.db
      .selectFrom('family_members')
      .select('role')
      .where('family_id', '=', familyId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.role as Role | undefined;
  }

  async members(familyId: string): Promise<MemberView[]> {
    const rows = await this.db
      .selectFrom('family_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.user_id', 'u.nickname', 'm.role', 'm.joined_at'])
      .where('m.family_id', '=', familyId)
      .orderBy('m.joined_at')
      .execute();
    return rows.map((r) => ({ userId: r.user_id, nickname: r.nickname, role: r.role as Role, joinedAt: r.joined_at }));
  }

  /** Removes a member; refuses to leave a family without an owner. */
  removeMember(familyId: string, userId: string): Promise<void> {
    return this.db.transaction().execute(async (tx) => {
      const { target, owners } = await this.lockedMember(tx, familyId, userId);
      if (target.role === 'owner' && owners === 1) throw E.lastOwner();
      await tx.deleteFrom('family_members').where('family_id', '=', familyId).where('user_id', '=', userId).execute();
    });
  }

  /**
   * A member and the family's owner count, read under a lock of the family: two owners removing
   * or demoting each other at once must not both see "another owner is left". (SQLite runs one
   * write transaction at a time already.)
   */
  private async lockedMember(tx: Transaction<Database>, familyId: string, userId: string) {
    if (this.dialect === 'postgres') {
      await tx.selectFrom('families').select('id').where('id', '=', familyId).forUpdate().execute();
    }
    const members = await tx.selectFrom('family_members').select(['user_id', 'role']).where('family_id', '=', familyId).execute();
    const target = members.find((m) => m.user_id === userId);
    if (!target) throw E.noSuchMember();
    return { target, owners: members.filter((m) => m.role === 'owner').length };
  }

  /** Renames a family; false when it does not exist. */
  async rename(familyId: string, name: string): Promise<boolean> {
    const r = await this.db.updateTable('families').set({ name }).where('id', '=', familyId).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Gives a member another role; refuses to take the owner role from the family's last owner,
   * so a family always keeps one. Returns the role the member had.
   */
  setRole(familyId: string, userId: string, role: Role): Promise<Role> {
    return this.db.transaction().execute(async (tx) => {
      const { target, owners } = await this.lockedMember(tx, familyId, userId);
      if (target.role === 'owner' && role !== 'owner' && owners === 1) throw E.lastOwner();
      await tx
        .updateTable('family_members')
        .set({ role })
        .where('family_id', '=', familyId)
        .where('user_id', '=', userId)
        .execute();
      return target.role as Role;
    });
  }

  /**
   * Deletes the family for good (src/store/family-deletion.ts), in one transaction; returns its
   * members as they were, with what the deletion unbound and left to delete.
   */
  delete(familyId: string, newBindingCode: NewBindingCode): Promise<FamilyDeletion & { memberIds: string[] }> {
    return this.db.transaction().execute(async (tx) => {
      const members = await tx.selectFrom('family_members').select('user_id').where('family_id', '=', familyId).execute();
      const gone = await deleteFamilyIn(tx, familyId, newBindingCode);
      return { ...gone, memberIds: members.map((m) => m.user_id) };
    });
  }

  async createInvite(invite: Omit<InviteRow, 'used_at' | 'used_by'>): Promise<void> {
    await this.db
      .insertInto('invites')
      .values({ ...invite, used_at: null, used_by: null })
      .execute();
  }

  /** Accepts an invite: single use, unexpired, and not for a family the user is already in. */
  acceptInvite(codeHash: string, userId: string, now: number): Promise<{ familyId: string; role: Role }> {
    return this.db.transaction().execute(async (tx) => {
      const invite = await tx.selectFrom('invites').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
      if (!invite || invite.used_at !== null || invite.expires_at <= now) {
        throw E.codeUnknown('invite code is unknown, already used or expired');
      }
      const r = await tx
        .updateTable('invites')
        .set({ used_at: now, used_by: userId })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw E.codeUnknown('invite code is unknown, already used or expired');
      try {
        await tx
          .insertInto('family_members')
          .values({ family_id: invite.family_id, user_id: userId, role: invite.role, joined_at: now })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw E.alreadyMember();
        throw err;
      }
      return { familyId: invite.family_id, role: invite.role as Role };
    });
  }
}
