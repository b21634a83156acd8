// The parents' web app in a real browser (Debian's Chromium through playwright-core) against a
// real hub started in-process, with a simulated watch speaking the contract over socket.io-client
// and, for the call, a Node WebRTC peer (msc-node). Every step goes through the screens a parent
// uses; the scenario fails on any console error, failed request or HTTP error along the way.
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MessageView } from '../../src/contract/models.js';
import {
  DESKTOP,
  ensureWebBuild,
  launchChromium,
  openPage,
  PHONE,
  SCREENSHOTS,
  screenshot,
  watchPage,
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
  type TestWatch,
  waitFor,
} from '../helpers/hub.js';
import { amrFile, pngFile } from '../helpers/media.js';
import { MediaPeer } from '../helpers/media-peer.js';

let t: TestHub;
let browser: Browser;
const opened: WatchedPage[] = [];

beforeAll(async () => {
  await ensureWebBuild();
  // Artifacts of this run only.
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  // One mediasoup worker for the call; SOS re-sends slower than the scenario.
  t = await startHub({ env: { MEDIASOUP_WORKERS: '1', HUB_SOS_RENOTIFY_S: '600' } });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

afterEach(async (ctx) => {
  for (const p of opened.splice(0)) {
    // A failed step: keep what the page showed and what went wrong, to read in the artifacts.
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

async function open(viewport = PHONE): Promise<WatchedPage> {
  const p = await openPage(browser, t.url, viewport);
  opened.push(p);
  return p;
}

const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });
/** A section of the open family, through its navigation. */
const tab = (page: Page, name: string) =>
  page
    .getByRole('navigation', { name: /: sections$/ })
    .getByRole('link', { name, exact: true })
    .click();

/** A watch on the contract's Socket.IO side. */
async function simulatedWatch(watch: TestWatch) {
  const socket: ClientSocket = await connect(t, watch.deviceToken);
  let ts = 0;
  return {
    socket,
    /**
     * One fix, each at least a second after the previous one and never from before now: the
     * watch is bound by then, and a family sees only fixes taken since it bound the watch.
     */
    async report(lat: number, lng: number, battery = 80) {
      ts = Math.max(ts + 1000, Date.now());
      const r = await request(socket, 'location:report', { ts, lat, lng, acc: 10, battery, source: 'gps' });
      expect(r).toMatchObject({ ok: true, accepted: 1 });
    },
  };
}

/** The media bytes as the watch downloads them with its own token. */
async function watchDownloads(watch: TestWatch, url: string): Promise<Buffer> {
  const res = await fetch(t.url + url, { headers: { authorization: `Bearer ${watch.deviceToken}` } });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('the parents’ web app', () => {
  it('signs up, binds a watch, follows it, handles an SOS, a place, chat with voice, a call, an export and account deletion', async () => {
    const { page, problems, requests } = await open(PHONE);

    // --- Sign up ------------------------------------------------------------------------------
    await page.goto('/');
    await heading(page, 'Sign in').waitFor();
    await screenshot(page, 'phone-signin');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await heading(page, 'Create your account').waitFor();
    const email = `e2e-${Date.now()}@example.test`;
    await page.getByLabel('Your name (shown to your family)').fill('Ann');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await heading(page, 'Your families').waitFor();
    // The refresh token is an HttpOnly cookie: page scripts cannot see it.
    expect(await page.evaluate<string>('document.cookie')).not.toContain('hub_refresh');
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'hub_refresh')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
      path: '/v1/auth/',
    });
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();

    // --- Create a family, bind a watch by its code ----------------------------------------------
    await page.getByLabel('Family name').fill('The Testers');
    await page.getByRole('button', { name: 'Create family' }).click();
    await heading(page, 'Add a watch to The Testers').waitFor();
    const familyId = decodeURIComponent(/#\/f\/([^/]+)/.exec(page.url())![1]!);
    const watch = await provisionWatch(t);
    const sim = await simulatedWatch(watch);
    // The QR scanner opens the (fake) camera and closes it again; the code is then typed.
    await page.getByRole('button', { name: "Scan the watch's QR code" }).click();
    const camera = page.getByLabel("Camera view: point it at the watch's QR code");
    await expect
      .poll(() => camera.evaluate((v) => (v as unknown as { readyState: number }).readyState), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);
    await screenshot(page, 'phone-add-watch-scanning');
    await page.getByRole('button', { name: 'Stop scanning' }).click();
    await camera.waitFor({ state: 'detached' });
    await page.getByLabel('Binding code').fill(watch.bindingCode);
    await page.getByLabel("Child's name").fill('Mia');
    await page.getByRole('button', { name: 'Add the watch' }).click();
    await heading(page, "Mia's watch").waitFor();

    // --- Permissions: all off by default; turn location and the microphone on -------------------
    for (const p of ['Location', 'Camera', 'Microphone', 'Contacts', 'Health']) {
      expect(await page.getByRole('checkbox', { name: new RegExp(`^${p}`) }).isChecked()).toBe(false);
    }
    await page.getByText('The watch may send where it is.').waitFor();
    await page.getByRole('checkbox', { name: /^Location/ }).check();
    await page.getByRole('checkbox', { name: /^Microphone/ }).check();
    await screenshot(page, 'phone-watch-permissions');
    await page.getByRole('button', { name: 'Save permissions' }).click();
    await page.getByText('Permissions saved.').waitFor();
    const fam = await api(t, 'GET', `/v1/families/${familyId}`, { token: await ownerToken(email) });
    expect(fam.body.devices[0].permissions).toEqual({
      location: true,
      camera: false,
      microphone: true,
      contacts: false,
      health: false,
    });

    // --- The live map follows the watch ---------------------------------------------------------
    await tab(page, 'Map');
    await heading(page, 'The Testers: live map').waitFor();
    await page.locator('.map[data-ready="true"]').waitFor();
    const item = page.locator(`li[data-watch-id="${watch.deviceId}"]`);
    await item.getByText('● Online').waitFor();
    await sim.report(48.8566, 2.3522, 81);
    const marker = page.locator(`.watch-marker[data-watch-id="${watch.deviceId}"]`);
    await page.locator(`.watch-marker[data-watch-id="${watch.deviceId}"][data-lat="48.8566"]`).waitFor();
    await item.getByText('48.85660, 2.35220').waitFor();
    await item.getByText('battery 81%').waitFor();
    const before = await marker.boundingBox();
    await sim.report(48.8575, 2.3535, 79);
    await page.locator(`.watch-marker[data-watch-id="${watch.deviceId}"][data-lat="48.8575"]`).waitFor();
    await item.getByText('48.85750, 2.35350').waitFor();
    const after = await marker.boundingBox();
    expect(before && after && Math.hypot(after.x - before.x, after.y - before.y)).toBeGreaterThan(20);
    // The offline base map is drawn (no tiles configured), with the watch's H3 cell.
    expect(await page.locator('.leaflet-container .land').count()).toBeGreaterThan(50);
    await page.locator('.leaflet-container path.cell').waitFor();
    await screenshot(page, 'phone-map');

    // --- SOS: banner and sound until acknowledged -----------------------------------------------
    const sos = await request(sim.socket, 'alert:raise', { type: 'sos', ts: Date.now(), lat: 48.8575, lng: 2.3535 });
    expect(sos.ok).toBe(true);
    const banner = page.getByRole('alert', { name: 'Emergency alerts' });
    await banner.getByText('SOS: Mia').waitFor();
    expect(await banner.getAttribute('data-alarm')).toBe('on');
    await screenshot(page, 'phone-sos');
    await banner.getByRole('button', { name: 'Acknowledge' }).click();
    await banner.waitFor({ state: 'detached' });
    const alerts = await api(t, 'GET', `/v1/families/${familyId}/alerts`, { token: await ownerToken(email) });
    expect(alerts.body.alerts[0]).toMatchObject({ id: sos.alert.id, type: 'sos', ackedBy: expect.any(String) });

    // --- A place drawn on the map, and the watch entering it ------------------------------------
    await tab(page, 'Places');
    await heading(page, 'Places').waitFor();
    await page.locator('.map[data-ready="true"]').waitFor();
    await page.getByRole('button', { name: 'New place' }).click();
    await page.getByLabel('Name', { exact: true }).fill('School');
    const spot = await page.locator(`.watch-marker[data-watch-id="${watch.deviceId}"]`).boundingBox();
    // Click 150 px above the watch (a few hundred metres at this zoom): the circle's centre.
    await page.locator('.map').click({ position: await mapOffset(page, spot!.x, spot!.y - 150) });
    const centreText = await page.locator('[data-draft-center]').textContent();
    const [clat, clng] = /Centre: ([-\d.]+), ([-\d.]+)/
      .exec(centreText ?? '')!
      .slice(1)
      .map(Number) as [number, number];
    await page.getByRole('button', { name: 'Save place' }).click();
    await page.getByText('Place "School" saved.').waitFor();
    const fences = await api(t, 'GET', `/v1/families/${familyId}/geofences`, { token: await ownerToken(email) });
    expect(fences.body.geofences).toEqual([
      expect.objectContaining({
        name: 'School',
        kind: 'circle',
        radius: 150,
        center: { lat: expect.closeTo(clat, 4), lng: expect.closeTo(clng, 4) },
      }),
    ]);
    await sim.report(48.8575, 2.3535); // outside: the silent baseline
    await sim.report(clat, clng); // inside: enter
    await page.locator('li[data-transition="enter"]').getByText('Mia arrived at School').waitFor();
    await screenshot(page, 'phone-places');

    // --- History: the path, a time slider (keyboard too) and playback ---------------------------
    await tab(page, 'History');
    await heading(page, 'History of Mia').waitFor();
    const position = page.locator('[data-history-index]');
    await position.getByText('4 of 4:').waitFor();
    await page.locator('.leaflet-container path.path').waitFor();
    const slider = page.getByRole('slider', { name: /Time/ });
    await slider.focus();
    await page.keyboard.press('Home');
    await position.getByText('1 of 4: 48.85660, 2.35220').waitFor();
    await page.getByRole('button', { name: 'Play' }).click();
    await position.getByText('2 of 4:').waitFor();
    await position.getByText('4 of 4:').waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Play' }).waitFor(); // playback stopped at the end
    await screenshot(page, 'phone-history');

    // --- Chat: text both ways, a recorded voice note to the watch, the watch's AMR note ----------
    await tab(page, 'Chat');
    await heading(page, 'The Testers: chat').waitFor();
    const toWatch = waitFor<{ message: MessageView }>(sim.socket, 'chat:message', (e) => e.message.kind === 'text');
    await page.getByLabel('Message', { exact: true }).fill('Dinner at 7');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    expect((await toWatch).message).toMatchObject({ text: 'Dinner at 7', sender: { kind: 'user' } });
    const reply = await request(sim.socket, 'chat:send', {
      conversationId: familyId,
      clientMsgId: 'w-1',
      kind: 'text',
      text: 'OK mum',
    });
    expect(reply.ok).toBe(true);
    await page.getByRole('log', { name: 'Messages' }).getByText('OK mum').waitFor();

    const voiceToWatch = waitFor<{ message: MessageView }>(sim.socket, 'chat:message', (e) => e.message.kind === 'voice', {
      timeoutMs: 15_000,
    });
    await page.getByRole('button', { name: 'Record a voice note' }).click();
    await page.getByText(/Recording 0:0[1-9]/).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Stop and send' }).click();
    const note = (await voiceToWatch).message;
    expect(note.media).toMatchObject({ mime: 'audio/webm', url: `/v1/media/${note.media!.id}` });
    expect(note.media!.durationMs).toBeGreaterThanOrEqual(900);
    const bytes = await watchDownloads(watch, note.media!.url);
    expect(bytes.length).toBe(note.media!.bytes);
    expect(bytes.subarray(0, 4).toString('hex')).toBe('1a45dfa3'); // EBML: a WebM file
    expect(bytes.length).toBeGreaterThan(2000); // a second of Opus from the fake microphone

    // A photo: the file chosen goes to the watch as is (a PNG), and shows in the chat from a blob: URL.
    const photoToWatch = waitFor<{ message: MessageView }>(sim.socket, 'chat:message', (e) => e.message.kind === 'image');
    const png = pngFile(8, 8);
    await page.getByLabel('Photo to send').setInputFiles({ name: 'drawing.png', mimeType: 'image/png', buffer: png });
    const photo = (await photoToWatch).message;
    expect(photo.media?.mime).toBe('image/png');
    expect((await watchDownloads(watch, photo.media!.url)).equals(png)).toBe(true);
    const img = page.getByRole('img', { name: 'Photo from You' });
    await expect.poll(() => img.getAttribute('src'), { timeout: 10_000 }).toMatch(/^blob:/);

    const amr = await request(sim.socket, 'chat:send', {
      conversationId: familyId,
      clientMsgId: 'w-2',
      kind: 'voice',
      media: { data: amrFile(1), mime: 'audio/amr' },
    });
    expect(amr.ok).toBe(true);
    const amrId = amr.message.media!.id;
    const amrButton = page.locator(`[data-voice="${amrId}"]`);
    // Browsers cannot play AMR: the app asks the hub for Ogg (converted by ffmpeg), never for the
    // AMR bytes, and plays what it gets: the bytes are seen on their way (route.fetch passes the
    // request on as it is).
    const oggBodies: Buffer[] = [];
    await page.route(`**/v1/media/${amrId}?format=ogg`, async (route) => {
      const res = await route.fetch();
      oggBodies.push(await res.body());
      expect(res.status()).toBe(200);
      expect(res.headers()['content-type']).toBe('audio/ogg');
      await route.fulfill({ response: res });
    });
    await amrButton.click();
    const player = page.locator(`audio[data-voice-player="${amrId}"]`);
    await player.waitFor();
    expect(await page.locator(`[data-voice-unplayable="${amrId}"]`).count()).toBe(0);
    expect(await player.getAttribute('src')).toMatch(/^blob:/);
    expect(oggBodies).toHaveLength(1);
    expect(oggBodies[0]!.subarray(0, 4).toString('latin1')).toBe('OggS');
    // Chromium decodes it: the element learns the note's length (one second) from the Ogg/Opus.
    await expect
      .poll(
        () =>
          player.evaluate((a) => {
            const d = (a as unknown as { duration: number }).duration;
            return Number.isFinite(d) ? d : 0;
          }),
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0.5);
    expect(await player.evaluate((a) => (a as unknown as { error: unknown }).error)).toBeNull();
    expect(requests).toContain(`/v1/media/${amrId}?format=ogg`);
    expect(requests).not.toContain(`/v1/media/${amrId}`);
    await screenshot(page, 'phone-chat');

    // --- A voice call to the watch, audio flowing both ways ---------------------------------------
    await tab(page, 'Map');
    await page.getByRole('link', { name: 'Settings and commands' }).click();
    await heading(page, "Mia's watch").waitFor();
    const ring = waitFor<{ callId: string; video: boolean }>(sim.socket, 'call:ring');
    await page.getByRole('button', { name: 'Voice call' }).click();
    const { callId, video } = await ring;
    expect(video).toBe(false);
    const peer = new MediaPeer(sim.socket, callId);
    try {
      const parentProducer = waitFor<{ producerId: string; kind: string }>(
        sim.socket,
        'call:producer',
        (e) => e.kind === 'audio',
        { timeoutMs: 15_000 },
      );
      const accepted = await request(sim.socket, 'call:accept', { callId });
      expect(accepted.ok).toBe(true);
      await peer.load(accepted.rtpCapabilities);
      await peer.sendAudioVideo(['audio']);
      await peer.receive([(await parentProducer).producerId]);
      const panel = page.getByRole('region', { name: /Voice call with Mia's watch/ });
      await panel.getByText(/In call/).waitFor({ timeout: 15_000 });
      // Both directions, measured by each side: the browser's WebRTC statistics, the peer's RTP count.
      const counter = async (attr: string) => Number(await panel.locator(`[${attr}]`).getAttribute(attr));
      await expect.poll(() => counter('data-bytes-sent'), { timeout: 20_000 }).toBeGreaterThan(4000);
      // The peer sends tiny Opus frames (3 bytes each, 50 a second): the counters count payload bytes only.
      await expect.poll(() => counter('data-bytes-received'), { timeout: 20_000 }).toBeGreaterThan(300);
      await expect.poll(() => peer.received.audio, { timeout: 10_000 }).toBeGreaterThan(50);
      await screenshot(page, 'phone-call');
      const ended = waitFor(sim.socket, 'call:state', (e: { state: string }) => e.state === 'ended');
      await panel.getByRole('button', { name: 'Hang up' }).click();
      await ended;
      await page.getByText(/Call ended/).waitFor();
    } finally {
      peer.close();
    }

    // --- A command and its status ------------------------------------------------------------------
    sim.socket.on('command', (c: { id: string; type: string }) => {
      if (c.type === 'find') void request(sim.socket, 'command:result', { id: c.id, status: 'done' });
    });
    await page.getByRole('button', { name: 'Make it ring' }).click();
    await page.locator('li[data-command-type="find"][data-status="done"]').waitFor();

    // --- The child's data export, downloaded as a file ----------------------------------------------
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: "Download Mia's data" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('Mia-data.json');
    const exported = readFileSync((await file.path())!, 'utf8');
    expect(exported).toContain(watch.deviceId);

    // --- The main screens at desktop size ----------------------------------------------------------
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'desktop-watch');
    for (const [tab, name] of [
      ['Map', 'desktop-map'],
      ['Places', 'desktop-places'],
      ['Chat', 'desktop-chat'],
      ['Alerts', 'desktop-alerts'],
      ['Family', 'desktop-family'],
    ] as const) {
      await page.getByRole('navigation', { name: 'The Testers: sections' }).getByRole('link', { name: tab }).click();
      await page.locator('main h1').waitFor();
      if (tab === 'Map' || tab === 'Places') await page.locator('.map[data-ready="true"] .watch-marker').waitFor();
      await screenshot(page, name);
    }
    await page.setViewportSize(PHONE);

    // --- Account deletion -----------------------------------------------------------------------
    await page.getByRole('link', { name: 'Ann' }).click();
    await heading(page, 'Your account').waitFor();
    await page.getByLabel('Your password, to confirm').fill('correct horse battery');
    await page.getByRole('checkbox', { name: /I understand/ }).check();
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await heading(page, 'Sign in').waitFor();
    await page.getByText('Your account was deleted.').waitFor();
    expect((await api(t, 'POST', '/v1/auth/login', { body: { email, password: 'correct horse battery' } })).status).toBe(401);

    expect(problems).toEqual([]);
  }, 180_000);

  it('shows a viewer the family, with no owner or guardian controls', async () => {
    const owner = await registerUser(t, 'Owner');
    const familyId = await createFamily(t, owner, 'The Viewers');
    const watch = await provisionWatch(t);
    await bindWatch(t, owner, familyId, watch);
    await api(t, 'PUT', `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`, {
      token: owner.accessToken,
      body: { location: true, camera: true, microphone: true, contacts: true },
    });
    const sim = await simulatedWatch(watch);
    await sim.report(51.5007, -0.1246);
    await addMember(t, owner, familyId, 'guardian'); // someone else who could act
    const invite = await api(t, 'POST', `/v1/families/${familyId}/invites`, {
      token: owner.accessToken,
      body: { role: 'viewer' },
    });

    const { page, problems, reload } = await open(PHONE);
    // An invite link opened while signed out: sign up, then back to the invite.
    await page.goto(`/#/invite/${invite.body.code}`);
    await page.getByText('You were invited to a family.').waitFor();
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Your name (shown to your family)').fill('Grandpa');
    await page.getByLabel('Email').fill(`viewer-${Date.now()}@example.test`);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await heading(page, 'Join a family').waitFor();
    await page.getByRole('button', { name: 'Join the family' }).click();
    await heading(page, 'The Viewers: live map').waitFor();

    // A reload keeps the session (the HttpOnly cookie), not a token in storage.
    expect(
      await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })'),
    ).not.toMatch(/eyJ/);
    await reload();
    await heading(page, 'The Viewers: live map').waitFor();

    const nav = page.getByRole('navigation', { name: 'The Viewers: sections' });
    await page.locator(`li[data-watch-id="${watch.deviceId}"]`).getByText('51.50070, -0.12460').waitFor();
    expect(await page.getByRole('link', { name: 'Add a watch' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Locate now' }).count()).toBe(0);
    await screenshot(page, 'phone-viewer-map');

    await page.getByRole('link', { name: 'Details' }).click();
    await heading(page, "Mia's watch").waitFor();
    expect(await page.getByRole('checkbox', { name: /^Location/ }).isDisabled()).toBe(true);
    await page.getByText('Only an owner of the family can change these.').waitFor();
    for (const name of [
      'Save permissions',
      'Voice call',
      'Video call',
      'Make it ring',
      'Take a photo',
      "Download Mia's data",
      'Remove this watch from the family',
    ]) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }
    expect(await page.getByRole('heading', { name: 'Commands', exact: true }).count()).toBe(0);

    await nav.getByRole('link', { name: 'Chat' }).click();
    await page.getByText('As a viewer you can read the family chat, but not write in it.').waitFor();
    expect(await page.getByLabel('Message', { exact: true }).count()).toBe(0);

    await nav.getByRole('link', { name: 'Places' }).click();
    await heading(page, 'Places').waitFor();
    expect(await page.getByRole('button', { name: 'New place' }).count()).toBe(0);

    await nav.getByRole('link', { name: 'Family' }).click();
    await heading(page, 'The Viewers: family').waitFor();
    expect(await page.getByRole('heading', { name: 'Invite someone' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Remove / }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Call / }).count()).toBe(0);
    await page.getByRole('button', { name: 'Leave this family' }).waitFor();

    // An SOS reaches the viewer, who cannot acknowledge it but may silence this device.
    await request(sim.socket, 'alert:raise', { type: 'sos', ts: Date.now() });
    const banner = page.getByRole('alert', { name: 'Emergency alerts' });
    await banner.getByText('An owner or guardian must acknowledge it.').waitFor();
    expect(await banner.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
    await screenshot(page, 'phone-viewer-sos');
    await banner.getByRole('button', { name: 'Silence this device' }).click();
    expect(await banner.getAttribute('data-alarm')).toBe('off');

    // The watch calls the viewer (viewers can be called and answer): an incoming call, answered.
    const me = (await api(t, 'GET', `/v1/families/${familyId}`, { token: owner.accessToken })).body.members.find(
      (m: { nickname: string }) => m.nickname === 'Grandpa',
    );
    const started = await request(sim.socket, 'call:start', {
      familyId,
      invitees: [{ kind: 'user', id: me.userId }],
      video: false,
    });
    expect(started.ok).toBe(true);
    const panel = page.getByRole('region', { name: "Voice call from Mia's watch" });
    await panel.getByText('Incoming call…').waitFor();
    await screenshot(page, 'phone-viewer-incoming-call');
    const peer = new MediaPeer(sim.socket, started.callId);
    try {
      const viewerAudio = waitFor<{ producerId: string; kind: string }>(sim.socket, 'call:producer', (e) => e.kind === 'audio', {
        timeoutMs: 15_000,
      });
      await peer.load(started.rtpCapabilities);
      await peer.sendAudioVideo(['audio']);
      await panel.getByRole('button', { name: 'Answer' }).click();
      await peer.receive([(await viewerAudio).producerId]);
      const active = page.getByRole('region', { name: "Voice call with Mia's watch" });
      await active.getByText(/In call/).waitFor({ timeout: 15_000 });
      await expect
        .poll(async () => Number(await active.locator('[data-bytes-received]').getAttribute('data-bytes-received')), {
          timeout: 20_000,
        })
        .toBeGreaterThan(100);
      await expect.poll(() => peer.received.audio, { timeout: 10_000 }).toBeGreaterThan(20);
      await active.getByRole('button', { name: 'Hang up' }).click();
      await page.getByText(/Call ended/).waitFor();
    } finally {
      peer.close();
    }

    expect(problems).toEqual([]);
  }, 120_000);

  it('keeps the session in the HttpOnly cookie through token expiry and reloads, and draws configured tiles under the CSP', async () => {
    // A tile server on another origin: the only outside address the page's img-src allows.
    const png = pngFile(256, 256);
    const tileHits: string[] = [];
    const tiles = createServer((req, res) => {
      tileHits.push(req.url ?? '');
      res.writeHead(/^\/\d+\/\d+\/\d+\.png$/.test(req.url ?? '') ? 200 : 404, { 'content-type': 'image/png' }).end(png);
    });
    await new Promise<void>((resolve) => tiles.listen(0, '127.0.0.1', resolve));
    const tilePort = (tiles.address() as AddressInfo).port;
    const hub = await startHub({
      env: {
        HUB_ACCESS_TOKEN_TTL_S: '30',
        HUB_MAP_TILES_URL: `http://127.0.0.1:${tilePort}/{z}/{x}/{y}.png`,
        HUB_MAP_TILES_ATTRIBUTION: '<b>Test tiles</b> ©',
      },
    });
    const context = await browser.newContext({ baseURL: hub.url, viewport: PHONE });
    try {
      const owner = await registerUser(hub, 'Bea');
      const familyId = await createFamily(hub, owner, 'The Tiles');
      const watch = await provisionWatch(hub);
      await bindWatch(hub, owner, familyId, watch);
      await api(hub, 'PUT', `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`, {
        token: owner.accessToken,
        body: { location: true, camera: false, microphone: false, contacts: false },
      });
      const socket = await connect(hub, watch.deviceToken);
      // From now on: the watch was bound just above (a family sees only fixes taken since).
      let ts = Date.now();
      const report = (lat: number, lng: number) =>
        request(socket, 'location:report', { ts: (ts += 1000), lat, lng, acc: 10, battery: 70, source: 'gps' });
      await report(52.52, 13.405);

      const watched = await watchPage(context);
      opened.push(watched); // for the failure report
      const { page, problems, requests, reload } = watched;
      await page.goto('/');
      await heading(page, 'Sign in').waitFor();
      await page.getByLabel('Email').fill(owner.email);
      await page.getByLabel('Password').fill(owner.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const signedInAt = Date.now();
      await page.getByRole('link', { name: /The Tiles/ }).click();
      await heading(page, 'The Tiles: live map').waitFor();

      // Tiles, not the offline outlines; the attribution shown as text, not as HTML.
      await expect.poll(() => page.locator('img.leaflet-tile-loaded').count(), { timeout: 10_000 }).toBeGreaterThan(0);
      expect(tileHits.length).toBeGreaterThan(0);
      expect(await page.locator('.leaflet-container .land').count()).toBe(0);
      await page.locator('.leaflet-control-attribution').getByText('<b>Test tiles</b> ©').waitFor();
      await screenshot(page, 'phone-map-tiles');
      // The CSP is in force: an injected inline script does not run and an inline style attribute
      // is not applied (the browser reports both refusals as console errors, expected here).
      const seen = problems.length;
      const probe = await page.evaluate<string>(`(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inlineRan = true';
        document.head.append(s);
        const d = document.createElement('div');
        d.setAttribute('style', 'display: inline-grid');
        document.body.append(d);
        const shown = getComputedStyle(d).display;
        d.remove();
        return JSON.stringify({ ran: window.__inlineRan === true, display: shown });
      })()`);
      expect(JSON.parse(probe)).toEqual({ ran: false, display: 'block' });
      await expect.poll(() => problems.slice(seen).filter((p) => /Content Security Policy/.test(p)).length).toBe(2);
      problems.splice(seen, problems.length - seen, ...problems.slice(seen).filter((p) => !/Content Security Policy/.test(p)));

      // The access token lives 30 s: the app renews it ahead of time (at 80 %) with the cookie...
      await expect.poll(() => requests.filter((r) => r === '/v1/auth/refresh').length, { timeout: 30_000 }).toBeGreaterThan(0);
      // ...and once the hub ends the socket of the first token, the app connects again on its own.
      const marker = page.locator(`.watch-marker[data-watch-id="${watch.deviceId}"]`);
      await marker.and(page.locator('[data-lat="52.52"]')).waitFor();
      await new Promise((r) => setTimeout(r, Math.max(0, signedInAt + 33_000 - Date.now())));
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
      expect((await report(52.521, 13.406)).ok).toBe(true);
      await marker.and(page.locator('[data-lat="52.521"]')).waitFor();
      // One renewal so far (at 80 % of the 30 s): the socket reconnected with that token.
      expect(requests.filter((r) => r === '/v1/auth/refresh')).toHaveLength(1);

      await reload();
      await heading(page, 'The Tiles: live map').waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await heading(page, 'Sign in').waitFor();
      expect((await context.cookies()).find((c) => c.name === 'hub_refresh')).toBeUndefined();
      // Signed out for good: a reload makes no refresh attempt (and so no 401).
      const before = requests.filter((r) => r === '/v1/auth/refresh').length;
      await reload();
      await heading(page, 'Sign in').waitFor();
      expect(requests.filter((r) => r === '/v1/auth/refresh').length).toBe(before);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await hub.close();
      tiles.close();
    }
  }, 120_000);
});

const tokens = new Map<string, string>();
/** A token of the scenario's owner for checking the hub's state over the API (a second session). */
async function ownerToken(email: string): Promise<string> {
  let token = tokens.get(email);
  if (!token) {
    const r = await api(t, 'POST', '/v1/auth/login', { body: { email, password: 'correct horse battery' } });
    token = r.body.accessToken as string;
    tokens.set(email, token);
  }
  return token;
}

/** A point given in page coordinates, as a position inside the map element. */
async function mapOffset(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const box = (await page.locator('.map').boundingBox())!;
  return { x: x - box.x, y: y - box.y };
}
