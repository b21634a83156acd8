// The family use cases: families (create, rename, delete) and invites, binding and unbinding
// watches, their permissions, members' roles, and members leaving or being removed. A change that takes someone out (an unbind, a removal, a
// permission turned off) takes effect at once, on every node, for every part of the hub that
// holds something of theirs: live sockets, the location path, queued commands, calls.
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { normalizeCode, randomCode, sha256 } from '../auth/secrets.js';
import { E } from '../contract/errors.js';
import type { FamilyExit } from '../contract/events.js';
import type {
  CommandType,
  DeviceView,
  FamilySummary,
  FamilyView,
  Permissions,
  PermissionsUpdate,
  Principal,
  Role,
} from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { DeviceDirectory } from '../store/device-directory.js';
import { type DeviceRow, permissionsOf } from '../store/devices.js';
import type { Store } from '../store/store.js';

export const deviceView = (d: DeviceRow): DeviceView => ({
  id: d.id,
  model: d.model,
  childName: d.child_name,
  boundAt: d.bound_at,
  permissions: permissionsOf(d),
});

/** What other services do when a watch or a person leaves a family, or a permission goes off. */
export interface Departures {
  /** The watch left its family or lost location consent: the location path forgets it everywhere. */
  forgetWatchLocation(deviceId: string): Promise<void>;
  /** Open commands of the watch end (all, or of these types). */
  withdrawCommands(deviceId: string, types: readonly CommandType[] | null): Promise<void>;
  /** The principal's part in the family's calls ends (all media, or only some). */
  leaveCalls(p: Principal, familyId: string, media?: readonly ('audio' | 'video')[]): Promise<void>;
}

/** The queued commands a permission is needed for. */
const COMMANDS_NEEDING: Partial<Record<keyof Permissions, CommandType[]>> = { camera: ['photo'], contacts: ['set_contacts'] };

export interface FamilyOptions {
  inviteTtlS: number;
  /** How long the fresh binding code of a watch taken out of its family works. */
  bindingCodeTtlS: number;
}

export class FamilyService {
  constructor(
    private readonly deps: {
      store: Store;
      guard: Guard;
      devices: DeviceDirectory;
      roomControl: RoomControl;
      departures: Departures;
      /** A family was deleted: drop what the hub holds of it in memory (its learned access points). */
      familyDeleted: (familyId: string) => void;
      clock: () => number;
      newId: () => string;
    },
    private readonly opts: FamilyOptions,
  ) {}

  async create(user: Principal, req: { name: string }): Promise<FamilyView> {
    await this.deps.guard.check(RULES['family.create'], user, req);
    const family = await this.deps.store.families.create(this.deps.newId(), req.name, user.id, this.deps.clock());
    this.deps.roomControl.joinFamily(user, family.id);
    return this.view(family.id, 'owner');
  }

  async list(user: Principal): Promise<FamilySummary[]> {
    await this.deps.guard.check(RULES['family.list'], user, {});
    const rows = await this.deps.store.families.listForUser(user.id);
    return rows.map((f) => ({ id: f.id, name: f.name, createdAt: f.created_at, role: f.role }));
  }

  async get(user: Principal, req: { familyId: string }): Promise<FamilyView> {
    const { role } = await this.deps.guard.check(RULES['family.get'], user, req);
    return this.view(req.familyId, role!);
  }

  async invite(user: Principal, req: { familyId: string; role: Role }): Promise<{ code: string; role: Role; expiresAt: number }> {
    await this.deps.guard.check(RULES['family.invite'], user, req);
    const code = randomCode(12);
    const now = this.deps.clock();
    const expiresAt = now + this.opts.inviteTtlS * 1000;
    await this.deps.store.families.createInvite({
      code_hash: sha256(normalizeCode(code)),
      family_id: req.familyId,
      role: req.role,
      created_by: user.id,
      expires_at: expiresAt,
      created_at: now,
    });
    return { code, role: req.role, expiresAt };
  }

  async acceptInvite(user: Principal, req: { code: string }): Promise<FamilyView> {
    await this.deps.guard.check(RULES['invite.accept'], user, req);
    const { familyId, role } = await this.deps.store.families.acceptInvite(
      sha256(normalizeCode(req.code)),
      user.id,
      this.deps.clock(),
    );
    this.deps.roomControl.joinFamily(user, familyId);
    return this.view(familyId, role);
  }

