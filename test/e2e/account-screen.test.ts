// The web app's account screen in a real browser (Debian's Chromium through playwright-core)
// against a real hub: a new nickname the family sees, a password change that signs out the other
// devices, and accepting the privacy policy.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild, launchChromium, openPage, PHONE, type WatchedPage } from '../helpers/browser.js';
import { addMember, api, createFamily, registerUser, startHub, type TestHub } from '../helpers/hub.js';

let t: TestHub;
let browser: Browser;
let opened: WatchedPage | undefined;

beforeAll(async () => {
  await ensureWebBuild();
  t = await startHub({ env: { HUB_POLICY_VERSION: '2026-03-01' } });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await opened?.context.close();
  await browser?.close();
  await t?.close();
});

const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });

describe('the account screen', () => {
  it('changes the nickname and the password, and accepts the privacy policy', async () => {
    const owner = await registerUser(t, 'Owner');
    const fid = await createFamily(t, owner);
    const me = await addMember(t, owner, fid, 'guardian');
    // Another device of the same person, which the password change signs out.
    const phone = await api(t, 'POST', '/v1/auth/login', { body: { email: me.email, password: me.password } });

    opened = await openPage(browser, t.url, PHONE);
    const { page, problems } = opened;
    await page.goto('/');
    await heading(page, 'Sign in').waitFor();
    await page.getByLabel('Email').fill(me.email);
    await page.getByLabel('Password').fill(me.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading(page, 'Your families').waitFor();
    await page.goto('/#/account');
    await heading(page, 'Your account').waitFor();

    // The policy changed since this person registered: the screen asks.
    await page.getByText('The privacy policy changed (version 2026-03-01)').waitFor();
    await page.getByRole('button', { name: 'Accept version 2026-03-01' }).click();
    await page.getByText('You accepted version 2026-03-01 of the privacy policy.').waitFor();
    expect((await api(t, 'GET', '/v1/me', { token: me.accessToken })).body.policyAcceptanceRequired).toBe(false);

    await page.getByLabel('Nickname your families see').fill('Grandma');
    await page.getByRole('button', { name: 'Save nickname' }).click();
    await page.getByRole('button', { name: 'Save nickname' }).and(page.locator('[disabled]')).waitFor();
    const family = await api(t, 'GET', `/v1/families/${fid}`, { token: owner.accessToken });
    expect(family.body.members.find((m: { userId: string }) => m.userId === me.id).nickname).toBe('Grandma');

    await page.getByLabel('Current password').fill(me.password);
    await page.getByLabel('New password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed. Your other devices were signed out.').waitFor();
    expect((await api(t, 'GET', '/v1/me', { token: phone.body.accessToken })).status).toBe(401);
    expect(
      (await api(t, 'POST', '/v1/auth/login', { body: { email: me.email, password: 'a brand new passphrase' } })).status,
    ).toBe(200);
    // This browser's own session goes on.
    await page.reload();
    await heading(page, 'Your account').waitFor();
    expect(problems).toEqual([]);
  }, 120_000);
});
