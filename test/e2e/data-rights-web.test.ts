// The parents' web app's data-rights controls in a real browser (Debian's Chromium through
// playwright-core) against a real hub started in-process: deleting a chat message (its sender or
// an owner, seen deleted by the other open apps through chat:deleted) and deleting a watch's
// location history (owners only), each after a confirmation that says it cannot be undone; and
// reading a watch's health readings (owners and guardians, each read audited).
import { rmSync } from 'node:fs';
import type { Browser, Dialog, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WatchSim } from '../../loadtest/lib/watch-sim.js';
import {
  ensureWebBuild,
  launchChromium,
  openPage,
  PHONE,
  SCREENSHOTS,
  screenshot,
  type WatchedPage,
} from '../helpers/browser.js';
import {
  addMember,
  api,
  bindWatch,
  type ClientSocket,
  connect,
  createFamily,
  provisionWatch,
  registerUser,
  request,
  startHub,
  type TestHub,
  type TestUser,
  type TestWatch,
} from '../helpers/hub.js';

let t: TestHub;
let browser: Browser;
const opened: WatchedPage[] = [];
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  await ensureWebBuild();
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  t = await startHub({ env: { MEDIASOUP_WORKERS: '1' } });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const s of sockets.splice(0)) s.close();
  await browser?.close();
  await t?.close();
});

afterEach(async (ctx) => {
  for (const p of opened.splice(0)) {
    if (ctx.task.result?.state === 'fail') {
      await screenshot(p.page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
      console.error(
        `page problems:\n${p.problems.join('\n') || '(none)'}\nvisible text:\n${await p.page
          .locator('body')
          .innerText()
          .catch(() => '?')}`,
      );
    }
    await p.context.close();
  }
});

const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });
const tab = (page: Page, name: string) =>
  page
    .getByRole('navigation', { name: /: sections$/ })
    .getByRole('link', { name, exact: true })
    .click();

/** A page signed in as `user`, on the family's section `section`. */
async function signedIn(user: TestUser, family: string, section: string): Promise<WatchedPage> {
  const p = await openPage(browser, t.url, PHONE);
  opened.push(p);
  const { page } = p;
  await page.goto('/');
  await heading(page, 'Sign in').waitFor();
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: new RegExp(family) }).click();
  await heading(page, `${family}: live map`).waitFor();
  await tab(page, section);
  return p;
}

/** Accepts the next confirmation and returns its text. */
function acceptNextDialog(page: Page): Promise<string> {
  return new Promise((resolve) => {
    page.once('dialog', (d: Dialog) => {
      const text = d.message();
      void d.accept().then(() => resolve(text));
    });
  });
}

/** A family with a watch that may send its location, bound just now, and its owner. */
async function familyWithWatch(
  name: string,
): Promise<{ owner: TestUser; familyId: string; watch: TestWatch; socket: ClientSocket }> {
  const owner = await registerUser(t, 'Olive');
  const familyId = await createFamily(t, owner, name);
  const watch = await provisionWatch(t);
  await bindWatch(t, owner, familyId, watch);
  await api(t, 'PUT', `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`, {
    token: owner.accessToken,
    body: { location: true, camera: false, microphone: false, contacts: false },
  });
  const socket = await connect(t, watch.deviceToken);
  sockets.push(socket);
  return { owner, familyId, watch, socket };
}

/** A chat message as the page shows it, found by its text. */
const messageItem = (page: Page, text: string) => page.locator('li.msg').filter({ hasText: text });

