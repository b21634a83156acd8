import type { FastifyInstance } from 'fastify';
import { userView } from '../auth/accounts.js';
import { unauthorized } from '../contract/errors.js';
import { loginBody, parseOrThrow, refreshBody, registerBody } from '../contract/schemas.js';
import { authUser, ipThrottle } from './guards.js';
import type { HttpDeps } from './types.js';
import { clearRefreshCookie, noSessionCookie, presentedRefreshToken, sendTokens, wantsCookieSession } from './web-session.js';

export function authRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const throttle = ipThrottle(deps.limiter, 'http-auth', deps.config.httpAuthRatePerMin);
  // Browser sessions (`X-Hub-Session: cookie`) keep the refresh token in an HttpOnly cookie: web-session.ts.
  const cookieAge = deps.config.refreshTokenTtlS;

  app.post('/v1/auth/register', async (req, reply) => {
    await throttle(req);
    const { email, password, nickname } = parseOrThrow(registerBody, req.body);
    return reply.status(201).send(sendTokens(req, reply, await deps.accounts.register(email, password, nickname), cookieAge));
  });

  app.post('/v1/auth/login', async (req, reply) => {
    await throttle(req);
    const { email, password } = parseOrThrow(loginBody, req.body);
    return sendTokens(req, reply, await deps.accounts.login(email, password, req.ip), cookieAge);
  });

  app.post('/v1/auth/refresh', async (req, reply) => {
    await throttle(req);
    const token = presentedRefreshToken(req, () => parseOrThrow(refreshBody, req.body).refreshToken);
    try {
      if (token === undefined) throw noSessionCookie();
      return sendTokens(req, reply, await deps.accounts.refresh(token), cookieAge);
    } catch (err) {
      // A dead cookie is dropped, so the browser stops presenting it.
      if (wantsCookieSession(req)) clearRefreshCookie(req, reply);
      throw err;
    }
  });

  app.post('/v1/auth/logout', async (req, reply) => {
    await throttle(req);
    const token = presentedRefreshToken(req, () => parseOrThrow(refreshBody, req.body).refreshToken);
    if (token !== undefined) await deps.accounts.logout(token);
    if (wantsCookieSession(req)) clearRefreshCookie(req, reply);
    return reply.status(204).send();
  });

  app.get('/v1/me', async (req) => {
    const { userId } = await authUser(deps, req);
    const user = await deps.store.users.findById(userId);
    if (!user) throw unauthorized('account no longer exists');
    return { user: userView(user) };
  });
}
