// Push notifications: the provider chosen by configuration, and the durable outbox.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { LogPushProvider } from './log-provider.js';
import type { PushProvider } from './types.js';
import { WebhookPushProvider } from './webhook-provider.js';

export { LogPushProvider } from './log-provider.js';
export { PushOutbox, type PushOutboxOptions } from './outbox.js';
export { redactForPush } from './redact.js';
export type { PushDelivery, PushNotification, PushProvider } from './types.js';
export { signWebhookBody, WebhookPushProvider, type WebhookBody, type WebhookPushProviderOptions } from './webhook-provider.js';

/** The webhook provider when HUB_PUSH_WEBHOOK_URL is set, else the log provider. */
export function createPushProvider(config: Config, logger: Logger): PushProvider {
  const { webhookUrl, webhookSecret } = config.push;
  if (webhookUrl) {
    // loadConfig already refuses a URL without a secret; this guards hand-built configs.
    if (!webhookSecret) throw new Error('HUB_PUSH_WEBHOOK_SECRET must be set with HUB_PUSH_WEBHOOK_URL');
    return new WebhookPushProvider(webhookUrl, webhookSecret);
  }
  return new LogPushProvider(logger);
}
