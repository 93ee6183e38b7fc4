// Makes docs/dashboard.png for the README: the built emulator, a few broadcasts of every kind, Debian's chromium.
// Run after `pnpm build`: `pnpm --filter @tim-broadcast/emulator screenshot` (CHROMIUM_PATH overrides /usr/bin/chromium).
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBroadcastClient, custom, image, relay, text, file } from '@tim-broadcast/core';
import { chromium } from 'playwright-core';
import { startEmulator } from '../dist/index.mjs';

const out = fileURLToPath(new URL('../docs/dashboard.png', import.meta.url));
const svg =
  '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" viewBox="0 0 320 180">' +
  '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#2563eb"/><stop offset="1" stop-color="#9333ea"/></linearGradient></defs>' +
  '<rect width="320" height="180" fill="url(#g)"/><circle cx="250" cy="50" r="28" fill="#fde68a"/>' +
  '<path d="M0 180 L90 90 L160 150 L220 110 L320 180 Z" fill="#1e293b" opacity="0.7"/></svg>';
const images = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(svg));
await new Promise((resolve) => images.listen(0, '127.0.0.1', resolve));
const imageUrl = `http://127.0.0.1:${images.address().port}`;

const app = { sdkAppId: 1400000000, secretKey: 'screenshot-only-secret', admin: 'administrator' };
const emu = await startEmulator({ ...app, ratePerSecond: Infinity });
const client = createBroadcastClient({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: app.admin, baseUrl: emu.url, retry: false });
await client.broadcast({ From_Account: 'ops', MsgBody: [text('Merch stand is open in hall B.')] });
await client.broadcast({
  MsgBody: [custom({ Data: JSON.stringify({ type: 'score', match: 'final', home: 2, away: 1 }), Desc: 'Goal!' })],
  CloudCustomData: '{"campaign":"spring"}',
});
await client.broadcast({
  From_Account: 'stage-cam',
  MsgBody: [
    text('Backstage right now:'),
    image({ UUID: 'backstage-1', ImageFormat: 3, ImageInfoArray: [{ Type: 3, Width: 320, Height: 180, URL: `${imageUrl}/thumb.svg` }] }),
    file({ Url: 'https://cos.example.com/setlist.pdf', UUID: 'setlist', FileName: 'setlist.pdf', FileSize: 182_000 }),
  ],
});
await client.broadcast({
  MsgBody: [relay({ Title: 'Highlights from the chat', MsgNum: 2, CompatibleText: '[chat history]', MsgList: [
    { From_Account: 'alice', MsgTimeStamp: 1_764_028_800, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'Best show this year!' } }] },
    { From_Account: 'bob', MsgTimeStamp: 1_764_028_860, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'Encore!' } }] },
  ] })],
});
// three announcements a coalescing queue merged into one call
await client.broadcast({ MsgBody: [text('Gates 1–4 are open.'), text('The cloakroom is in hall A.'), text('Food court closes at 23:00.')] }, { batchSize: 3 });
await client.broadcast({ MsgBody: [text('Doors open at 19:00. Welcome to the spring live show!')], Random: 7 });
await client.broadcast({ MsgBody: [text('Doors open at 19:00. Welcome to the spring live show!')], Random: 7 }); // a duplicate
emu.setConfig({ ratePerSecond: 1 });
await client.broadcast({ MsgBody: [text('one too many')] }).catch(() => undefined); // 10023
emu.setFaults({ script: ['http502'] });
await client.broadcast({ MsgBody: [text('unlucky')] }).catch(() => undefined);

const profile = await mkdtemp(join(tmpdir(), 'emulator-screenshot-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1200, height: 900 },
  colorScheme: 'light',
});
try {
  const page = await browser.newPage();
  await page.goto(`${emu.url}/`);
  await page.locator('#deliveries > li').nth(3).waitFor();
  await page.waitForFunction(() => [...document.images].every((img) => img.complete));
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await rm(profile, { recursive: true, force: true });
  await emu.close();
  images.close();
}
