// Every HTTP error leaves as `{ error: { code, message } }` with the matching status.
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type ErrorBody, type ErrorCode, HTTP_STATUS, HubError } from '../contract/errors.js';

function fromFastify(err: FastifyError): ErrorBody | undefined {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { code: 'TOO_LARGE', message: 'request body too large' };
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code: ErrorCode = status === 429 ? 'RATE_LIMITED' : status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
    return { code, message: err.message };
  }
  return undefined;
}

export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const body: ErrorBody =
      err instanceof HubError ? err.toBody() : (fromFastify(err) ?? { code: 'INTERNAL', message: 'internal error' });
    if (body.code === 'INTERNAL') logger.error({ err }, 'request failed');
    const status = body.code === 'BAD_REQUEST' && err.statusCode === 415 ? 415 : HTTP_STATUS[body.code];
    void reply.status(status).send({ error: body });
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
}
