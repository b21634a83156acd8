// Every HTTP error leaves as `{ error: { code, message, reason } }` with the matching status.
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { E, type ErrorBody, HTTP_STATUS, HubError } from '../contract/errors.js';

/** Fastify's own 4xx errors (body parsing, content type) in the contract's terms. */
function fromFastify(err: FastifyError): ErrorBody | undefined {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { ...E.payloadTooLarge(0).toBody(), message: 'request body too large' };
  const status = err.statusCode ?? 500;
  if (status < 400 || status >= 500) return undefined;
  if (status === 429) return { ...E.rateLimited('requests', 0).toBody(), message: err.message };
  if (status === 404) return { ...E.noSuchRoute().toBody(), message: err.message };
  return E.invalid(err.message).toBody();
}

export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const body: ErrorBody = err instanceof HubError ? err.toBody() : (fromFastify(err) ?? E.internal().toBody());
    if (body.code === 'INTERNAL') (req.log ?? logger).error({ err }, 'request failed');
    const status = body.code === 'BAD_REQUEST' && err.statusCode === 415 ? 415 : HTTP_STATUS[body.code];
    void reply.status(status).send({ error: body });
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.status(404).send({ error: E.noSuchRoute().toBody() });
  });
}
