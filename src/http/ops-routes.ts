// Health, readiness and metrics: for operators and balancers, no authentication (keep them off the
// public entry point, as deploy/nginx.conf does for /metrics).
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';

export function opsRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { store, backplane, metrics } = ctx.services;
  // The node id tells an operator (and the cluster tests) which node behind the balancer answered.
  app.get('/healthz', async () => ({ status: 'ok', node: backplane.nodeId }));

  app.get('/readyz', async (_req, reply) => {
    if (!ctx.isAccepting()) return reply.status(503).send({ status: 'draining' });
    try {
      await store.ping();
    } catch {
      return reply.status(503).send({ status: 'store unreachable' });
    }
    try {
      await backplane.ping();
    } catch {
      return reply.status(503).send({ status: 'redis unreachable' });
    }
    return { status: 'ready' };
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
