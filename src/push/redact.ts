import type { PushNotification } from './types.js';

/** The payload as stored and sent: without text and coordinates unless content is allowed. */
export function redactForPush(n: PushNotification, includeContent: boolean): PushNotification {
  if (includeContent) return { ...n };
  const { text: _text, lat: _lat, lng: _lng, ...rest } = n;
  return rest;
}
