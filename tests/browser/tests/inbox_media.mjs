// Inbound media in a real browser: a customer sends a photo of a receipt (a signed image webhook);
// the host fetches it from the Graph API played here (lookup, then the download URL, both with the
// token) and the conversation shows the image, loaded through the media route, beside a second
// image whose id Meta no longer knows (its failure and reason, with a retry button). In English,
// French and Arabic, on a wide window and on a phone, with a screenshot of each.
import { cloudApiHost, startGraph } from '../graph.mjs';
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const secret = 'browser-test-app-secret';
const token = 'browser-test-token';
const receipt = readFileSync(path.join(process.env.TAWASUL_SOURCE_DIR || '../..', 'tests/fixtures/media/receipt.png'));
const receiptSha = crypto.createHash('sha256').update(receipt).digest('hex');
const mediaDir = path.join(mkdtempSync(path.join(tmpdir(), 'tawasul-browser-media-')), 'media');

const calls = { lookups: 0, downloads: 0, unauthorised: 0 };
const graph = await startGraph({
  answer(request, body, response, url) {
    if (request.headers.authorization !== `Bearer ${token}`) {
      calls.unauthorised += 1;
      response.statusCode = 401;
      response.end('{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}');
      return true;
    }
    if (request.method === 'GET' && url.pathname === '/v21.0/3001') {
      calls.lookups += 1;
      response.end(JSON.stringify({ messaging_product: 'whatsapp', url: `http://127.0.0.1:${graph.address().port}/_media/3001?ext=1`,
        mime_type: 'image/png', sha256: receiptSha, file_size: receipt.length, id: '3001' }));
      return true;
    }
    if (request.method === 'GET' && url.pathname === '/_media/3001') {
      calls.downloads += 1;
      response.setHeader('Content-Type', 'image/png');
      response.end(receipt);
      return true;
    }
    if (request.method === 'GET' && url.pathname === '/v21.0/3002') {
      response.statusCode = 400;
      response.end(JSON.stringify({ error: { message: "Unsupported get request. Object with ID '3002' does not exist",
        type: 'GraphMethodException', code: 100, error_subcode: 33, fbtrace_id: 'BROWSER' } }));
      return true;
    }
    return false;
  },
});

export const options = cloudApiHost(graph, { adminInbox: `{ media: { dir: "${mediaDir}" } }`, secret, token });

// One signed inbound webhook with one message (an image unless `content` says otherwise), as Meta posts it.
function imageWebhook(wamid, mediaId, caption, secondsAgo = 0, content = null) {
  const image = { id: mediaId, mime_type: 'image/png', sha256: receiptSha };
  if (caption) image.caption = caption;
  const message = content || { type: 'image', image };
  return JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: { display_phone_number: '213000000001', phone_number_id: '100000000000001' },
    contacts: [{ profile: { name: 'Amina Benali' }, wa_id: '213555123456' }],
    messages: [{ from: '213555123456', id: wamid, timestamp: String(Math.floor(Date.now() / 1000) - secondsAgo), ...message }],
  } }] }] });
}

async function post(baseUrl, body) {
  const signature = 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
  const answer = await fetch(`${baseUrl}/webhooks/whatsapp`, { method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature } });
  return answer.status;
}

export default async function ({ page, context, baseUrl, assert, screenshot, signIn, users, until }) {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(users.agent, '/admin/messaging/whatsapp/inbox');
  // The customer says hello first; the agent opens the conversation.
  assert.equal(await post(baseUrl, imageWebhook('wamid.MEDIA-B0', '', '', 0, { type: 'text', text: { body: 'Bonjour, voici mon reçu' } })), 200);
  await until('the conversation to appear', async () => (await page.locator('a[href*="/conversations/"]').count()) > 0);
  await Promise.all([page.waitForNavigation(), page.locator('a[href*="/conversations/"]').first().click()]);
  const conversation = page.url();
  await page.waitForSelector('[data-live][data-live-connected]', { state: 'attached' });

  // The photo arrives while the page is open: fetched by the job, shown by the live update (no reload).
  assert.equal(await post(baseUrl, imageWebhook('wamid.MEDIA-B1', '3001', 'Reçu de paiement — session de mars')), 200);
  // Eight days old: its id is past Meta's seven days.
  assert.equal(await post(baseUrl, imageWebhook('wamid.MEDIA-B2', '3002', '', 8 * 24 * 3600)), 200);
  await page.waitForFunction(() => {
    const img = document.querySelector('.view-image img');
    return img && img.complete && img.naturalWidth === 160;
  });
  await page.waitForSelector('[data-media-failed="expired"]');
  assert.equal(page.url(), conversation, 'the page was never left');
  assert.equal(calls.lookups, 1);
  assert.equal(calls.downloads, 1);
  assert.equal(calls.unauthorised, 0, 'every call carried the token');
  const src = await page.getAttribute('.view-image img', 'src');
  assert.match(src, /^\/admin\/messaging\/whatsapp\/media\/[0-9]+$/);
  assert.equal(await page.getAttribute('.view-image', 'href'), src, 'the preview links to the full size');
  assert.equal(await page.getAttribute('.view-image img', 'alt'), 'Reçu de paiement — session de mars');
  assert.match(await page.textContent('[data-media-failed="expired"]'),
    /Image: the file could not be fetched\. WhatsApp no longer keeps it \(media is kept 7 days\)\./);
  assert.equal(await page.locator('[data-media-failed="expired"] button').textContent(), 'Try again');

  // The route gives the bytes to this session, and nothing to a browser without one.
  const served = await page.request.get(`${baseUrl}${src}`);
  assert.equal(served.status(), 200);
  assert.equal(served.headers()['content-type'], 'image/png');
  assert.equal(served.headers()['content-security-policy'], "default-src 'none'; sandbox");
  assert.ok(Buffer.compare(await served.body(), receipt) === 0, 'the bytes the customer sent');
  const anonymous = await fetch(`${baseUrl}${src}`, { redirect: 'manual' });
  assert.equal(anonymous.status, 401);
  await screenshot('media-en');

  for (const locale of ['fr', 'ar']) {
    await page.setViewportSize({ width: 1280, height: 800 });
    await Promise.all([page.waitForNavigation(), page.click(`button[data-locale="${locale}"]`)]);
    assert.equal(new URL(page.url()).pathname, new URL(conversation).pathname);
    await page.waitForFunction(() => {
      const img = document.querySelector('.view-image img');
      return img && img.complete && img.naturalWidth === 160;
    });
    assert.match(await page.textContent('[data-media-failed="expired"]'), locale === 'fr'
      ? /Image : le fichier n’a pas pu être récupéré\. WhatsApp ne le conserve plus/
      : /صورة: تعذّر جلب الملف\. لم يعد واتساب يحتفظ به/);
    await screenshot(`media-${locale}`);
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
      `the ${locale} conversation with media fits a phone-sized window`);
    const width = await page.$eval('.view-image img', (img) => img.getBoundingClientRect().width);
    assert.ok(width > 0 && width <= 390, `the image fits the phone (${width}px)`);
    await page.locator('.view-image img').scrollIntoViewIfNeeded();
    await screenshot(`media-${locale}-phone`);
  }
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  // English on a phone too.
  await page.setViewportSize({ width: 1280, height: 800 });
  await Promise.all([page.waitForNavigation(), page.click('button[data-locale="en"]')]);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('.view-image img').scrollIntoViewIfNeeded();
  await screenshot('media-en-phone');
}