describe('data rights in the parents’ web app', () => {
  it('lets the sender and owners delete a message, shows it deleted to the other open apps, and offers no control to others', async () => {
    const { owner, familyId, socket } = await familyWithWatch('The Deleters');
    const guardian = await addMember(t, owner, familyId, 'guardian');
    const viewer = await addMember(t, owner, familyId, 'viewer');
    const fromWatch = await request(socket, 'chat:send', {
      conversationId: familyId,
      clientMsgId: crypto.randomUUID(),
      kind: 'text',
      text: 'Hello from the watch',
    });
    expect(fromWatch).toMatchObject({ ok: true });

    const a = await signedIn(owner, 'The Deleters', 'Chat');
    const b = await signedIn(guardian, 'The Deleters', 'Chat');
    await heading(a.page, 'The Deleters: chat').waitFor();
    await heading(b.page, 'The Deleters: chat').waitFor();

    // The owner writes, the guardian writes.
    await a.page.getByLabel('Message', { exact: true }).fill('Owner says hi');
    await a.page.getByRole('button', { name: 'Send', exact: true }).click();
    await messageItem(b.page, 'Owner says hi').waitFor();
    await b.page.getByLabel('Message', { exact: true }).fill('Guardian says hi');
    await b.page.getByRole('button', { name: 'Send', exact: true }).click();
    await messageItem(a.page, 'Guardian says hi').waitFor();
    await messageItem(b.page, 'Guardian says hi').waitFor();

    // An owner may delete every message, the watch's and the guardian's included.
    for (const text of ['Hello from the watch', 'Owner says hi', 'Guardian says hi']) {
      await messageItem(a.page, text)
        .getByRole('button', { name: /^Delete the message from / })
        .waitFor();
    }
    // A guardian only their own.
    await messageItem(b.page, 'Guardian says hi')
      .getByRole('button', { name: /^Delete the message from / })
      .waitFor();
    for (const text of ['Hello from the watch', 'Owner says hi']) {
      expect(
        await messageItem(b.page, text)
          .getByRole('button', { name: /^Delete/ })
          .count(),
        text,
      ).toBe(0);
    }

    // The owner deletes their message, after a confirmation; both apps show it deleted.
    const asked = acceptNextDialog(a.page);
    await messageItem(a.page, 'Owner says hi')
      .getByRole('button', { name: /^Delete the message from / })
      .click();
    expect(await asked).toMatch(/cannot be undone/);
    await a.page.getByText('Message deleted.', { exact: true }).first().waitFor();
    await expect.poll(() => messageItem(a.page, 'Owner says hi').count()).toBe(0);
    await expect.poll(() => messageItem(b.page, 'Owner says hi').count()).toBe(0);
    await b.page.locator('li[data-deleted="true"]').waitFor();
    await messageItem(b.page, 'Guardian says hi').waitFor();
    await screenshot(a.page, 'phone-chat-deleted');

    // The hub agrees: sync serves a deleted slot.
    const sync = await request(socket, 'chat:sync', { conversationId: familyId, afterSeq: 0, limit: 100 });
    expect(sync.messages.filter((m) => 'deleted' in m)).toHaveLength(1);

    // A viewer, who sent nothing, sees no delete control at all.
    const c = await signedIn(viewer, 'The Deleters', 'Chat');
    await messageItem(c.page, 'Guardian says hi').waitFor();
    await c.page.locator('li[data-deleted="true"]').waitFor();
    expect(await c.page.getByRole('button', { name: /^Delete/ }).count()).toBe(0);

    for (const p of [a, b, c]) expect(p.problems).toEqual([]);
  }, 120_000);

  it('lets an owner delete the period shown, saying how many fixes went, and shows others no delete buttons', async () => {
    const { owner, familyId, watch, socket } = await familyWithWatch('The Forgetters');
    const guardian = await addMember(t, owner, familyId, 'guardian');
    // None stamped ahead of the hub's clock: a deletion ends at its own time at the latest, so a
    // fix stamped later than the click would rightly be kept.
    let ts = 0;
    for (const [lat, lng] of [
      [48.8566, 2.3522],
      [48.857, 2.353],
      [48.8575, 2.3535],
    ] as const) {
      while (Date.now() <= ts) await new Promise((resolve) => setTimeout(resolve, 2));
      ts = Date.now();
      const r = await request(socket, 'location:report', { ts, lat, lng, acc: 10, battery: 80, source: 'gps' });
      expect(r).toMatchObject({ ok: true, accepted: 1 });
    }

    // A guardian sees the history, without the delete buttons.
    const g = await signedIn(guardian, 'The Forgetters', 'History');
    await heading(g.page, 'History of Mia').waitFor();
    await g.page.locator('[data-history-index]').getByText('3 of 3:').waitFor();
    for (const name of ['Delete this period', 'Delete all history']) {
      expect(await g.page.getByRole('button', { name }).count(), name).toBe(0);
    }

    // The owner deletes the period shown, after a confirmation.
    const o = await signedIn(owner, 'The Forgetters', 'History');
    const { page } = o;
    await heading(page, 'History of Mia').waitFor();
    await page.locator('[data-history-index]').getByText('3 of 3:').waitFor();
    await page.getByRole('button', { name: 'Delete all history' }).waitFor();
    const asked = acceptNextDialog(page);
    await page.getByRole('button', { name: 'Delete this period' }).click();
    expect(await asked).toMatch(/^Delete the history of Mia from .* This cannot be undone\.$/);
    await page.getByText('Deleted 3 location records of Mia.').waitFor();
    await page.getByText('No positions in this period.').waitFor();
    await screenshot(page, 'phone-history-deleted');

    // The hub agrees: nothing is left to read.
    const left = await api(t, 'DELETE', `/v1/families/${familyId}/devices/${watch.deviceId}/history`, {
      token: owner.accessToken,
      body: {},
    });
    expect(left).toMatchObject({ status: 200, body: { deleted: 0 } });

    // Declining the confirmation deletes nothing.
    page.once('dialog', (d: Dialog) => void d.dismiss());
    await page.getByRole('button', { name: 'Delete all history' }).click();
    await page.getByText('No positions in this period.').waitFor();

    for (const p of [g, o]) expect(p.problems).toEqual([]);
  }, 120_000);
});

