// The dashboard in a real browser (Debian's chromium through playwright-core), against a real emulator and the
// real client. Skipped only outside CI when chromium is not installed; in CI a missing browser fails.
import { createBroadcastClient, custom, file, image, relay, sound, text, video, type BroadcastClient } from '@tim-broadcast/core';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/index';
import { recordOutput } from '../../../testing/secret-scan.setup';
import { HAVE_CHROMIUM, imageServer, launchBrowser, SAMPLE_SVG, type Browser } from './browser';

// Inside page.evaluate() callbacks, which run in the browser (this package is type-checked without the DOM lib).
declare const window: Record<string, unknown>;
declare const document: { documentElement: { scrollWidth: number }; body: unknown; scripts: Iterable<{ getAttribute(name: string): string | null }> };
declare function getComputedStyle(element: unknown): { backgroundColor: string };
type Img = { complete: boolean; naturalWidth: number };

const APP = { sdkAppId: 1400000088, secretKey: 'dashboard-secret-0123456789', admin: 'administrator' };

describe.skipIf(!HAVE_CHROMIUM && !process.env.CI)('dashboard in chromium', () => {
  let browser: Browser;
  const open: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    // pages first, so no EventSource is left reconnecting to a closed emulator
    for (const page of browser.context.pages()) await page.close();
    await Promise.all(open.splice(0).map((x) => x.close()));
    expect(browser.problems.splice(0)).toEqual([]);
  });

  async function emulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
    const emu = await startEmulator({ ...APP, ratePerSecond: Infinity, ...options });
    open.push(emu);
    return emu;
  }

  function client(emu: Emulator): BroadcastClient {
    return createBroadcastClient({
      sdkAppId: APP.sdkAppId,
      secretKey: APP.secretKey,
      identifier: APP.admin,
      baseUrl: emu.url,
      retry: false,
      hooks: { onRequest: recordOutput, onResponse: recordOutput },
    });
  }

  const cards = (page: Page) => page.locator('#deliveries > li');
  const counter = (page: Page, id: string) => page.locator(`#c-${id}`);

  it('loads with past deliveries, each element rendered, and no console errors', async () => {
    const images = await imageServer(SAMPLE_SVG);
    open.push(images);
    const emu = await emulator();
    const c = client(emu);
    await c.broadcast({ MsgBody: [text('Doors open at 19:00')], From_Account: 'ops', CloudCustomData: '{"campaign":"spring"}' });
    await c.broadcast({
      MsgBody: [
        custom({ Data: '{"type":"score","home":2,"away":1}', Desc: 'Goal!', Ext: 'ext-1' }),
        image({ UUID: 'img-1', ImageFormat: 3, ImageInfoArray: [{ Type: 1, Width: 1280, Height: 720, URL: `${images.url}/original.svg` }, { Type: 3, Width: 320, Height: 180, URL: `${images.url}/thumb.svg` }] }),
        { MsgType: 'TIMLocationElem', MsgContent: { Desc: 'Main stage', Latitude: 1.2834, Longitude: 103.8607 } },
        { MsgType: 'TIMFaceElem', MsgContent: { Index: 3, Data: 'smile' } },
        sound({ Url: 'https://cos.example.com/a.mp3', UUID: 'snd-1', Size: 2048, Second: 4 }),
        file({ Url: 'https://cos.example.com/rules.pdf', UUID: 'f-1', FileName: 'rules.pdf', FileSize: 1_500_000 }),
      ],
    });
    await c.broadcast({
      MsgBody: [
        video({ VideoUrl: 'https://cos.example.com/v.mp4', VideoUUID: 'v-1', VideoSecond: 12, VideoFormat: 'mp4', ThumbUrl: `${images.url}/vthumb.svg`, ThumbUUID: 't-1', ThumbWidth: 320, ThumbHeight: 180 }),
        relay({ Title: 'Chat history', MsgNum: 1, CompatibleText: 'upgrade to see this', MsgList: [{ From_Account: 'alice', MsgTimeStamp: 1_700_000_000, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'nested hello' } }] }] }),
      ],
    });

    emu.setFaults({ script: ['throttle10023'] });
    await expect(c.broadcast({ MsgBody: [text('refused before the page opened')] })).rejects.toMatchObject({ code: 10023 });

    const page = await browser.open(`${emu.url}/`);
    await expect.poll(() => cards(page).count()).toBe(3);
    expect(await page.locator('#activity li').allTextContents()).toEqual([expect.stringContaining('fault throttle10023')]);
    // newest first
    expect(await cards(page).first().getAttribute('data-msgseq')).toBe('3');
    const first = cards(page).last();
    await expect.poll(() => first.textContent()).toContain('Doors open at 19:00');
    expect(await first.textContent()).toContain('from ops');
    expect(await first.locator('.cloud pre').textContent()).toBe(JSON.stringify({ campaign: 'spring' }, null, 2));

    const second = cards(page).nth(1);
    expect(await second.locator('[data-type="TIMCustomElem"] pre').textContent()).toBe(JSON.stringify({ type: 'score', home: 2, away: 1 }, null, 2));
    expect(await second.locator('[data-type="TIMCustomElem"]').textContent()).toContain('Goal!');
    expect(await second.locator('[data-type="TIMLocationElem"]').textContent()).toContain('Main stage');
    expect(await second.locator('[data-type="TIMLocationElem"]').textContent()).toContain('103.8607');
    expect(await second.locator('[data-type="TIMFaceElem"]').textContent()).toContain('smile');
    expect(await second.locator('[data-type="TIMSoundElem"] a').getAttribute('href')).toBe('https://cos.example.com/a.mp3');
    expect(await second.locator('[data-type="TIMFileElem"]').textContent()).toContain('rules.pdf');
    expect(await second.locator('[data-type="TIMFileElem"]').textContent()).toContain('1.4 MB');
    // the thumbnail (Type 3) is loaded by the browser, from the image server, and actually decodes
    const thumb = second.locator('[data-type="TIMImageElem"] img');
    expect(await thumb.getAttribute('src')).toBe(`${images.url}/thumb.svg`);
    await expect.poll(() => thumb.evaluate((img: Img) => img.complete && img.naturalWidth)).toBe(320);
    expect(images.requests).toContain('/thumb.svg');
    expect(images.requests).not.toContain('/original.svg');

    const third = cards(page).first();
    await expect.poll(() => third.locator('[data-type="TIMVideoFileElem"] img').evaluate((img: Img) => img.complete && img.naturalWidth)).toBe(320);
    expect(await third.locator('.relay').textContent()).toContain('Chat history');
    expect(await third.locator('.relay [data-type="TIMTextElem"]').textContent()).toContain('nested hello');
    expect(await third.locator('.relay').textContent()).toContain('alice');

    expect(await counter(page, 'accepted').textContent()).toBe('3');
    expect(await counter(page, 'requests').textContent()).toBe('4');
    expect(await counter(page, 'throttled').textContent()).toBe('1');
    expect(await page.locator('#app').textContent()).toContain(String(APP.sdkAppId));
    expect(await page.locator('#status').textContent()).toBe('live');
  });

  it('shows a broadcast sent after load without a reload, and 10023, duplicates and faults as they happen', async () => {
    const emu = await emulator({ ratePerSecond: 1 });
    const page = await browser.open(`${emu.url}/`);
    await expect.poll(() => page.locator('#status').textContent()).toBe('live');
    expect(await page.locator('#empty').isVisible()).toBe(true);
    await page.evaluate(() => (window.__marker = 1));

    const c = client(emu);
    const { MsgSeq, Random } = await c.broadcast({ MsgBody: [text('live one')] });
    await expect.poll(() => cards(page).count()).toBe(1);
    expect(await cards(page).first().textContent()).toContain('live one');
    expect(await page.locator('#empty').isVisible()).toBe(false);

    // the same message again within the second: 10023; after the window, a duplicate; then an injected fault
    await expect(c.broadcast({ MsgBody: [text('too soon')] })).rejects.toMatchObject({ code: 10023 });
    await expect.poll(() => counter(page, 'throttled').textContent()).toBe('1');
    emu.setConfig({ ratePerSecond: Infinity });
    expect((await c.broadcast({ MsgBody: [text('live one')], Random })).MsgSeq).toBe(MsgSeq);
    await expect.poll(() => counter(page, 'duplicates').textContent()).toBe('1');
    emu.setFaults({ script: ['error10002'] });
    await expect(c.broadcast({ MsgBody: [text('faulted')] })).rejects.toMatchObject({ code: 10002 });
    await expect.poll(() => counter(page, 'faults').textContent()).toBe('1');

    const lines = await page.locator('#activity li').allTextContents();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('fault error10002');
    expect(lines[1]).toContain(`duplicate: answered with MsgSeq ${MsgSeq}`);
    expect(lines[2]).toContain('10023');
    expect(await cards(page).count()).toBe(1);
    expect(await counter(page, 'requests').textContent()).toBe('4');
    // the same document all along
    expect(await page.evaluate(() => window.__marker)).toBe(1);

    emu.reset();
    await expect.poll(() => cards(page).count()).toBe(0);
    expect(await counter(page, 'requests').textContent()).toBe('0');
  });

  it('shows how many requests were merged into each call, on load and live', async () => {
    const emu = await emulator();
    const c = client(emu);
    await c.broadcast({ MsgBody: [text('one'), text('two'), text('three')] }, { batchSize: 3 });
    await c.broadcast({ MsgBody: [text('alone')] });
    const page = await browser.open(`${emu.url}/`);
    await expect.poll(() => cards(page).count()).toBe(2);
    const merged = (msgSeq: number) => page.locator(`#deliveries > li[data-msgseq="${msgSeq}"] .merged`);
    expect(await merged(1).textContent()).toBe('3 requests merged');
    expect(await merged(2).textContent()).toBe('1 request');

    // a delivery arriving through the event stream shows it too
    await c.broadcast({ MsgBody: [text('four'), text('five')] }, { batchSize: 2 });
    await expect.poll(() => cards(page).count()).toBe(3);
    expect(await merged(3).textContent()).toBe('2 requests merged');
    expect(emu.deliveries.map((d) => d.batchSize)).toEqual([3, 1, 2]);
  });

  it('renders an XSS payload as text and runs nothing', async () => {
    const emu = await emulator();
    const c = client(emu);
    const payload = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><svg onload="window.__pwned=3">`;
    await c.broadcast({
      From_Account: `<img src=x onerror="window.__pwned=4">`,
      CloudCustomData: payload,
      MsgBody: [
        text(payload),
        custom({ Data: JSON.stringify({ html: payload }), Desc: payload }),
        file({ Url: 'javascript:window.__pwned=5', UUID: 'f', FileName: payload }),
        { MsgType: 'TIMLocationElem', MsgContent: { Desc: payload, Latitude: 0, Longitude: 0 } },
      ],
    });
    const page = await browser.open(`${emu.url}/`);
    await expect.poll(() => cards(page).count()).toBe(1);
    const card = cards(page).first();
    expect(await card.locator('[data-type="TIMTextElem"] .text').textContent()).toBe(payload);
    expect(await card.locator('[data-type="TIMCustomElem"] pre').textContent()).toContain(JSON.stringify(payload).slice(1, -1));
    expect(await card.textContent()).toContain(`from <img src=x onerror="window.__pwned=4">`);
    // a javascript: URL is not made a link
    expect(await card.locator('[data-type="TIMFileElem"] a').count()).toBe(0);
    await card.locator('[data-type="TIMFileElem"] dd').last().click();

    // and a payload arriving live, through SSE, is as inert
    await c.broadcast({ MsgBody: [text(`${payload} live`)] });
    await expect.poll(() => cards(page).count()).toBe(2);
    await page.waitForTimeout(200); // give an injected onerror/onload a chance to fire, if there were one

    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.evaluate(() => [...document.scripts].map((s) => s.getAttribute('src')))).toEqual(['/__emulator/dashboard.js']);
    expect(await page.locator('#deliveries img, #deliveries svg, #deliveries script, #deliveries [onerror], #deliveries [onload]').count()).toBe(0);
  });

  it('changes the emulator through its controls: broadcast switch, rate, rate model, fault rate, reset', async () => {
    const emu = await emulator({ ratePerSecond: 1, faults: { kinds: ['error10002'], seed: 5 } });
    const c = client(emu);
    await c.broadcast({ MsgBody: [text('before')] });
    const page = await browser.open(`${emu.url}/`);
    await expect.poll(() => cards(page).count()).toBe(1);
    const saved = () => page.locator('#settings-status').textContent();

    await page.locator('#broadcast-enabled').uncheck();
    await expect.poll(() => emu.config.broadcastEnabled).toBe(false);
    await expect(c.broadcast({ MsgBody: [text('switched off')] })).rejects.toMatchObject({ code: 10007 });
    await page.locator('#broadcast-enabled').check();
    await expect.poll(() => emu.config.broadcastEnabled).toBe(true);

    await page.locator('#rate').fill('5');
    await page.locator('#rate').press('Tab');
    await expect.poll(() => emu.config.ratePerSecond).toBe(5);
    await page.locator('#rate').fill('');
    await page.locator('#rate').press('Tab');
    await expect.poll(() => emu.config.ratePerSecond).toBe(Infinity);
    await page.locator('#rate-model').selectOption('spacing');
    await expect.poll(() => emu.config.rateModel).toBe('spacing');

    await page.locator('#fault-rate').fill('1');
    await page.locator('#fault-rate').press('Tab');
    await expect.poll(() => emu.faults.rate).toBe(1);
    expect(await saved()).toBe('Saved.');
    // the rest of the plan is kept: only the rate changed
    expect(emu.faults).toMatchObject({ kinds: ['error10002'], seed: 5 });
    await expect(c.broadcast({ MsgBody: [text('doomed')] })).rejects.toMatchObject({ code: 10002 });
    expect(emu.stats.faults.error10002).toBe(1);
    await page.locator('#fault-rate').fill('0');
    await page.locator('#fault-rate').press('Tab');
    await expect.poll(() => emu.faults.rate).toBe(0);

    // a value the emulator refuses is reported on the page, and changes nothing
    await page.locator('#fault-rate').fill('3');
    await page.locator('#fault-rate').press('Tab');
    await expect.poll(saved).toContain('Not saved');
    expect(emu.faults.rate).toBe(0);

    await page.locator('#reset').click();
    await expect.poll(() => emu.stats.requests).toBe(0);
    expect(emu.deliveries).toEqual([]);
    await expect.poll(() => cards(page).count()).toBe(0);
    // the settings made through the page went through the control API: the same values are read back there
    const config = await (await fetch(`${emu.url}/__emulator/config`)).json();
    expect(config).toEqual({ config: { broadcastEnabled: true, ratePerSecond: null, rateModel: 'spacing' } });
  });

  it('filters deliveries by text', async () => {
    const emu = await emulator();
    const c = client(emu);
    for (const word of ['apple pie', 'banana split', 'apple crumble']) await c.broadcast({ MsgBody: [text(word)] });
    const page = await browser.open(`${emu.url}/`);
    await expect.poll(() => cards(page).count()).toBe(3);
    await page.locator('#filter').fill('APPLE');
    expect(await page.locator('#deliveries > li:visible').count()).toBe(2);
    expect(await page.locator('#shown').textContent()).toBe('(2 of 3)');
    // a new delivery that does not match arrives hidden
    await c.broadcast({ MsgBody: [text('cherry')] });
    await expect.poll(() => cards(page).count()).toBe(4);
    expect(await page.locator('#deliveries > li:visible').count()).toBe(2);
    await page.locator('#filter').fill('');
    expect(await page.locator('#deliveries > li:visible').count()).toBe(4);
  });

  it('fits a phone-width window and follows the light/dark preference', async () => {
    const emu = await emulator();
    await client(emu).broadcast({ MsgBody: [text(`a long unbroken line ${'x'.repeat(300)}`)] });
    const phone = await browser.open(`${emu.url}/`, { width: 375, height: 740, colorScheme: 'dark' });
    await expect.poll(() => cards(phone).count()).toBe(1);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= (window.innerWidth as number))).toBe(true);
    const light = await browser.open(`${emu.url}/`, { colorScheme: 'light' });
    const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await background(phone)).not.toBe(await background(light));
  });

  it('serves the page with a Content-Security-Policy and its script as a file of its own', async () => {
    const emu = await emulator();
    const page = await fetch(`${emu.url}/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script
    expect(html).toContain('<script src="/__emulator/dashboard.js" defer></script>');
    for (const asset of ['dashboard.js', 'dashboard.css']) expect((await fetch(`${emu.url}/__emulator/${asset}`)).status).toBe(200);
  });
});
