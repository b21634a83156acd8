// The family's data rights: export (streamed JSON, audit-logged), consent history, and account
// cancellation for good. Also the operators' incident notice to affected families.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { verifyPassword } from '../auth/passwords.js';
import { normalizeCode, randomCode, sha256 } from '../auth/secrets.js';
import { rooms } from '../cluster/room-control.js';
import { badRequest, forbidden, notFound, unauthorized } from '../contract/errors.js';
import { familyDeviceParams, id, parseOrThrow, text } from '../contract/schemas.js';
import { exportDevice, exportUser } from '../privacy/export.js';
import { authUser, bearer } from './guards.js';
import type { HttpDeps } from './types.js';

const deleteBody = z.strictObject({
  // Accounts with a password re-confirm it; outside-login accounts confirm with this phrase.
  password: z.string().min(1).max(256).optional(),
  confirm: z.literal('delete my account').optional(),
});

const incidentBody = z.strictObject({
  message: text().trim().min(1).max(2000),
  familyIds: z.array(id).min(1).max(10_000).optional(),
});

const OPS_SCOPE = 'ops';

function streamJson(reply: FastifyReply, chunks: AsyncGenerator<string>, filename: string) {
  return reply
    .type('application/json; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(Readable.from(chunks));
}

export function privacyRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { store, access, commands } = deps;
  const viewCommand = commands.view.bind(commands);
  const audit = (
    actor: string,
    action: string,
    familyId: string | null,
    subject: { kind: 'user' | 'device'; id: string } | null,
    details = {},
  ) =>
    store.audit.record({
      id: deps.newId(),
      at: deps.clock(),
      actor: { kind: 'user', id: actor },
      action,
      familyId,
      subject,
      details,
    });

  app.get('/v1/me/export', async (req, reply) => {
    const { userId } = await authUser(deps, req);
    await audit(userId, 'export.user', null, { kind: 'user', id: userId });
    return streamJson(reply, exportUser(store, store.privacy, viewCommand, userId, deps.clock()), 'my-data.json');
  });

  app.get('/v1/families/:fid/devices/:did/export', async (req, reply) => {
    const { userId } = await authUser(deps, req);
    const { fid, did } = parseOrThrow(familyDeviceParams, req.params);
    await access.requireRole(fid, userId, ['owner']);
    const device = await store.devices.findById(did);
    if (device?.family_id !== fid) throw notFound('no such watch in this family');
    await audit(userId, 'export.device', fid, { kind: 'device', id: did });
    return streamJson(reply, exportDevice(store, store.privacy, viewCommand, did, fid, deps.clock()), `watch-${did}.json`);
  });

  app.get('/v1/families/:fid/devices/:did/consents', async (req) => {
    const { userId } = await authUser(deps, req);
    const { fid, did } = parseOrThrow(familyDeviceParams, req.params);
    await access.requireRole(fid, userId, ['owner']);
    const rows = await store.devices.consents(did, fid);
    return {
      consents: rows.map((r) => ({
        permission: r.permission,
        previous: r.previous === 1,
        value: r.value === 1,
        changedBy: r.changed_by,
        at: r.at,
      })),
    };
  });

  app.delete('/v1/me', async (req, reply) => {
    const { userId } = await authUser(deps, req);
    const body = parseOrThrow(deleteBody, req.body ?? {});
    const user = await store.users.findById(userId);
    if (!user) throw unauthorized('account no longer exists');
    if (user.password_hash) {
      if (!body.password || !(await verifyPassword(body.password, user.password_hash))) throw forbidden('wrong password');
    } else if (body.confirm !== 'delete my account') {
      throw badRequest('confirm: send "delete my account" to delete an account without a password');
    }
    const codes = new Map<string, string>();
    const expiresAt = deps.clock() + deps.config.bindingCodeTtlS * 1000;
    const result = await store.erasure.erase(userId, (deviceId) => {
      const code = randomCode();
      codes.set(deviceId, code);
      return { hash: sha256(normalizeCode(code)), expiresAt };
    });
    await store.mediaBlobs.delete(result.mediaIds);
    deps.roomControl.disconnect({ kind: 'user', id: userId });
    for (const fid of result.leftFamilies)
      deps.roomControl.emit(rooms.family(fid), 'presence', { kind: 'user', id: userId, online: false, lastSeen: deps.clock() });
    for (const did of result.unboundDevices) {
      deps.location.devices.invalidate(did);
      await deps.location.service.forgetWatch(did);
      await deps.commands.withdraw(did, null);
      for (const fid of result.deletedFamilies) deps.roomControl.leaveFamily({ kind: 'device', id: did }, fid);
      // The watch shows its new code, so it can be bound again.
      deps.roomControl.emit(rooms.device(did), 'binding:code', { bindingCode: codes.get(did)!, expiresAt });
    }
    return reply.status(204).send();
  });

  app.post('/v1/ops/incidents', async (req, reply) => {
    const ctx = await deps.authenticator.authenticate(bearer(req));
    if (ctx.principal.kind !== 'user' || !ctx.scopes.includes(OPS_SCOPE))
      throw forbidden('this needs a token with the ops scope');
    const { message, familyIds } = parseOrThrow(incidentBody, req.body);
    const targets = familyIds ?? (await store.families.allIds());
    const id = randomUUID();
    const at = deps.clock();
    let notified = 0;
    for (const fid of targets) {
      if (!(await store.families.findById(fid))) continue;
      deps.roomControl.emit(rooms.family(fid), 'incident', { id, message, at });
      await deps.notifyOffline(fid, null, { kind: 'incident', familyId: fid, ts: at, incidentId: id, notice: message });
      await audit(ctx.principal.id, 'incident.notified', fid, null, { incidentId: id });
      notified++;
    }
    return reply.status(202).send({ id, notifiedFamilies: notified });
  });
}
