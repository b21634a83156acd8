// The QR scanner of "Add a watch" reading a real QR code through the camera: Chromium's fake
// camera plays a video of the watch's QR code (made here with the qrcode package and ffmpeg), and
// the page must find the binding code in it, as a phone pointed at the watch would.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild, launchChromium, openPage } from '../helpers/browser.js';
import { createFamily, provisionWatch, registerUser, startHub, type TestHub } from '../helpers/hub.js';

let t: TestHub;
let browser: Browser | undefined;
const dir = mkdtempSync(join(tmpdir(), 'hub-qr-'));

/** A few seconds of video showing `text` as a QR code, in the y4m format Chromium's fake camera plays. */
async function qrVideo(text: string): Promise<string> {
  const png = join(dir, 'qr.png');
  const video = join(dir, 'qr.y4m');
  await QRCode.toFile(png, text, { width: 360, margin: 4 });
  execFileSync('ffmpeg', [
    ...['-loglevel', 'error', '-y', '-loop', '1', '-i', png, '-t', '3', '-r', '10'],
    ...['-vf', 'pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p', '-f', 'yuv4mpegpipe', video],
  ]);
  return video;
}

beforeAll(async () => {
  await ensureWebBuild();
  t = await startHub();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('scanning a watch QR code', () => {
  it('fills in the binding code the QR code carries (a link holding it, as watch boxes print)', async () => {
    const owner = await registerUser(t, 'Scanner');
    const fid = await createFamily(t, owner, 'The Scanners');
    const watch = await provisionWatch(t);
    browser = await launchChromium([
      `--use-file-for-fake-video-capture=${await qrVideo(`https://hub.example/bind?code=${watch.bindingCode}`)}`,
    ]);

    const { page, problems } = await openPage(browser, t.url);
    await page.goto('/');
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: /The Scanners/ }).waitFor();
    await page.goto(`/#/f/${encodeURIComponent(fid)}/add`);
    await page.getByRole('heading', { level: 1, name: 'Add a watch to The Scanners' }).waitFor();

    const codeField = page.getByLabel('Binding code');
    expect(await codeField.inputValue()).toBe('');
    await page.getByRole('button', { name: "Scan the watch's QR code" }).click();
    await page.getByText('Code read from the QR code.').waitFor({ timeout: 15_000 });
    expect(await codeField.inputValue()).toBe(watch.bindingCode);
    // The camera is closed once the code is read.
    await page.getByLabel("Camera view: point it at the watch's QR code").waitFor({ state: 'detached' });

    // And the code read is one the hub accepts.
    await page.getByLabel("Child's name").fill('Noah');
    await page.getByRole('button', { name: 'Add the watch' }).click();
    await page.getByRole('heading', { level: 1, name: "Noah's watch" }).waitFor();
    expect(problems).toEqual([]);
  }, 60_000);
});
