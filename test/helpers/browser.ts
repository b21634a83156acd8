// Browser test helpers: the web build (made when stale), Debian's Chromium driven by
// playwright-core with fake camera and microphone, pages that record every console error and
// failed request (the scenario must end with none), and screenshots as artifacts.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WEB_DIST = join(ROOT, 'dist', 'web');
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

export const PHONE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1280, height: 800 } as const;

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((n) => newestMtime(join(path, n))));
}

/** Builds dist/web with Vite when it is missing or older than its sources (web/ and the contract it imports). */
export async function ensureWebBuild(): Promise<void> {
  const index = join(WEB_DIST, 'index.html');
  const sources = Math.max(newestMtime(join(ROOT, 'web')), newestMtime(join(ROOT, 'src', 'contract')));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
}

/** Debian's Chromium, headless, with a fake camera and microphone (`extraArgs`: e.g. the fake camera's video file). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      ...extraArgs,
    ],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors, failed requests and HTTP errors seen so far. */
  problems: string[];
  /** Every request URL (path and query) the page made. */
  requests: string[];
  /** Reloads the page; requests the reload itself cuts short are not problems. */
  reload(): Promise<void>;
}

/** A page in its own context (its own cookies), recording everything that went wrong. */
export async function openPage(
  browser: Browser,
  baseURL: string,
  viewport: { width: number; height: number } = PHONE,
): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport, acceptDownloads: true });
  await context.grantPermissions(['camera', 'microphone'], { origin: baseURL });
  return watchPage(context);
}

/** A new page of the context, recording everything that went wrong. */
export async function watchPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  let reloading = false;
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Aborted by design: a download's blob: navigation, requests cut by a reload the test makes,
    // and map tiles Leaflet stops loading when the view moves on. Anything else is a failure.
    const failure = r.failure()?.errorText ?? '';
    const aborted = failure.includes('ERR_ABORTED') && (reloading || r.url().startsWith('blob:') || r.resourceType() === 'image');
    if (!aborted) problems.push(`request failed: ${r.url()} ${failure}`);
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    requests.push(u.protocol.startsWith('http') ? u.pathname + u.search : r.url());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  const reload = async () => {
    reloading = true;
    try {
      await page.reload();
    } finally {
      reloading = false;
    }
  };
  return { page, context, problems, requests, reload };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}
