// What every route module gets: the services, and the request's authenticated caller. Routes that
// need a caller are registered inside `authenticated`, whose one hook turns the bearer token into
// the caller before anything else of the request is read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { AuthContext } from '../auth/authenticator.js';
import { E } from '../contract/errors.js';
import type { Principal } from '../contract/models.js';
import type { Services } from '../services.js';

export interface HttpContext {
  services: Services;
  /** False once the node is draining (for /readyz). */
  isAccepting: () => boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook of `authenticated` routes. */
    auth?: AuthContext;
  }
}

export function bearer(req: FastifyRequest): string {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  if (!m?.[1]) throw E.tokenMissing('missing bearer token');
  return m[1];
}

/** The caller of an `authenticated` route. */
export function caller(req: FastifyRequest): Principal {
  if (!req.auth) throw new Error('route registered outside `authenticated`');
  return req.auth.principal;
}

/** Registers routes that need a caller, behind one authentication hook. */
export function authenticated(app: FastifyInstance, ctx: HttpContext, routes: (scope: FastifyInstance) => void): void {
  void app.register(async (scope) => {
    scope.addHook('onRequest', async (req) => {
      req.auth = await ctx.services.authenticator.authenticate(bearer(req));
    });
    routes(scope);
  });
}

/**
 * A per-address budget (shared by the nodes of a cluster) checked before the body is read, so a
 * malformed body costs from the budget like any other request.
 */
export function ipBudget(ctx: HttpContext, keyPrefix: string, pointsPerMinute: number) {
  const limiter = ctx.services.backplane.limiter({ keyPrefix, points: pointsPerMinute, durationS: 60 });
  return async (req: FastifyRequest): Promise<void> => {
    try {
      await limiter.consume(req.ip);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw E.rateLimited('requests', err.msBeforeNext);
      throw err;
    }
  };
}
