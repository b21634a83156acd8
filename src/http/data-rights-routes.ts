// The family's data rights beyond exports (issue 17): deleting a message, deleting a watch's
// history (wholly or a time range), and the owner's reading of the audit log.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { familyDeviceParams, id, parseOrThrow } from '../contract/schemas.js';
import { type HttpContext, authenticated, caller } from './context.js';

const messageParams = z.strictObject({ fid: id, mid: id });

export function dataRightsRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { chat } = ctx.services;
  authenticated(app, ctx, (scope) => {
    scope.delete('/v1/families/:fid/messages/:mid', async (req, reply) => {
      const { fid, mid } = parseOrThrow(messageParams, req.params);
      await chat.deleteMessage(caller(req), { familyId: fid, messageId: mid });
      return reply.status(204).send();
    });
  });
}
