// The default provider when no webhook is configured: one log line per push, ids only.
import type { Logger } from 'pino';
import type { PushDelivery, PushNotification, PushProvider } from './types.js';

export class LogPushProvider implements PushProvider {
  readonly name = 'log';

  constructor(private readonly logger: Logger) {}

  async send(userId: string, n: PushNotification, delivery?: PushDelivery): Promise<void> {
    // Picked field by field so text and coordinates can never slip into the log.
    this.logger.info(
      {
        push: {
          deliveryId: delivery?.id,
          userId,
          kind: n.kind,
          familyId: n.familyId,
          conversationId: n.conversationId,
          messageId: n.messageId,
          seq: n.seq,
          alertId: n.alertId,
          alertType: n.alertType,
          deviceId: n.deviceId,
          callId: n.callId,
          notifyCount: n.notifyCount,
          emergency: n.emergency,
          geofenceId: n.geofenceId,
          transition: n.transition,
          late: n.late,
          commandId: n.commandId,
          commandStatus: n.commandStatus,
        },
      },
      'push',
    );
  }
}
