// Sends an outbox row to one app installation through the provider it registered with: FCM (HTTP
// v1), APNs (HTTP/2, token key) or the operator's webhook. The registration is read at send time:
// an installation that signed out (or whose user changed) since the row was queued gets nothing,
// and a token the service calls dead drops the registration.
import type { Logger } from 'pino';
import type { PushRegistrationRepository } from '../store/notifications.js';
import { buildDevicePushMessage, type DevicePushKind, type DevicePushMessage, type DevicePushSender } from './device-push.js';
import type { InstallationSender } from './outbox.js';
import { PushGiveUp, type PushNotification } from './types.js';
import type { WebhookPushProvider } from './webhook-provider.js';

export type RegistrationProvider = 'fcm' | 'apns' | 'webhook';

export interface InstallationSenders {
  fcm?: DevicePushSender | undefined;
  apns?: DevicePushSender | undefined;
  webhook?: WebhookPushProvider | undefined;
}

/** The device push kind of a notification. */
export function devicePushKind(n: PushNotification): DevicePushKind {
  switch (n.kind) {
    case 'alert':
      return n.alertType === 'sos' ? 'sos' : 'alert';
    case 'ring':
      return 'call';
    default:
      return n.kind;
  }
}

const ID_FIELDS = [
  'familyId',
  'conversationId',
  'messageId',
  'alertId',
  'alertType',
  'deviceId',
  'callId',
  'incidentId',
  'geofenceId',
  'transition',
  'commandId',
  'commandType',
  'commandStatus',
] as const;

/**
 * The message for the phone. The payload was redacted when it was queued: text and coordinates
 * are only there when HUB_PUSH_INCLUDE_CONTENT allowed them, so their presence is the permission.
 */
export function deviceMessageFor(n: PushNotification): DevicePushMessage {
  const kind = devicePushKind(n);
  const data: Record<string, string> = {};
  for (const f of ID_FIELDS) {
    const v = n[f];
    if (typeof v === 'string' && v.length > 0) data[f] = v.slice(0, 128);
  }
  if (n.seq !== undefined) data.seq = String(n.seq);
  if (n.notifyCount !== undefined) data.notifyCount = String(n.notifyCount);
  if (n.late) data.late = 'true';
  if (n.emergency) data.emergency = 'true';
  data.ts = String(n.ts);
  if (n.lat !== undefined && n.lng !== undefined) {
    data.lat = String(n.lat);
    data.lng = String(n.lng);
  }
  let content: { title: string; body: string } | undefined;
  if (n.kind === 'message' && n.text) content = { title: 'New message', body: n.text };
  // An operator's notice is not personal data: always shown as written.
  if (n.kind === 'incident' && n.notice) content = { title: 'Service notice', body: n.notice };
  return buildDevicePushMessage({
    kind,
    data,
    ...(content ? { content } : {}),
    // Re-sends of one SOS replace each other on the phone (and still alert); other kinds keep theirs.
    ...(kind === 'sos' && n.alertId ? { collapseKey: `sos-${n.alertId}`.slice(0, 64) } : {}),
  });
}

export class InstallationPush implements InstallationSender {
  constructor(
    private readonly registrations: PushRegistrationRepository,
    private readonly senders: InstallationSenders,
    private readonly logger: Logger,
  ) {}

  /** Whether registrations with this provider can be served by this hub. */
  supports(provider: RegistrationProvider): boolean {
    return this.senders[provider] !== undefined;
  }

  async send(installationId: string, userId: string, n: PushNotification, delivery: { id: string; attempt: number }) {
    const reg = await this.registrations.find(installationId);
    // Signed out, signed in as someone else, or gone since the row was queued: nothing is sent.
    if (!reg || reg.user_id !== userId) return false;
    const provider = reg.provider as RegistrationProvider;
    if (provider === 'webhook') {
      const webhook = this.senders.webhook;
      if (!webhook) throw new PushGiveUp('webhook push is not configured');
      await webhook.send(userId, n, delivery, { installationId, token: reg.token });
      return true;
    }
    const sender = this.senders[provider];
    if (!sender) throw new PushGiveUp(`${provider} push is not configured`);
    const r = await sender.send(reg.token, deviceMessageFor(n), delivery);
    switch (r.outcome) {
      case 'delivered':
        return true;
      case 'retry':
        throw new Error(r.reason);
      case 'invalid_token':
        await this.registrations.deleteIfToken(installationId, reg.token);
        this.logger.info({ installationId, provider, reason: r.reason }, 'push registration dropped: dead token');
        return false;
      case 'rejected':
        this.logger.warn({ installationId, provider, reason: r.reason }, 'push refused by the provider (check its setup)');
        throw new PushGiveUp(r.reason);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.senders.fcm?.close(), this.senders.apns?.close()]);
  }
}
