// Quiet hours: minutes of the day in an IANA zone (daylight saving followed) or at a fixed offset,
// windows that span midnight, and the settings schema's refusals.
import { describe, expect, it } from 'vitest';
import { inQuietHours, localMinutes, notificationSettingsBody } from '../../src/contract/notifications.js';

const at = (iso: string) => Date.parse(iso);

describe('quiet hours', () => {
  it('reads the local time in a zone, following daylight saving, or at a fixed offset', () => {
    const berlin = { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' };
    // 21:30 UTC is 22:30 in winter (UTC+1) and 23:30 in summer (UTC+2).
    expect(localMinutes(berlin, at('2026-01-15T21:30:00Z'))).toBe(22 * 60 + 30);
    expect(localMinutes(berlin, at('2026-07-15T21:30:00Z'))).toBe(23 * 60 + 30);
    expect(localMinutes({ start: '22:00', end: '07:00', utcOffsetMinutes: -300 }, at('2026-01-15T03:10:00Z'))).toBe(22 * 60 + 10);
    expect(localMinutes({ start: '22:00', end: '07:00', utcOffsetMinutes: 330 }, at('2026-01-15T20:00:00Z'))).toBe(60 + 30);
  });

  it('spans midnight, and ends at its end minute', () => {
    const q = { start: '22:00', end: '07:00', utcOffsetMinutes: 0 };
    expect(inQuietHours(q, at('2026-03-01T21:59:00Z'))).toBe(false);
    expect(inQuietHours(q, at('2026-03-01T22:00:00Z'))).toBe(true);
    expect(inQuietHours(q, at('2026-03-02T03:00:00Z'))).toBe(true);
    expect(inQuietHours(q, at('2026-03-02T06:59:00Z'))).toBe(true);
    expect(inQuietHours(q, at('2026-03-02T07:00:00Z'))).toBe(false);
    const day = { start: '09:00', end: '17:00', timeZone: 'America/New_York' };
    expect(inQuietHours(day, at('2026-03-02T15:00:00Z'))).toBe(true);
    expect(inQuietHours(day, at('2026-03-02T23:00:00Z'))).toBe(false);
  });

  it('refuses muting an SOS, unknown types, unknown zones, both zone and offset, and empty windows', () => {
    const bad = [
      { muted: ['sos'] },
      { muted: ['incident'] },
      { muted: ['everything'] },
      { muted: 'message' },
      { muted: [], quietHours: { start: '22:00', end: '07:00' } },
      { muted: [], quietHours: { start: '22:00', end: '07:00', timeZone: 'Nowhere/Land' } },
      { muted: [], quietHours: { start: '22:00', end: '07:00', timeZone: 'UTC', utcOffsetMinutes: 0 } },
      { muted: [], quietHours: { start: '24:00', end: '07:00', utcOffsetMinutes: 0 } },
      { muted: [], quietHours: { start: '07:00', end: '07:00', utcOffsetMinutes: 0 } },
      { muted: [], quietHours: { start: '22:00', end: '07:00', utcOffsetMinutes: 2000 } },
      { muted: [], extra: true },
    ];
    for (const b of bad) expect(notificationSettingsBody.safeParse(b).success, JSON.stringify(b)).toBe(false);
    expect(notificationSettingsBody.parse({ muted: ['message', 'message', 'geofence'] })).toEqual({
      muted: ['message', 'geofence'],
    });
  });
});
