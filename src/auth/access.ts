// Who may do what in a family. Checked against the store on every request, so a removed member's
// still-valid token stops working at once.
import { forbidden } from '../contract/errors.js';
import type { Principal, Role } from '../contract/models.js';
import type { Store } from '../store/store.js';

export class Access {
  constructor(private readonly store: Store) {}

  /**
   * The caller's role in the family; FORBIDDEN if not a member or not in `roles`. Unknown
   * families answer the same as others' families, so ids cannot be probed.
   */
  async requireRole(familyId: string, userId: string, roles: readonly Role[] = ['owner', 'guardian', 'viewer']): Promise<Role> {
    const role = await this.store.families.roleOf(familyId, userId);
    if (!role) throw forbidden('not a member of this family');
    if (!roles.includes(role)) throw forbidden(`this needs the role ${roles.join(' or ')}`);
    return role;
  }

  /** Users must be members; watches must be bound to the family. */
  async requireInFamily(p: Principal, familyId: string): Promise<void> {
    if (p.kind === 'user') {
      await this.requireRole(familyId, p.id);
      return;
    }
    const device = await this.store.devices.findById(p.id);
    if (device?.family_id !== familyId) throw forbidden('this watch is not in that family');
  }

  /** The families a principal belongs to now. */
  async familiesOf(p: Principal): Promise<string[]> {
    if (p.kind === 'user') return this.store.families.familyIdsOf(p.id);
    const fid = (await this.store.devices.findById(p.id))?.family_id;
    return fid ? [fid] : [];
  }
}
