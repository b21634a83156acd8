// Families, invites, watch binding, permissions and the watch's health readings over HTTP: each route parses its input and
// calls the family use case (which checks the caller's role in the store).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  deviceBindBody,
  epochMs,
  familyCreateBody,
  familyDeviceParams,
  familyMemberParams,
  familyParams,
  familyRenameBody,
  inviteCreateBody,
  memberRoleBody,
  inviteParams,
  parseOrThrow,
  permissionsBody,
} from '../contract/schemas.js';
import { type HttpContext, authenticated, caller, ipBudget } from './context.js';

/** `GET …/health`: a time range (either end may be left out) and a page. */
const healthQuery = z.strictObject({
  from: z.coerce.number().pipe(epochMs).optional(),
  to: z.coerce.number().pipe(epochMs).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().max(256).optional(),
});

export function familyRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { families, health } = ctx.services;
  // Invite and binding codes are guessed here: per address too, whoever is signed in.
  const codeGuesses = ipBudget(ctx, 'code-guess', 30 * ctx.services.config.budgetScale);
  authenticated(app, ctx, (scope) => {
    scope.post('/v1/families', async (req, reply) => {
      const { name } = parseOrThrow(familyCreateBody, req.body);
      return reply.status(201).send(await families.create(caller(req), { name }));
    });

    scope.get('/v1/families', async (req) => ({ families: await families.list(caller(req)) }));

    scope.get('/v1/families/:fid', async (req) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      return families.get(caller(req), { familyId: fid });
    });

    scope.patch('/v1/families/:fid', async (req) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      const { name } = parseOrThrow(familyRenameBody, req.body);
      return families.rename(caller(req), { familyId: fid, name });
    });

    scope.delete('/v1/families/:fid', async (req, reply) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      await families.deleteFamily(caller(req), { familyId: fid });
      return reply.status(204).send();
    });

    scope.put('/v1/families/:fid/members/:uid', async (req) => {
      const { fid, uid } = parseOrThrow(familyMemberParams, req.params);
      const { role } = parseOrThrow(memberRoleBody, req.body);
      return families.setRole(caller(req), { familyId: fid, userId: uid, role });
    });

    scope.post('/v1/families/:fid/leave', async (req, reply) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      await families.leave(caller(req), { familyId: fid });
      return reply.status(204).send();
    });

    scope.post('/v1/families/:fid/invites', async (req, reply) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      const { role } = parseOrThrow(inviteCreateBody, req.body);
      return reply.status(201).send(await families.invite(caller(req), { familyId: fid, role }));
    });

    scope.post('/v1/invites/:code/accept', { onRequest: codeGuesses }, async (req) => {
      const { code } = parseOrThrow(inviteParams, req.params);
      return families.acceptInvite(caller(req), { code });
    });

    scope.post('/v1/families/:fid/devices', { onRequest: codeGuesses }, async (req, reply) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      const body = parseOrThrow(deviceBindBody, req.body);
      return reply.status(201).send(await families.bindWatch(caller(req), { familyId: fid, ...body }));
    });

    scope.delete('/v1/families/:fid/devices/:did', async (req, reply) => {
      const { fid, did } = parseOrThrow(familyDeviceParams, req.params);
      await families.unbindWatch(caller(req), { familyId: fid, deviceId: did });
      return reply.status(204).send();
    });

    scope.delete('/v1/families/:fid/members/:uid', async (req, reply) => {
      const { fid, uid } = parseOrThrow(familyMemberParams, req.params);
      await families.removeMember(caller(req), { familyId: fid, userId: uid });
      return reply.status(204).send();
    });

    scope.put('/v1/families/:fid/devices/:did/permissions', async (req) => {
      const { fid, did } = parseOrThrow(familyDeviceParams, req.params);
      const permissions = parseOrThrow(permissionsBody, req.body);
      return families.setPermissions(caller(req), { familyId: fid, deviceId: did, permissions });
    });

    scope.get('/v1/families/:fid/devices/:did/consents', async (req) => {
      const { fid, did } = parseOrThrow(familyDeviceParams, req.params);
      return { consents: await families.consents(caller(req), { familyId: fid, deviceId: did }) };
    });

    scope.get('/v1/families/:fid/devices/:did/health', async (req) => {
      const { fid, did } = parseOrThrow(familyDeviceParams, req.params);
      return health.history(caller(req), { familyId: fid, deviceId: did, ...parseOrThrow(healthQuery, req.query ?? {}) });
    });
  });
}
