/// <reference lib="dom" /> // page.evaluate callbacks run in the browser
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startApp } from '../helpers/app';
import { PIG, readTestFile } from '../helpers/data';

/** Debian's chromium (.ci/run installs it); never a browser download. */
const CHROMIUM = process.env.ADVPROBE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
const available = existsSync(CHROMIUM);
if (!available && !process.env.CI) console.warn(`playground browser test skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set ADVPROBE_CHROMIUM)`);

(available || process.env.CI ? describe : describe.skip)('the playground in a real browser', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    app = await startApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text())); // CSP violations land here
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('classifies the pig, runs a 5-step attack and shows the three images and the new top-1', async () => {
    await page.setInputFiles('#file', { name: 'pig.jpg', mimeType: 'image/jpeg', buffer: readTestFile(...PIG) });
    await page.waitForFunction(() => document.querySelector('#clean-top5 li')?.textContent?.includes('hog'));
    await page.fill('#steps', '5');
    await page.click('#start');
    await page.waitForSelector('#result:not([hidden])', { timeout: 90_000 });

    const sizes = await page.$$eval('#img-original, #img-adversarial, #img-delta', (imgs) => (imgs as HTMLImageElement[]).map((i) => [i.naturalWidth, i.getBoundingClientRect().width]));
    expect(sizes).toHaveLength(3);
    for (const [natural, shown] of sizes) {
      expect(natural).toBe(224);
      expect(shown).toBeGreaterThan(0);
    }
    const advTop1 = await page.textContent('#adv-top5 li');
    expect(advTop1).toBeTruthy();
    expect(advTop1).not.toContain('hog');
    expect(await page.textContent('#verdict')).toContain('now says');
    expect(await page.$$eval('#chart polyline', (lines) => lines.length)).toBeGreaterThanOrEqual(2);
    expect(await page.getAttribute('#dl-adversarial', 'href')).toMatch(/^data:image\/png;base64,/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'playground.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('runs the attack chosen in the dropdown with its own arguments (Square: queries, no steps)', async () => {
    await page.selectOption('#attack', 'square');
    expect(await page.isVisible('#queries')).toBe(true);
    expect(await page.isVisible('#steps')).toBe(false);
    await page.fill('#queries', '20');
    await page.fill('#eps', '8');
    await page.click('#start');
    await page.waitForFunction(() => document.querySelector('#verdict')?.textContent?.includes('square: 0 gradient'), undefined, { timeout: 90_000 });
    await page.selectOption('#attack', 'apgd-t');
    expect(await page.isDisabled('input[name=mode][value=targeted]')).toBe(true);
    expect(await page.isVisible('#targets')).toBe(true);
    await page.selectOption('#attack', 'pgd');
    expect(problems).toEqual([]);
  });

  it('cancels a running attack', async () => {
    await page.fill('#steps', '200');
    await page.click('#start');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Step'), undefined, { timeout: 30_000 });
    await page.click('#cancel');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Cancelled.', undefined, { timeout: 30_000 });
    expect(await page.isEnabled('#start')).toBe(true);
  });

  it('labels every control, can be driven from the keyboard, and fits a phone screen', async () => {
    const unlabelled = await page.$$eval('input, select, button', (els) =>
      els.filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label') && !el.textContent?.trim()).map((el) => el.id),
    );
    expect(unlabelled).toEqual([]);
    await page.focus('#drop');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBeTruthy();
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(problems).toEqual([]);
  });
});
