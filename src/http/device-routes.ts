// Watch provisioning: the maker's service (holding the provisioning key) registers a watch.
import type { FastifyInstance } from 'fastify';
import { type HttpContext, ipBudget } from './context.js';

export function deviceRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { provisioning, config } = ctx.services;
  void app.register(async (scope) => {
    scope.addHook('onRequest', ipBudget(ctx, 'http-provision', config.httpAuthRatePerMin));
    scope.post('/v1/devices/register', async (req, reply) => {
      return reply.status(201).send(await provisioning.register(req.headers['x-provisioning-key'], req.body));
    });
  });
}
