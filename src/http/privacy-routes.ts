// The family's data rights over HTTP: exports (streamed JSON), account cancellation for good, and
// the operators' incident notices.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { familyDeviceParams, id, parseOrThrow, text } from '../contract/schemas.js';
import { type HttpContext, authenticated, caller } from './context.js';

const deleteBody = z.strictObject({
  // Accounts with a password re-confirm it; outside-login accounts confirm with this phrase.
  password: z.string().min(1).max(256).optional(),
  confirm: z.literal('delete my account').optional(),
});

const incidentBody = z.strictObject({
  message: text().trim().min(1).max(2000),
  familyIds: z.array(id).min(1).max(10_000).optional(),
});

function streamJson(reply: FastifyReply, chunks: AsyncGenerator<string>, filename: string) {
  return reply
    .type('application/json; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(Readable.from(chunks));
}

export function privacyRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { privacy } = ctx.services;
  authenticated(app, ctx, (scope) => {
    scope.get('/v1/me/export', async (req, reply) => streamJson(reply, await privacy.exportMe(caller(req)), 'my-data.json'));

    scope.get('/v1/families/:fid/devices/:did/export', async (req, reply) => {
      const { fid, did } = parseOrThrow(familyDeviceParams, req.params);
      return streamJson(reply, await privacy.exportWatch(caller(req), { familyId: fid, deviceId: did }), `watch-${did}.json`);
    });

    scope.delete('/v1/me', async (req, reply) => {
      await privacy.deleteAccount(caller(req), parseOrThrow(deleteBody, req.body ?? {}));
      return reply.status(204).send();
    });

    scope.post('/v1/ops/incidents', async (req, reply) => {
      const body = parseOrThrow(incidentBody, req.body);
      return reply.status(202).send(await privacy.incident(caller(req), req.auth?.scopes ?? [], body));
    });
  });
}
