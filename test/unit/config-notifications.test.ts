// The notification settings of the hub's configuration: escalation schedule, APNs all-or-nothing,
// FCM options needing the key file.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('notification configuration', () => {
  it('reads the escalation schedule, lateness and installation bound', () => {
    const c = loadConfig({ HUB_SOS_ESCALATION_S: '0, 30,90', HUB_SOS_EMERGENCY_AFTER_SENDS: '1', HUB_GEOFENCE_LATE_S: '300' });
    expect(c.location.sosEscalationS).toEqual([0, 30, 90]);
    expect(c.location.sosEmergencyAfterSends).toBe(1);
    expect(c.location.geofenceLateMs).toBe(300_000);
    expect(loadConfig({}).location.sosEscalationS).toEqual([0, 60, 180, 300]);
    expect(loadConfig({}).push.maxInstallationsPerUser).toBe(10);
    expect(loadConfig({}).push.fcm).toBeUndefined();
    expect(loadConfig({}).push.apns).toBeUndefined();
  });

  it('refuses a schedule not starting at 0 or not increasing, half an APNs setup, FCM options without a key', () => {
    for (const env of [
      { HUB_SOS_ESCALATION_S: '60,120' },
      { HUB_SOS_ESCALATION_S: '0,60,60' },
      { HUB_SOS_ESCALATION_S: '0,abc' },
      { HUB_PUSH_APNS_KEY_FILE: '/k.p8', HUB_PUSH_APNS_KEY_ID: 'K1' },
      { HUB_PUSH_FCM_URL: 'http://127.0.0.1:1' },
      { HUB_PUSH_APNS_TOPIC: 'bad topic!' },
    ]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
    }
    const apns = loadConfig({
      HUB_PUSH_APNS_KEY_FILE: '/k.p8',
      HUB_PUSH_APNS_KEY_ID: 'KEY1234567',
      HUB_PUSH_APNS_TEAM_ID: 'TEAM123456',
      HUB_PUSH_APNS_TOPIC: 'com.example.app',
    }).push.apns;
    expect(apns).toMatchObject({ keyFile: '/k.p8', topic: 'com.example.app', sandbox: false });
  });
});