describe('health readings in the parents’ web app', () => {
  it('shows owners and guardians the readings when asked, audits each look, and shows viewers nothing', async () => {
    const owner = await registerUser(t, 'Olive');
    const familyId = await createFamily(t, owner, 'The Carers');
    const watchId = String(Math.floor(1e9 + Math.random() * 9e9));
    const watch = await provisionWatch(t, undefined, watchId);
    await bindWatch(t, owner, familyId, watch);
    await api(t, 'PUT', `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`, {
      token: owner.accessToken,
      body: { location: true, camera: false, microphone: false, contacts: false, health: true },
    });
    const sim = new WatchSim({ id: watchId, replyTimeoutMs: 5000 });
    await sim.connect('127.0.0.1', t.watchPort!);
    await sim.health({ heartRate: 72, systolic: 118, diastolic: 76 });
    await sim.health({ spo2: 97 });
    await sim.heartbeat(80);
    await sim.close();
    const guardian = await addMember(t, owner, familyId, 'guardian');
    const viewer = await addMember(t, owner, familyId, 'viewer');

    const o = await signedIn(owner, 'The Carers', 'Map');
    await o.page.getByRole('link', { name: 'Settings and commands' }).click();
    await heading(o.page, "Mia's watch").waitFor();
    const section = o.page.getByRole('region', { name: 'Health readings' });
    // Nothing is read before the owner asks.
    expect(await section.locator('[data-health-reading]').count()).toBe(0);
    await section.getByRole('button', { name: "Show Mia's readings" }).click();
    await section.getByText('heart rate 72 bpm, blood pressure 118/76 mmHg').waitFor();
    await section.getByText('oxygen 97%').waitFor();
    expect(await section.locator('[data-health-reading]').count()).toBe(2);
    await screenshot(o.page, 'phone-health-readings');

    const g = await signedIn(guardian, 'The Carers', 'Map');
    await g.page.getByRole('link', { name: 'Settings and commands' }).click();
    await heading(g.page, "Mia's watch").waitFor();
    const gs = g.page.getByRole('region', { name: 'Health readings' });
    await gs.getByRole('button', { name: "Show Mia's readings" }).click();
    await gs.getByText('oxygen 97%').waitFor();

    const v = await signedIn(viewer, 'The Carers', 'Map');
    await v.page.getByRole('link', { name: 'Details' }).click();
    await heading(v.page, "Mia's watch").waitFor();
    expect(await v.page.getByRole('region', { name: 'Health readings' }).count()).toBe(0);

    // Both looks are in the family's audit, by whom.
    const audit = await api(t, 'GET', `/v1/families/${familyId}/audit`, { token: owner.accessToken });
    const looks = (audit.body.entries as { action: string; actor: { id: string } }[]).filter(
      (e) => e.action === 'health.history',
    );
    expect(looks.map((e) => e.actor.id).sort()).toEqual([owner.id, guardian.id].sort());

    for (const p of [o, g, v]) expect(p.problems).toEqual([]);
  }, 120_000);
});
