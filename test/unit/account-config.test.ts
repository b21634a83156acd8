// The account-care variables: HUB_SMTP_URL / HUB_SMTP_FROM together, a bad URL stops the start
// without repeating it, and the policy version's form and default; and how versions compare.
import { describe, expect, it } from 'vitest';
import { policyNewer } from '../../src/auth/accounts.js';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('account-care configuration', () => {
  it('takes a mail relay only with a sender, and refuses a bad URL without repeating it', () => {
    expect(loadConfig({}).smtp).toBeUndefined();
    expect(loadConfig({ HUB_SMTP_URL: 'smtp://127.0.0.1:2525', HUB_SMTP_FROM: 'hub <no-reply@example.org>' }).smtp).toEqual({
      url: 'smtp://127.0.0.1:2525',
      from: 'hub <no-reply@example.org>',
    });
    expect(() => loadConfig({ HUB_SMTP_URL: 'smtp://127.0.0.1:2525' })).toThrow(/HUB_SMTP_FROM: must be set with HUB_SMTP_URL/);
    let message = '';
    try {
      loadConfig({ HUB_SMTP_URL: 'http://user:s3cret-pass@mail.example.org', HUB_SMTP_FROM: 'a@b.c' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/HUB_SMTP_URL: .*smtp:\/\/ or smtps:\/\//);
    expect(message).not.toContain('s3cret-pass');
    expect(() => loadConfig({ HUB_SMTP_URL: 'smtp://h.example.org', HUB_SMTP_FROM: 'not an address' })).toThrow(/HUB_SMTP_FROM/);
  });

  it('defaults the policy version to 1 and takes only short plain versions', () => {
    expect(loadConfig({}).policyVersion).toBe('1');
    expect(loadConfig({ HUB_POLICY_VERSION: ' 2026-03-01 ' }).policyVersion).toBe('2026-03-01');
    for (const bad of ['-1', 'v 2', 'x'.repeat(33), '2026/03/01']) {
      expect(() => loadConfig({ HUB_POLICY_VERSION: bad }), bad).toThrow(/HUB_POLICY_VERSION/);
    }
    expect(() => loadConfig({ HUB_PASSWORD_RESET_TTL_MIN: '0' })).toThrow(/HUB_PASSWORD_RESET_TTL_MIN/);
  });

  it('compares policy versions segment by segment, numbers as numbers', () => {
    expect(policyNewer('2', null)).toBe(true);
    expect(policyNewer('10', '9')).toBe(true);
    expect(policyNewer('9', '10')).toBe(false);
    expect(policyNewer('2026-01-10', '2026-01-09')).toBe(true);
    expect(policyNewer('2026-01-09', '2026-01-09')).toBe(false);
    expect(policyNewer('1.10', '1.9')).toBe(true);
  });
});