  async bindWatch(user: Principal, req: { familyId: string; bindingCode: string; childName: string }): Promise<DeviceView> {
    await this.deps.guard.check(RULES['watch.bind'], user, req);
    const device = await this.deps.store.devices.bindByCode(
      sha256(normalizeCode(req.bindingCode)),
      req.familyId,
      req.childName,
      this.deps.clock(),
    );
    this.deps.devices.invalidate(device.id);
    this.deps.roomControl.joinFamily({ kind: 'device', id: device.id }, req.familyId);
    return deviceView(device);
  }

  /** A fresh binding code for a watch leaving its family: the code, and what is stored of it. */
  private freshBindingCode() {
    const bindingCode = randomCode();
    const expiresAt = this.deps.clock() + this.opts.bindingCodeTtlS * 1000;
    return { bindingCode, expiresAt, stored: { hash: sha256(normalizeCode(bindingCode)), expiresAt } };
  }

  /**
   * Takes a watch out of the family: once answered, nothing of it reaches the family any more.
   * The watch gets a fresh binding code on its own connection (`binding:code`), so it can be
   * bound again without the maker.
   */
  async unbindWatch(user: Principal, req: { familyId: string; deviceId: string }): Promise<void> {
    await this.deps.guard.check(RULES['watch.unbind'], user, req);
    const code = this.freshBindingCode();
    if (!(await this.deps.store.devices.unbind(req.deviceId, req.familyId, code.stored, this.deps.clock())))
      throw E.noSuchWatch();
    await this.watchLeft(req.deviceId, req.familyId);
    this.deps.roomControl.emit(rooms.device(req.deviceId), 'binding:code', {
      bindingCode: code.bindingCode,
      expiresAt: code.expiresAt,
    });
  }

  /** PATCH /v1/families/:fid (owner): the family room is told the new name. */
  async rename(user: Principal, req: { familyId: string; name: string }): Promise<FamilyView> {
    const { role } = await this.deps.guard.check(RULES['family.rename'], user, req);
    if (!(await this.deps.store.families.rename(req.familyId, req.name))) throw E.noSuchFamily();
    this.deps.roomControl.emit(rooms.family(req.familyId), 'family:updated', { familyId: req.familyId, name: req.name });
    return this.view(req.familyId, role!);
  }

  /**
   * DELETE /v1/families/:fid (owner): the family goes for good, as when its last owner's account
   * is deleted (src/store/family-deletion.ts): its messages, media, places, alerts, commands,
   * consents, invites and audit entries, and what its watches recorded for it. Every watch is
   * freed with a fresh binding code; every member's sockets leave it and are told (`deleted`).
   */
  async deleteFamily(user: Principal, req: { familyId: string }): Promise<void> {
    await this.deps.guard.check(RULES['family.delete'], user, req);
    const { store, roomControl, departures } = this.deps;
    const codes = new Map<string, ReturnType<FamilyService['freshBindingCode']>>();
    const gone = await store.families.delete(req.familyId, (deviceId) => {
      const code = this.freshBindingCode();
      codes.set(deviceId, code);
      return code.stored;
    });
    await store.mediaBlobs.delete(gone.mediaIds);
    this.deps.familyDeleted(req.familyId);
    for (const uid of gone.memberIds) {
      const member: Principal = { kind: 'user', id: uid };
      roomControl.leaveFamily(member, req.familyId, 'deleted');
      await departures.leaveCalls(member, req.familyId);
    }
    for (const did of gone.unboundDevices) {
      await this.watchLeft(did, req.familyId, 'deleted');
      const code = codes.get(did)!;
      roomControl.emit(rooms.device(did), 'binding:code', { bindingCode: code.bindingCode, expiresAt: code.expiresAt });
    }
  }

