// redactForPush, the log provider and the provider choice.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createPushProvider } from '../../src/push/index.js';
import { LogPushProvider } from '../../src/push/log-provider.js';
import { redactForPush } from '../../src/push/redact.js';
import type { PushNotification } from '../../src/push/types.js';
import { WebhookPushProvider } from '../../src/push/webhook-provider.js';

const n: PushNotification = {
  kind: 'alert',
  familyId: 'f-1',
  ts: 1,
  alertId: 'a-1',
  alertType: 'sos',
  deviceId: 'd-1',
  text: 'help me',
  lat: 52.51,
  lng: 13.41,
};

describe('push providers', () => {
  it('redactForPush drops text and coordinates unless content is included', () => {
    const r = redactForPush(n, false);
    expect(r).toEqual({ kind: 'alert', familyId: 'f-1', ts: 1, alertId: 'a-1', alertType: 'sos', deviceId: 'd-1' });
    expect('text' in r || 'lat' in r || 'lng' in r).toBe(false);
    expect(redactForPush(n, true)).toEqual(n);
  });

  it('the log provider logs ids and kind, never text or coordinates', async () => {
    const lines: string[] = [];
    // No redaction configured here: the provider itself must leave content out.
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    await new LogPushProvider(logger).send('user-1', n, { id: 'p-1', attempt: 1 });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { push: Record<string, unknown> };
    expect(line.push).toMatchObject({ userId: 'user-1', kind: 'alert', alertId: 'a-1', deviceId: 'd-1', deliveryId: 'p-1' });
    expect(lines[0]).not.toContain('help me');
    expect(lines[0]).not.toContain('52.51');
    expect(lines[0]).not.toContain('13.41');
  });

  it('createPushProvider picks the webhook only when a URL is configured', () => {
    const logger = pino({ level: 'silent' });
    expect(createPushProvider(loadConfig({}), logger)).toBeInstanceOf(LogPushProvider);
    const hooked = createPushProvider(
      loadConfig({ HUB_PUSH_WEBHOOK_URL: 'https://push.example/hook', HUB_PUSH_WEBHOOK_SECRET: 'sixteen-chars-or-more' }),
      logger,
    );
    expect(hooked).toBeInstanceOf(WebhookPushProvider);
    expect(hooked.name).toBe('webhook');
  });
});
