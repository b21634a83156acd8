// Error codes of the wire contract (PROTOCOL.md "Conventions") and their HTTP statuses.
export const ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'TOO_LARGE',
  'RATE_LIMITED',
  'CONSENT_REQUIRED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  CONSENT_REQUIRED: 403,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** An error meant for the client: its code and message go on the wire as they are. */
export class HubError extends Error {
  override name = 'HubError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

export const badRequest = (message: string) => new HubError('BAD_REQUEST', message);
export const unauthorized = (message = 'invalid or expired credentials') => new HubError('UNAUTHORIZED', message);
export const forbidden = (message = 'not allowed') => new HubError('FORBIDDEN', message);
export const notFound = (message = 'not found') => new HubError('NOT_FOUND', message);
export const conflict = (message: string) => new HubError('CONFLICT', message);
