// Push notifications: the provider chosen by configuration, and the durable outbox.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ApnsSender } from './apns-sender.js';
import { FcmSender } from './fcm-sender.js';
import { parseServiceAccount } from './google-oauth.js';
import type { InstallationSenders } from './installations.js';
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

function readSecretFile(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
}

/**
 * The senders for app installations' own registrations: FCM and APNs when their credentials are
 * configured, the webhook when HUB_PUSH_WEBHOOK_URL is. A provider left out refuses registrations.
 */
export function createInstallationSenders(config: Config): InstallationSenders {
  const { fcm, apns, webhookUrl, webhookSecret } = config.push;
  const senders: InstallationSenders = {};
  if (fcm) {
    const serviceAccount = parseServiceAccount(readSecretFile(fcm.credentialsFile, 'HUB_PUSH_FCM_CREDENTIALS_FILE'));
    senders.fcm = new FcmSender({
      serviceAccount,
      ...(fcm.projectId ? { projectId: fcm.projectId } : {}),
      ...(fcm.baseUrl ? { baseUrl: fcm.baseUrl } : {}),
    });
  }
  if (apns) {
    senders.apns = new ApnsSender({
      key: { keyId: apns.keyId, teamId: apns.teamId, privateKey: readSecretFile(apns.keyFile, 'HUB_PUSH_APNS_KEY_FILE') },
      topic: apns.topic,
      sandbox: apns.sandbox,
      ...(apns.baseUrl ? { baseUrl: apns.baseUrl } : {}),
    });
  }
  if (webhookUrl && webhookSecret) senders.webhook = new WebhookPushProvider(webhookUrl, webhookSecret);
  return senders;
}
