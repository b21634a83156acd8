import type { FastifyInstance } from 'fastify';
import { userView } from '../auth/accounts.js';
import { unauthorized } from '../contract/errors.js';
import { loginBody, parseOrThrow, refreshBody, registerBody } from '../contract/schemas.js';
import { authUser, ipThrottle } from './guards.js';
import type { HttpDeps } from './types.js';

export function authRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const throttle = ipThrottle(deps.limiter, 'http-auth', deps.config.httpAuthRatePerMin);

  app.post('/v1/auth/register', async (req, reply) => {
    await throttle(req);
    const { email, password, nickname } = parseOrThrow(registerBody, req.body);
    return reply.status(201).send(await deps.accounts.register(email, password, nickname));
  });

  app.post('/v1/auth/login', async (req) => {
    await throttle(req);
    const { email, password } = parseOrThrow(loginBody, req.body);
    return deps.accounts.login(email, password, req.ip);
  });

  app.post('/v1/auth/refresh', async (req) => {
    await throttle(req);
    return deps.accounts.refresh(parseOrThrow(refreshBody, req.body).refreshToken);
  });

  app.post('/v1/auth/logout', async (req, reply) => {
    await throttle(req);
    await deps.accounts.logout(parseOrThrow(refreshBody, req.body).refreshToken);
    return reply.status(204).send();
  });

  app.get('/v1/me', async (req) => {
    const { userId } = await authUser(deps, req);
    const user = await deps.store.users.findById(userId);
    if (!user) throw unauthorized('account no longer exists');
    return { user: userView(user) };
  });
}
