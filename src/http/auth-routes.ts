// Accounts over HTTP: register, login, refresh, logout, password reset (each under a per-address
// budget counted before the body is read), the privacy-policy version, and the caller's own
// account (nickname, password, policy acceptance).
import type { FastifyInstance } from 'fastify';
import {
  loginBody,
  meUpdateBody,
  parseOrThrow,
  passwordChangeBody,
  passwordResetBody,
  passwordResetConfirmBody,
  policyAcceptBody,
  refreshBody,
  registerBody,
} from '../contract/schemas.js';
import { type HttpContext, authenticated, caller, ipBudget } from './context.js';
import { clearRefreshCookie, noSessionCookie, presentedRefreshToken, sendTokens, wantsCookieSession } from './web-session.js';

export function authRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { accounts, passwordReset, config } = ctx.services;
  // Browser sessions (`X-Hub-Session: cookie`) keep the refresh token in an HttpOnly cookie: web-session.ts.
  const cookieAge = config.refreshTokenTtlS;

  void app.register(async (scope) => {
    scope.addHook('onRequest', ipBudget(ctx, 'http-auth', config.httpAuthRatePerMin));

    scope.post('/v1/auth/register', async (req, reply) => {
      const { email, password, nickname, acceptedPolicyVersion } = parseOrThrow(registerBody, req.body);
      const created = await accounts.register(email, password, nickname, acceptedPolicyVersion);
      return reply.status(201).send(sendTokens(req, reply, created, cookieAge));
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

    // The same answer whether or not an account has the address (the code is mailed after it).
    scope.post('/v1/auth/password-reset', async (req, reply) => {
      const { email } = parseOrThrow(passwordResetBody, req.body);
      const { expiresInS } = await passwordReset.request(email, req.ip);
      return reply.status(202).send({ accepted: true, expiresInS });
    });

    scope.post('/v1/auth/password-reset/confirm', async (req, reply) => {
      const { email, code, newPassword } = parseOrThrow(passwordResetConfirmBody, req.body);
      await passwordReset.confirm(email, code, newPassword, req.ip);
      return reply.status(204).send();
    });

    scope.post('/v1/auth/logout', async (req, reply) => {
      const token = presentedRefreshToken(req, () => parseOrThrow(refreshBody, req.body).refreshToken);
      if (token !== undefined) await accounts.logout(token);
      if (wantsCookieSession(req)) clearRefreshCookie(req, reply);
      return reply.status(204).send();
    });
  });

  app.get('/v1/policy', async () => accounts.policy());

  authenticated(app, ctx, (scope) => {
    scope.get('/v1/me', async (req) => accounts.me(caller(req)));

    scope.patch('/v1/me', async (req) => accounts.update(caller(req), parseOrThrow(meUpdateBody, req.body)));

    scope.post('/v1/me/password', async (req, reply) => {
      const body = parseOrThrow(passwordChangeBody, req.body);
      await accounts.changePassword(caller(req), body, req.auth?.sessionId);
      return reply.status(204).send();
    });

    scope.post('/v1/me/policy', async (req) => accounts.acceptPolicy(caller(req), parseOrThrow(policyAcceptBody, req.body)));
  });
}
