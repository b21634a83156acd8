import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './types.js';

export function opsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  // The node id tells an operator (and the cluster tests) which node behind the balancer answered.
  app.get('/healthz', async () => ({ status: 'ok', node: deps.config.nodeId ?? null }));

  app.get('/readyz', async (_req, reply) => {
    if (!deps.isAccepting()) return reply.status(503).send({ status: 'draining' });
    try {
      await deps.store.ping();
    } catch {
      return reply.status(503).send({ status: 'store unreachable' });
    }
    try {
      await deps.clusterPing?.();
    } catch {
      return reply.status(503).send({ status: 'redis unreachable' });
    }
    return { status: 'ready' };
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
