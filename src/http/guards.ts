// Small request guards shared by the routes: bearer authentication and per-IP throttling.
import type { FastifyRequest } from 'fastify';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../cluster/limits.js';
import type { AuthContext } from '../auth/authenticator.js';
import { HubError, forbidden, unauthorized } from '../contract/errors.js';
import type { HttpDeps } from './types.js';

export function bearer(req: FastifyRequest): string {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  if (!m?.[1]) throw unauthorized('missing bearer token');
  return m[1];
}

export async function authUser(deps: HttpDeps, req: FastifyRequest): Promise<AuthContext & { userId: string }> {
  const ctx = await deps.authenticator.authenticate(bearer(req));
  if (ctx.principal.kind !== 'user') throw forbidden('this needs a user token');
  return { ...ctx, userId: ctx.principal.id };
}

/** A per-IP limiter (shared by the nodes of a cluster); throws RATE_LIMITED once the IP is over budget. */
export function ipThrottle(limiters: LimiterFactory, keyPrefix: string, pointsPerMinute: number) {
  const limiter = limiters({ keyPrefix, points: pointsPerMinute, durationS: 60 });
  return async (req: FastifyRequest): Promise<void> => {
    try {
      await limiter.consume(req.ip);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        throw new HubError('RATE_LIMITED', `too many requests; retry in ${Math.ceil(err.msBeforeNext / 1000)} s`);
      }
      throw err;
    }
  };
}
