/// <reference lib="dom" />
/**
 * End-to-end harness: a real `npm run serve` (which builds the app) on a temporary
 * database, and Debian's Chromium driven by playwright-core. Screenshots go to
 * test-output/e2e/ for a person to look at.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS = join(ROOT, 'test-output', 'e2e');
export const CHROMIUM = '/usr/bin/chromium';

export interface Serve {
  url: string;
  origin: string;
  token: string;
  dir: string;
  db: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `npm run serve -- --db DIR/db.sqlite --port 0` and waits for the URL it prints. */
export async function startServe(): Promise<Serve> {
  const dir = mkdtempSync(join(tmpdir(), 'hetmem-e2e-'));
  const db = join(dir, 'db.sqlite');
  const child: ChildProcess = spawn('npm', ['run', 'serve', '--', '--db', db, '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so stop() ends npm, sh and node together
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm run serve printed no URL in 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = output.match(/Hetmem Workbench on (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm run serve exited (${code}) before printing a URL:\n${output}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    dir,
    db,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(-child.pid!, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'hetmem-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** A screenshot of one part of the page. */
export async function screenshotOf(part: Locator, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await part.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** How many pixels of a chart's canvas are not transparent: 0 for a chart that drew nothing. */
export function inkedPixels(chart: Locator): Promise<number> {
  return chart
    .locator('canvas')
    .first()
    .evaluate((canvas: HTMLCanvasElement) => {
      const ctx = canvas.getContext('2d');
      if (!ctx) return 0;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
}

/**
 * Loads exact text into the editor through its "Open…" file input, as a user opening a
 * file would (typing would meet Monaco's auto-closing and auto-indent).
 */
export async function setEditorText(page: Page, text: string, name = 'experiment.json'): Promise<void> {
  await page
    .getByLabel('Open an experiment file')
    .setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
}

/**
 * The text of `locator` now, '' when it is not on the page. For polls: a plain
 * textContent() waits for the element (Playwright's action timeout), so a poll whose
 * element never came would hang past its own timeout instead of retrying.
 */
export function textNow(locator: Locator): Promise<string> {
  return locator.textContent({ timeout: 500 }).then(
    (t) => t ?? '',
    () => '',
  );
}

/**
 * expect.poll with room for a loaded machine (vitest's default gives up after 1 s; the
 * suite shares 2 cores with simulations and a Chromium).
 */
export function eventually<T>(fn: () => T | Promise<T>, options: { timeout?: number; message?: string } = {}) {
  return expect.poll(fn, { timeout: 20_000, ...options });
}
