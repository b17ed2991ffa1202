/// <reference lib="dom" /> // page.evaluate callbacks run in the browser
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startApp } from '../../helpers/app';
import { PIG, readTestFile } from '../../helpers/data';

/** Debian's chromium (.ci/run installs it); never a browser download. */
const CHROMIUM = process.env.ADVPROBE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', '..', 'test-artifacts');
const available = existsSync(CHROMIUM);
if (!available && !process.env.CI) console.warn(`playground browser test skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set ADVPROBE_CHROMIUM)`);

(available || process.env.CI ? describe : describe.skip)('the playground in a real browser', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  /** Empties `problems`, returning those that are not the console errors a test provoked on purpose. */
  const unexpectedProblems = (provoked: RegExp): string[] => problems.splice(0).filter((p) => !provoked.test(p));
  const errorsText = async () => (await page.textContent('#errors')) ?? '';

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
    // Records object URLs as they are made and revoked (init scripts are not subject to the CSP).
    await page.addInitScript(() => {
      const urls = { created: [] as string[], revoked: [] as string[] };
      (window as unknown as { objectUrls: typeof urls }).objectUrls = urls;
      const { createObjectURL, revokeObjectURL } = URL;
      URL.createObjectURL = (obj: Blob | MediaSource) => {
        const url = createObjectURL(obj);
        urls.created.push(url);
        return url;
      };
      URL.revokeObjectURL = (url: string) => {
        urls.revoked.push(url);
        revokeObjectURL(url);
      };
    });
    await page.goto(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('classifies the pig, runs a 5-step attack and shows the three images and the new top-1', async () => {
    await page.setInputFiles('#file', { name: 'pig.jpg', mimeType: 'image/jpeg', buffer: readTestFile(...PIG) });
    await page.waitForFunction(() => document.querySelector('#clean-top5 li')?.textContent?.includes('hog'));
    // The preview's object URL is revoked once the image is shown.
    await page.waitForFunction(() => {
      const { created, revoked } = (window as unknown as { objectUrls: { created: string[]; revoked: string[] } }).objectUrls;
      return created.length === 1 && revoked.includes(created[0]);
    });
    expect(await page.$eval('#preview', (img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
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
    // Labelled axes: step numbers below, loss ticks, and probability decades on a log scale.
    const chartText = await page.$$eval('#chart text', (texts) => texts.map((t) => t.textContent));
    expect(chartText).toEqual(expect.arrayContaining(['step', 'loss', 'probability', '0', '5', '1']));
    expect(chartText.filter((t) => /^(0\.0*1|10⁻[⁰¹²³⁴⁵⁶⁷⁸⁹]+)$/.test(t ?? '')).length).toBeGreaterThanOrEqual(3); // decades below 1
    expect(chartText.filter((t) => /^-?\d+(\.\d+)?$/.test(t ?? '')).length).toBeGreaterThanOrEqual(8); // loss and step ticks
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

  it('takes ε for L2 in pixel units and sends it as a plain number', async () => {
    expect(await page.textContent('label[for=eps]')).toBe('ε (/255)');
    const linfEps = await page.inputValue('#eps'); // 8, from the Square test
    await page.selectOption('#norm', 'l2');
    expect(await page.textContent('label[for=eps]')).toBe('ε (L2, pixel units)');
    expect(await page.inputValue('#eps')).toBe('1');
    await page.fill('#eps', '0.5');
    await page.fill('#steps', '5');
    let epsilon: string | undefined;
    await page.route('**/v1/attacks', async (route) => {
      const body = route.request().postDataBuffer()?.toString('latin1') ?? '';
      epsilon = /name="epsilon"\r\n\r\n([^\r]*)\r\n/.exec(body)?.[1];
      await route.continue();
    });
    try {
      await page.click('#start');
      await page.waitForFunction(() => document.querySelector('#verdict')?.textContent?.includes('‖δ‖₂'), undefined, { timeout: 90_000 });
    } finally {
      await page.unroute('**/v1/attacks');
    }
    expect(epsilon).toBe('0.5');
    // Back to L∞: its own value and units again.
    await page.selectOption('#norm', 'linf');
    expect(await page.inputValue('#eps')).toBe(linfEps);
    expect(await page.textContent('label[for=eps]')).toBe('ε (/255)');
    expect(problems).toEqual([]);
  });

  it('shows the API refusing an attack, with Start usable again', async () => {
    // Valid for the form, too much for the API: 200 steps × 9 targets > ADVPROBE_MAX_STEPS.
    await page.selectOption('#attack', 'apgd-t');
    await page.fill('#steps', '200');
    await page.fill('#targets', '9');
    await page.click('#start');
    await page.waitForFunction(() => document.querySelector('#errors')?.textContent?.includes('refused'));
    expect(await errorsText()).toMatch(/The attack was refused: steps: .*must be at most .*\(invalid_parameter\)/);
    expect(await page.isVisible('#errors p')).toBe(true);
    expect(await page.isEnabled('#start')).toBe(true);
    expect(await page.isDisabled('#cancel')).toBe(true);
    await page.selectOption('#attack', 'pgd');
    await page.fill('#steps', '5');
    expect(unexpectedProblems(/status of 400/)).toEqual([]);
  });

  it('shows a network failure, with Start usable again', async () => {
    await page.route('**/v1/attacks', (route) => route.abort());
    try {
      await page.click('#start');
      await page.waitForFunction(() => document.querySelector('#errors')?.textContent?.includes('could not reach the service'));
    } finally {
      await page.unroute('**/v1/attacks');
    }
    expect(await errorsText()).toContain('The attack could not start');
    expect(await errorsText()).not.toContain('refused'); // the earlier error was replaced, not added to
    expect(await page.textContent('#status')).not.toContain('Queued');
    expect(await page.isEnabled('#start')).toBe(true);
    expect(await page.isDisabled('#cancel')).toBe(true);
    expect(unexpectedProblems(/net::ERR_FAILED/)).toEqual([]);
  });

  it('shows an event stream that ends before the attack finished, with Start usable again', async () => {
    // A job that is accepted and then streams one step before the connection ends.
    await page.route('**/v1/attacks', (route) =>
      route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ id: 'cut-short', status: 'queued', location: '/v1/jobs/cut-short' }) }),
    );
    const step = { step: 0, steps: 5, loss: -0.2, trueProbability: 0.8, targetProbability: null, epsilon: 2 / 255 };
    await page.route('**/v1/jobs/*/events', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/event-stream',
        body: `event: status\ndata: {"id":"cut-short","status":"running","progress":null}\n\nid: 1\nevent: progress\ndata: ${JSON.stringify(step)}\n\n`,
      }),
    );
    try {
      await page.click('#start');
      await page.waitForFunction(() => document.querySelector('#errors')?.textContent?.includes('cut-short'));
    } finally {
      await page.unroute('**/v1/attacks');
      await page.unroute('**/v1/jobs/*/events');
    }
    expect(await errorsText()).toContain('the stream ended before the attack finished');
    expect(await page.textContent('#status')).toBe('The attack did not finish.');
    expect(await page.$$eval('#chart polyline', (lines) => lines.length)).toBe(2); // the one step it did get
    expect(await page.isEnabled('#start')).toBe(true);
    expect(await page.isDisabled('#cancel')).toBe(true);
    expect(problems).toEqual([]);
  });

  it('labels every control, can be driven from the keyboard, and fits a phone screen', async () => {
    const unlabelled = await page.$$eval('input, select, button', (els) =>
      els.filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label') && !el.textContent?.trim()).map((el) => el.id),
    );
    expect(unlabelled).toEqual([]);
    // The drop zone is in the tab order between the file input and the API key, and Enter on it opens the file chooser.
    await page.focus('#drop');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('file');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('drop');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('API key');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 5000 }), page.focus('#drop').then(() => page.keyboard.press('Enter'))]);
    expect(chooser.isMultiple()).toBe(false);
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.screenshot({ path: path.join(ARTIFACTS, 'playground-phone.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('says so when the class labels cannot be loaded', async () => {
    await page.route('**/v1/models/resnet50/labels', (route) => route.abort());
    try {
      await page.reload();
      await page.waitForFunction(() => document.querySelector('#errors')?.textContent?.includes('class labels'));
    } finally {
      await page.unroute('**/v1/models/resnet50/labels');
    }
    expect(await page.isVisible('#errors p')).toBe(true);
    expect(await errorsText()).toContain('could not reach the service');
    expect(unexpectedProblems(/net::ERR_FAILED/)).toEqual([]);
    // The page stays usable: an image can be chosen and classified.
    await page.setInputFiles('#file', { name: 'pig.jpg', mimeType: 'image/jpeg', buffer: readTestFile(...PIG) });
    await page.waitForFunction(() => document.querySelector('#clean-top5 li')?.textContent?.includes('hog'));
    expect(await page.isEnabled('#start')).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360); // the message wraps
    expect(problems).toEqual([]);
  });
});
