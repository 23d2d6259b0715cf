// The smart dev dashboard as a user sees it, in Chromium: FibPro runs under
// smart dev, requests go to it as curl would send them, and each test looks
// at a panel and saves a screenshot (under .test-results/smart-dev-browser).
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevSession } from '../../src/types.ts';
import { fib, startFibPro } from '../fibpro.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = resolve(import.meta.dirname, '../../../../.test-results/smart-dev-browser');

let fibpro: Awaited<ReturnType<typeof startFibPro>> | undefined;
let session: DevSession;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(SHOTS, { recursive: true });
  fibpro = await startFibPro();
  session = fibpro.session;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await fibpro?.stop();
});

const open = (hash: string) => page.goto(`${session.dashboardUrl}/#${hash}`);
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe('the smart dev dashboard', () => {
  it("shows alice's GET /10 as one waterfall with spans of fibfrontend, pricing and userstore", async () => {
    const answer = await fib(session, '/10', 'alice', 'wonderland', 'alice-10');
    expect(answer).toMatchObject({ status: 200, body: { fib: '55', cost: 4 } });
    await open('/traces');
    await page.getByTestId('trace-search').fill('alice-10');
    await page.getByTestId('trace-row').first().click({ timeout: 15_000 });
    const waterfall = page.getByTestId('waterfall');
    await waterfall.locator('[data-service="userstore"]').first().waitFor({ timeout: 15_000 });
    await waterfall.locator('[data-service="pricing"]').first().waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByTestId('trace-detail').locator('h2').textContent()).toContain('GET /:n');
    const services = await waterfall
      .getByTestId('span')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-service')));
    expect(new Set(services)).toEqual(new Set(['fibfrontend', 'pricing', 'userstore']));
    // One tree: the first row is fibfrontend's request, every other row is under it.
    expect(services[0]).toBe('fibfrontend');
    expect(await page.getByTestId('trace-detail').textContent()).toContain('request alice-10');
    // The database's spans are there, with their statement.
    expect(await waterfall.textContent()).toMatch(/db\.query\.text=update "users"|db\.query\.text=select/);
    await shot('alice-waterfall');
  });

  it("shows carol's failure as the RemoteError chain, from userstore up to fibfrontend", async () => {
    const answer = await fib(session, '/5', 'carol', 'password', 'carol-1');
    expect(answer.status).toBe(502);
    await open('/traces/carol-1');
    const chain = page.getByTestId('error-chain');
    await chain.waitFor({ timeout: 15_000 });
    // Each hop's status is what that service answered (its server span; spans arrive within half a second).
    await expect
      .poll(() => chain.locator('li').allTextContents(), { timeout: 10_000 })
      .toEqual([
        expect.stringMatching(/^userstore 500 USERSTORE_UNSUPPORTED_HASH unsupported password hash scheme "md5"/),
        expect.stringMatching(
          /^fibfrontend 502 SMART_CLIENT_REMOTE_ERROR userstore answered 500 USERSTORE_UNSUPPORTED_HASH/,
        ),
      ]);
    // The failing spans are marked in the waterfall.
    expect(await page.locator('[data-testid="span"] .span-bar.error').count()).toBeGreaterThanOrEqual(3);
    await shot('carol-remote-error-chain');
  });

  it("edits pricing's surcharge in the Config panel: Atlas gets it, the next answer costs more, a bad value shows why", async () => {
    await open('/config/pricing');
    await page.getByTestId('config-filter').fill('pricing.');
    const row = page.locator('[data-testid="config-key"][data-key="pricing.surcharge"]');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getByTestId('config-source').textContent()).toBe('defaults');
    await row.getByTestId('config-edit').click();
    await row.getByTestId('config-input').fill('3');
    await row.getByTestId('config-save').click();
    await page.getByTestId('config-ok').waitFor({ timeout: 10_000 });
    await expect.poll(() => row.getByTestId('config-source').textContent()).toBe('atlas');
    expect(await row.getByTestId('config-value').textContent()).toBe('3');
    expect((await fib(session, '/10', 'alice', 'wonderland')).body).toMatchObject({ cost: 4 + 3 });

    await row.getByTestId('config-edit').click();
    await row.getByTestId('config-input').fill('-1');
    await row.getByTestId('config-save').click();
    const error = page.getByTestId('config-error');
    await error.waitFor({ timeout: 10_000 });
    // Refused by Atlas (it checks values against the schema pricing published) or else by pricing itself.
    expect(await error.textContent()).toMatch(
      /pricing\.surcharge.*(must be >= 0|Too small: expected number to be >=0)/,
    );
    await shot('config-edit-rejected');
    expect((await fib(session, '/10', 'alice', 'wonderland')).body).toMatchObject({ cost: 7 });
    // Secrets are never sent to the page: the config endpoint's answer has no secret value in it.
    const config = await (await fetch(`${session.dashboardUrl}/api/config/userstore`)).json();
    for (const key of (config as { keys: { secret: boolean; value: unknown }[] }).keys.filter((k) => k.secret)) {
      expect([undefined, '[redacted]']).toContain(key.value);
    }
  });

  it('shows only the lines of the request id typed in the Logs filter, and links it to its trace', async () => {
    await fib(session, '/3', 'alice', 'wonderland', 'logs-a');
    await fib(session, '/4', 'alice', 'wonderland', 'logs-b');
    await open('/logs');
    await page.getByTestId('log-request-id').fill('logs-a');
    const lines = page.getByTestId('log-line');
    await expect.poll(() => lines.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    const ids = await lines.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-request-id')));
    expect(new Set(ids)).toEqual(new Set(['logs-a']));
    const text = await page.getByTestId('log-lines').textContent();
    for (const service of ['fibfrontend', 'pricing', 'userstore']) expect(text).toContain(service);
    await shot('logs-request-filter');
    await page.getByTestId('log-request-link').first().click();
    await page.getByTestId('waterfall').locator('[data-service="pricing"]').first().waitFor({ timeout: 15_000 });
    expect(page.url()).toContain('#/traces/logs-a');
  });

  it('lists every service and instance, drains an instance and restarts a service; charts the rates in the Monitor panel', async () => {
    await open('/services');
    for (const name of ['fibfrontend', 'pricing', 'userstore']) {
      const row = page.getByTestId(`service-${name}`);
      await row.waitFor({ timeout: 10_000 });
      expect(await row.textContent()).toContain('running');
    }
    expect(await page.getByTestId('services').textContent()).toMatch(/up.*1\.0\.0/s);
    await shot('services');
    // Drain pricing's one instance: Atlas stops resolving it, so fibfrontend cannot price; undrain, and it can.
    const pricing = page.locator('tr.sub', {
      has: page.locator('td', { hasText: session.services.get('pricing')?.url ?? '?' }),
    });
    await pricing.getByRole('button', { name: 'Drain' }).click();
    await expect.poll(() => pricing.textContent(), { timeout: 10_000 }).toContain('drained');
    await expect
      .poll(async () => (await fib(session, '/0', 'alice', 'wonderland')).status, { timeout: 10_000 })
      .toBe(503);
    await pricing.getByRole('button', { name: 'Undrain' }).click();
    await expect.poll(() => pricing.textContent(), { timeout: 10_000 }).toContain('up');
    await expect
      .poll(async () => (await fib(session, '/0', 'alice', 'wonderland')).status, { timeout: 10_000 })
      .toBe(200);
    for (let i = 0; i < 5; i++) await fib(session, '/1', 'alice', 'wonderland');
    await open('/monitor');
    const card = page.locator('[data-testid="monitor-card"][data-series="fibfrontend → pricing"]');
    await card.waitFor({ timeout: 15_000 });
    await expect
      .poll(() => card.getByTestId('monitor-latest').textContent(), { timeout: 15_000 })
      .toMatch(/^[1-9]|^0\.[0-9]*[1-9]/);
    expect(await page.locator('[data-testid="monitor-card"] canvas').count()).toBeGreaterThanOrEqual(6);
    await shot('monitor');
    // Restart pricing from the Services panel: a new process (its restarts count), on the same URL, answering again.
    const before = session.services.get('pricing');
    const pid = before?.pid;
    await open('/services');
    await page.getByTestId('restart-pricing').click();
    await expect.poll(() => session.services.get('pricing')?.restarts, { timeout: 15_000 }).toBe(1);
    await expect.poll(() => page.getByTestId('service-pricing').locator('td').nth(5).textContent()).toBe('1');
    expect(session.services.get('pricing')?.pid).not.toBe(pid);
    await expect
      .poll(async () => (await fib(session, '/0', 'alice', 'wonderland')).status, { timeout: 15_000 })
      .toBe(200);
  });
});
