// What a push says and who sends it. Providers see only what the outbox hands them; with
// HUB_PUSH_INCLUDE_CONTENT off that is ids and kinds, never message text or coordinates.

export interface PushNotification {
  kind: 'message' | 'alert' | 'ring' | 'incident' | 'geofence' | 'missed_call' | 'command_result';
  familyId: string;
  ts: number;
  conversationId?: string;
  messageId?: string;
  seq?: number;
  alertId?: string;
  alertType?: string;
  deviceId?: string;
  callId?: string;
  incidentId?: string;
  /** An SOS escalated to the family's emergency contacts. */
  emergency?: boolean;
  /** An SOS re-send: how many times it has been sent, this one included. */
  notifyCount?: number;
  geofenceId?: string;
  transition?: 'enter' | 'exit';
  /** A crossing reported late (from fixes the watch buffered while out of coverage). */
  late?: boolean;
  commandId?: string;
  commandType?: string;
  commandStatus?: string;
  /** An operator's incident notice: not personal data, so it is always sent. */
  notice?: string;
  text?: string;
  lat?: number;
  lng?: number;
}

/** Identifies one delivery attempt of one outbox row; the receiver dedupes by `id`. */
export interface PushDelivery {
  /** The outbox row id: the same on every retry of the row. */
  id: string;
  /** 1 for the first attempt. */
  attempt: number;
}

/** Thrown by a provider when retrying cannot help: the outbox gives the row up at once. */
export class PushGiveUp extends Error {
  override name = 'PushGiveUp';
}

export interface PushProvider {
  readonly name: string;
  /**
   * Sends one push to one user. Throws to ask for a retry. `delivery` is always passed by the
   * outbox; providers that do not need it may ignore it.
   */
  send(userId: string, n: PushNotification, delivery?: PushDelivery): Promise<void>;
}
