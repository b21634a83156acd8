// Delivers pushes to an operator's endpoint as signed JSON POSTs. The receiver verifies
// `x-hub-signature` (HMAC-SHA256 of the raw body with the shared secret) and dedupes retries
// by `x-hub-delivery` (the outbox row id, stable across attempts).
import { createHmac, randomUUID } from 'node:crypto';
import type { PushDelivery, PushNotification, PushProvider } from './types.js';

export const WEBHOOK_TIMEOUT_MS = 5000;

export interface WebhookPushProviderOptions {
  /** Per-request timeout; default 5 s. */
  timeoutMs?: number;
  /** Time for `sentAt`; default Date.now. */
  clock?: () => number;
}

export interface WebhookBody {
  id: string;
  userId: string;
  notification: PushNotification;
  sentAt: number;
  /** Set when the push is for one app installation registered with provider `webhook`. */
  installationId?: string;
  /** That installation's registration token, for the operator's relay. */
  token?: string;
}

/** `sha256=<hex>` of the exact body bytes. */
export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export class WebhookPushProvider implements PushProvider {
  readonly name = 'webhook';
  private readonly timeoutMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly url: string,
    private readonly secret: string,
    opts: WebhookPushProviderOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
    this.clock = opts.clock ?? Date.now;
  }

  async send(
    userId: string,
    n: PushNotification,
    delivery?: PushDelivery,
    installation?: { installationId: string; token: string },
  ): Promise<void> {
    const id = delivery?.id ?? randomUUID();
    const payload: WebhookBody = { id, userId, notification: n, sentAt: this.clock(), ...installation };
    const body = JSON.stringify(payload);
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature': signWebhookBody(body, this.secret),
          'x-hub-delivery': id,
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'manual',
      });
    } catch (err) {
      const e = err as Error;
      const reason = e.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : e.message;
      throw new Error(`push webhook failed: ${reason}`, { cause: err });
    }
    // Drain the body so the connection can be reused; its content does not matter.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) {
      throw new Error(`push webhook answered ${res.status}`);
    }
  }
}
