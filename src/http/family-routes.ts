// Families, invites, watch binding and permissions. Every route re-checks the caller's role in
// the store, so a removed member's token stops working at once.
import type { FastifyInstance } from 'fastify';
import { normalizeCode, randomCode, sha256 } from '../auth/secrets.js';
import { notFound } from '../contract/errors.js';
import type { DeviceView, FamilyView, Role } from '../contract/models.js';
import {
  deviceBindBody,
  familyCreateBody,
  familyDeviceParams,
  familyMemberParams,
  familyParams,
  inviteCreateBody,
  inviteParams,
  parseOrThrow,
  permissionsBody,
} from '../contract/schemas.js';
import { type DeviceRow, permissionsOf } from '../store/devices.js';
import { authUser } from './guards.js';
import type { HttpDeps } from './types.js';

const deviceView = (d: DeviceRow): DeviceView => ({
  id: d.id,
  model: d.model,
  childName: d.child_name,
  boundAt: d.bound_at,
  permissions: permissionsOf(d),
});

export function familyRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { store, access } = deps;

  const familyView = async (fid: string, role: Role): Promise<FamilyView> => {
    const [family, members, devices] = await Promise.all([
      store.families.findById(fid),
      store.families.members(fid),
      store.devices.listByFamily(fid),
    ]);
    if (!family) throw notFound('no such family');
    return { id: family.id, name: family.name, createdAt: family.created_at, role, members, devices: devices.map(deviceView) };
  };

  app.post('/v1/families', async (req, reply) => {
    const { userId } = await authUser(deps, req);
    const { name } = parseOrThrow(familyCreateBody, req.body);
    const family = await store.families.create(deps.newId(), name, userId, deps.clock());
    deps.roomControl.joinFamily({ kind: 'user', id: userId }, family.id);
    return reply.status(201).send(await familyView(family.id, 'owner'));
  });

  app.get('/v1/families', async (req) => {
    const { userId } = await authUser(deps, req);
    const rows = await store.families.listForUser(userId);
    return { families: rows.map((f) => ({ id: f.id, name: f.name, createdAt: f.created_at, role: f.role })) };
  });

  app.get('/v1/families/:fid', async (req) => {
    const { userId } = await authUser(deps, req);
    const { fid } = parseOrThrow(familyParams, req.params);
    return familyView(fid, await access.requireRole(fid, userId));
  });

  app.post('/v1/families/:fid/invites', async (req, reply) => {
    const { userId } = await authUser(deps, req);
    const { fid } = parseOrThrow(familyParams, req.params);
    const { role } = parseOrThrow(inviteCreateBody, req.body);
    await access.requireRole(fid, userId, ['owner']);
    const code = randomCode(12);
    const now = deps.clock();
    const expiresAt = now + deps.config.inviteTtlS * 1000;
    await store.families.createInvite({
      code_hash: sha256(normalizeCode(code)),
      family_id: fid,
      role,
      created_by: userId,
      expires_at: expiresAt,
      created_at: now,
    });
    return reply.status(201).send({ code, role, expiresAt });
  });

  app.post('/v1/invites/:code/accept', async (req) => {
    const { userId } = await authUser(deps, req);
    const { code } = parseOrThrow(inviteParams, req.params);
    const { familyId, role } = await store.families.acceptInvite(sha256(normalizeCode(code)), userId, deps.clock());
    deps.roomControl.joinFamily({ kind: 'user', id: userId }, familyId);
    return familyView(familyId, role);
  });

  app.post('/v1/families/:fid/devices', async (req, reply) => {
    const { userId } = await authUser(deps, req);
    const { fid } = parseOrThrow(familyParams, req.params);
    const { bindingCode, childName } = parseOrThrow(deviceBindBody, req.body);
    await access.requireRole(fid, userId, ['owner', 'guardian']);
    const device = await store.devices.bindByCode(sha256(normalizeCode(bindingCode)), fid, childName, deps.clock());
    deps.location.devices.invalidate(device.id);
    deps.roomControl.joinFamily({ kind: 'device', id: device.id }, fid);
    return reply.status(201).send(deviceView(device));
  });

  app.delete('/v1/families/:fid/devices/:did', async (req, reply) => {
    const { userId } = await authUser(deps, req);
    const { fid, did } = parseOrThrow(familyDeviceParams, req.params);
    await access.requireRole(fid, userId, ['owner']);
    if (!(await store.devices.unbind(did, fid))) throw notFound('no such watch in this family');
    deps.location.devices.invalidate(did);
    await deps.location.service.forgetWatch(did);
    await deps.commands.withdraw(did, null);
    deps.roomControl.leaveFamily({ kind: 'device', id: did }, fid);
    return reply.status(204).send();
  });

  app.delete('/v1/families/:fid/members/:uid', async (req, reply) => {
    const { userId } = await authUser(deps, req);
    const { fid, uid } = parseOrThrow(familyMemberParams, req.params);
    // Owners remove anyone; any member may leave.
    await access.requireRole(fid, userId, uid === userId ? undefined : ['owner']);
    await store.families.removeMember(fid, uid);
    deps.roomControl.leaveFamily({ kind: 'user', id: uid }, fid);
    return reply.status(204).send();
  });

  app.put('/v1/families/:fid/devices/:did/permissions', async (req) => {
    const { userId } = await authUser(deps, req);
    const { fid, did } = parseOrThrow(familyDeviceParams, req.params);
    const permissions = parseOrThrow(permissionsBody, req.body);
    await access.requireRole(fid, userId, ['owner']);
    const device = await store.devices.setPermissions(did, fid, permissions, { by: userId, at: deps.clock(), newId: deps.newId });
    if (!device) throw notFound('no such watch in this family');
    deps.location.devices.invalidate(did);
    // Consent withdrawn: the hub stops keeping the watch's live position and fence states, and
    // queued commands that needed the permission are not carried out.
    if (!permissions.location) await deps.location.service.forgetWatch(did);
    if (!permissions.camera) await deps.commands.withdraw(did, ['photo']);
    if (!permissions.contacts) await deps.commands.withdraw(did, ['set_contacts']);
    return deviceView(device);
  });
}
