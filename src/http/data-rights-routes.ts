// The family's data rights beyond exports (issue 17): deleting a message, deleting a watch's
// history (wholly or a time range), and the owner's reading of the audit log.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { epochMs, familyDeviceParams, id, parseOrThrow } from '../contract/schemas.js';
import { type HttpContext, authenticated, caller } from './context.js';

const messageParams = z.strictObject({ fid: id, mid: id });
const familyParams = z.strictObject({ fid: id });
const auditQuery = z.strictObject({
  cursor: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});
/** A time range (both ends included); either end may be left out. In the body, or in the query. */
const rangeBody = z.strictObject({ from: epochMs.optional(), to: epochMs.optional() });
const rangeQuery = z.strictObject({
  from: z.coerce.number().pipe(epochMs).optional(),
  to: z.coerce.number().pipe(epochMs).optional(),
});

export function dataRightsRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { chat, location, privacy } = ctx.services;
  authenticated(app, ctx, (scope) => {
    scope.delete('/v1/families/:fid/messages/:mid', async (req, reply) => {
      const { fid, mid } = parseOrThrow(messageParams, req.params);
      await chat.deleteMessage(caller(req), { familyId: fid, messageId: mid });
      return reply.status(204).send();
    });

    scope.delete('/v1/families/:fid/devices/:did/history', async (req) => {
      const { fid, did } = parseOrThrow(familyDeviceParams, req.params);
      const body = req.body === undefined || req.body === null ? {} : req.body;
      const range = { ...parseOrThrow(rangeQuery, req.query ?? {}), ...parseOrThrow(rangeBody, body) };
      return location.service.deleteHistory(caller(req), { familyId: fid, deviceId: did, ...range });
    });

    scope.get('/v1/families/:fid/audit', async (req) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      return privacy.familyAudit(caller(req), { familyId: fid, ...parseOrThrow(auditQuery, req.query ?? {}) });
    });
  });
}
