// Errors from the hub, HTTP or socket ack, in one shape: the contract's code and message.
import type { ErrorCode } from '../../src/contract/errors.js';

export class HubRequestError extends Error {
  override name = 'HubRequestError';
  constructor(
    readonly code: ErrorCode | 'NETWORK',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A sentence for people, from anything a request can throw. */
export function describeError(err: unknown): string {
  if (err instanceof HubRequestError) {
    if (err.code === 'NETWORK') return 'The hub cannot be reached. Check the connection and try again.';
    if (err.code === 'RATE_LIMITED') return `Too many attempts: ${err.message}`;
    return err.message.charAt(0).toUpperCase() + err.message.slice(1);
  }
  if (err instanceof DOMException && err.name === 'NotAllowedError') return 'Permission was refused by the browser.';
  return err instanceof Error ? err.message : String(err);
}
