// The structured logger. Redaction is a safety net: the code logs no tokens, passwords or
// coordinates in the first place.
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'deviceToken',
  'bindingCode',
  'lat',
  'lng',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.deviceToken',
  '*.bindingCode',
  '*.lat',
  '*.lng',
  'req.headers.authorization',
  'req.headers["x-provisioning-key"]',
];

export function createLogger(level: string, nodeId: string | undefined, destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: nodeId ? { node: nodeId } : {},
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(opts, destination) : pino(opts);
}