  /**
   * PUT /v1/families/:fid/members/:uid (owner): gives a member a role. Ownership passes by giving
   * another member `owner` (a family may have several); the last owner cannot give the role up.
   * The guard reads roles from the store on every request, so the change holds at once, on
   * every node and on live sockets; the family's people are told (`member:updated`).
   */
  async setRole(user: Principal, req: { familyId: string; userId: string; role: Role }): Promise<FamilyView> {
    const { role } = await this.deps.guard.check(RULES['member.role'], user, req);
    const { store, roomControl } = this.deps;
    const before = await store.families.setRole(req.familyId, req.userId, req.role);
    if (before !== req.role) {
      const member = (await store.families.members(req.familyId)).find((m) => m.userId === req.userId);
      if (member) roomControl.emit(rooms.guardians(req.familyId), 'member:updated', { familyId: req.familyId, member });
    }
    return this.view(req.familyId, req.userId === user.id ? req.role : role!);
  }

  /** POST /v1/families/:fid/leave: the caller leaves; the last owner cannot (delete the family, or name another owner). */
  async leave(user: Principal, req: { familyId: string }): Promise<void> {
    await this.removeMember(user, { familyId: req.familyId, userId: user.id });
  }

  /** What follows when a watch leaves a family (unbound by its owner, or its family deleted). */
  async watchLeft(deviceId: string, familyId: string, reason: FamilyExit = 'removed'): Promise<void> {
    const watch: Principal = { kind: 'device', id: deviceId };
    this.deps.devices.invalidate(deviceId);
    this.deps.roomControl.leaveFamily(watch, familyId, reason);
    await this.deps.departures.forgetWatchLocation(deviceId);
    await this.deps.departures.withdrawCommands(deviceId, null);
    await this.deps.departures.leaveCalls(watch, familyId);
  }

  async setPermissions(
    user: Principal,
    req: { familyId: string; deviceId: string; permissions: PermissionsUpdate },
  ): Promise<DeviceView> {
    await this.deps.guard.check(RULES['watch.permissions'], user, req);
    const { familyId, deviceId } = req;
    const device = await this.deps.store.devices.setPermissions(deviceId, familyId, req.permissions, {
      by: user.id,
      at: this.deps.clock(),
      newId: this.deps.newId,
    });
    if (!device) throw E.noSuchWatch();
    const permissions = permissionsOf(device);
    this.deps.devices.invalidate(deviceId);
    // Consent withdrawn: the hub stops keeping the watch's live position and fence states, queued
    // commands that needed the permission are not carried out, and media it sends in a call stops.
    const { departures } = this.deps;
    if (!permissions.location) await departures.forgetWatchLocation(deviceId);
    for (const [p, types] of Object.entries(COMMANDS_NEEDING)) {
      if (!permissions[p as keyof Permissions]) await departures.withdrawCommands(deviceId, types);
    }
    const watch: Principal = { kind: 'device', id: deviceId };
    if (!permissions.microphone) await departures.leaveCalls(watch, familyId);
    else if (!permissions.camera) await departures.leaveCalls(watch, familyId, ['video']);
    return deviceView(device);
  }

  async consents(user: Principal, req: { familyId: string; deviceId: string }) {
    await this.deps.guard.check(RULES['watch.consents'], user, req);
    const rows = await this.deps.store.devices.consents(req.deviceId, req.familyId);
    return rows.map((r) => ({
      permission: r.permission,
      previous: r.previous === 1,
      value: r.value === 1,
      changedBy: r.changed_by,
      at: r.at,
    }));
  }

  /** An owner removes a member, or a member leaves: at once, on every node. */
  async removeMember(user: Principal, req: { familyId: string; userId: string }): Promise<void> {
    const rule = req.userId === user.id ? RULES['member.leave'] : RULES['member.remove'];
    await this.deps.guard.check(rule, user, req);
    await this.deps.store.families.removeMember(req.familyId, req.userId);
    const member: Principal = { kind: 'user', id: req.userId };
    this.deps.roomControl.leaveFamily(member, req.familyId, req.userId === user.id ? 'left' : 'removed');
    await this.deps.departures.leaveCalls(member, req.familyId);
  }

  private async view(fid: string, role: Role): Promise<FamilyView> {
    const { store } = this.deps;
    const [family, members, devices] = await Promise.all([
      store.families.findById(fid),
      store.families.members(fid),
      store.devices.listByFamily(fid),
    ]);
    if (!family) throw E.noSuchFamily();
    return { id: family.id, name: family.name, createdAt: family.created_at, role, members, devices: devices.map(deviceView) };
  }
}
