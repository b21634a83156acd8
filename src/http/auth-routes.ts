// Accounts over HTTP: register, login, refresh, logout (each under a per-address budget counted
// before the body is read), and the caller's own account.
import type { FastifyInstance } from 'fastify';
import { loginBody, parseOrThrow, refreshBody, registerBody } from '../contract/schemas.js';
import { type HttpContext, authenticated, caller, ipBudget } from './context.js';
import { clearRefreshCookie, noSessionCookie, presentedRefreshToken, sendTokens, wantsCookieSession } from './web-session.js';

export function authRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { accounts, config } = ctx.services;
  // Browser sessions (`X-Hub-Session: cookie`) keep the refresh token in an HttpOnly cookie: web-session.ts.
  const cookieAge = config.refreshTokenTtlS;

  void app.register(async (scope) => {
    scope.addHook('onRequest', ipBudget(ctx, 'http-auth', config.httpAuthRatePerMin));

    scope.post('/v1/auth/register', async (req, reply) => {
      const { email, password, nickname } = parseOrThrow(registerBody, req.body);
      return reply.status(201).send(sendTokens(req, reply, await accounts.register(email, password, nickname), cookieAge));
    });

    scope.post('/v1/auth/login', async (req, reply) => {
      const { email, password } = parseOrThrow(loginBody, req.body);
      return sendTokens(req, reply, await accounts.login(email, password, req.ip), cookieAge);
    });

    scope.post('/v1/auth/refresh', async (req, reply) => {
      const token = presentedRefreshToken(req, () => parseOrThrow(refreshBody, req.body).refreshToken);
      try {
        if (token === undefined) throw noSessionCookie();
        return sendTokens(req, reply, await accounts.refresh(token, { browser: wantsCookieSession(req) }), cookieAge);
      } catch (err) {
        // A dead cookie is dropped, so the browser stops presenting it.
        if (wantsCookieSession(req)) clearRefreshCookie(req, reply);
        throw err;
      }
    });

    scope.post('/v1/auth/logout', async (req, reply) => {
      const token = presentedRefreshToken(req, () => parseOrThrow(refreshBody, req.body).refreshToken);
      if (token !== undefined) await accounts.logout(token);
      if (wantsCookieSession(req)) clearRefreshCookie(req, reply);
      return reply.status(204).send();
    });
  });

  authenticated(app, ctx, (scope) => {
    scope.get('/v1/me', async (req) => accounts.me(caller(req)));
  });
}
