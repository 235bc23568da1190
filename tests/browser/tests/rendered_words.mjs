// Every word a reader sees is their language's (issue #15, items 9 and the "done means"): the
// inbox, a conversation, a B2B lead and the users page, in English, French and Arabic, at
// 1280x800 and 390x844; in fr and ar no raw catalog key, table name or English word (run.mjs's
// checkWords, words.mjs), each page fits the window, no phone number wraps, and a screenshot of
// each; the logs, the 404 page and the other admin pages of these plugins too (the canned replies
// list and form among them; the conversation with an internal note in its timeline). First, in English: the conversation's Pending button sets the status, and its "Done."
// is said once (not again after a reload).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const options = {
  plugins: { webhook_receiver: '{}', contact_matcher: '{}', inbound_router: '{}', outbox: '{}', admin_inbox: '{}', cloud_api: '{}' },
  extraYaml: 'dispatch:\n  chain: [outbox]\n',
  settings: [
    ['whatsapp.cloud.app_secret', 'browser-test-app-secret'],
    ['whatsapp.cloud.phone_number_id', '100000000000001'],
  ],
  beforeServe: async ({ cli, work }) => {
    const sql = `
      INSERT INTO organizations (id, name, phone, city) VALUES (1, 'Cevital Formation', '021 23 45 67', 'Alger');
      INSERT INTO b2b_leads (id, organization_id, contact_name, phone, source, status, notes, created_at, updated_at) VALUES
        (1, 1, 'Karim Brahimi', '0661 23 45 67', 'manual', 'new', 'Formation Excel avancé pour 12 employés', 1764633600000, 1764633600000);
      INSERT INTO whatsapp_number_health (display_phone, messaging_limit, limit_at, quality_flagged, flagged_at) VALUES
        ('213555000111', 'TIER_1K', 1764633600000, 1, 1764633600000);`;
    const result = spawnSync('sqlite3', [path.join(work, 'tawasul.db')], { input: sql, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`sqlite3: ${result.stderr}`);
    const reindex = cli(['contacts', 'reindex']);
    if (reindex.status !== 0) throw new Error(reindex.output);
  },
};

const SIZES = [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]];
// Names the pages show as they are: the customer's and the lead's, the organization's, the note's words.
const NAMES = ['Karim Brahimi', 'Cevital Formation', 'Alger', 'Excel'];
// admin_inbox's canned replies: the list and the form (checked with the pages below).
const CANNED_PAGES = [['canned-replies', '/admin/messaging/whatsapp/canned-replies'],
  ['canned-reply-new', '/admin/messaging/whatsapp/canned-replies/new']];

export default async function ({ page, baseUrl, assert, screenshot, signIn, users, cli, until, checkWords }) {
  const step = cli(['simulate', 'inbound', '--url', `${baseUrl}/webhooks/whatsapp`, '--from', '213661234567', '--name', 'Karim Brahimi',
    '--text', 'Bonjour, une formation pour nos employés', '--wamid', 'wamid.WORDS-1']);
  assert.equal(step.status, 0, step.output);
  await page.setViewportSize(SIZES[0][1]);
  await signIn(users.admin, '/admin/inbox');
  await until('the conversation', async () => (await page.locator('.conversation a').count()) > 0 || (await page.reload(), false));
  await Promise.all([page.waitForNavigation(), page.click('.conversation a')]);
  const conversation = new URL(page.url()).pathname;

  // Pending: the button sets it, the pill says it, "Done." once.
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/pending"] button')]);
  assert.match(await page.textContent('#conversation-meta .status'), /Pending/);
  assert.match(await page.textContent('.flash.notice'), /Done\./);
  assert.equal(new URL(page.url()).search, '', 'the address keeps no ?done=');
  await page.reload();
  assert.equal(await page.locator('.flash.notice').count(), 0, '"Done." is not said again after a reload');
  assert.equal(await page.locator('form[action$="/pending"]').count(), 0, 'no Pending button on a pending conversation');
  await page.goto(`${baseUrl}/admin/inbox?status=pending`);
  assert.equal(await page.locator('.conversation').count(), 1);

  // An internal note in the timeline: its label and its author's line are the page's language too.
  await page.goto(`${baseUrl}${conversation}`);
  await page.fill('#note-text', 'Rappeler après la réunion');
  await Promise.all([page.waitForNavigation(), page.click('.note-form button[type=submit]')]);
  await page.locator('.timeline .note').waitFor();

  // The lead gets a status change (who made it) and a note (who, when).
  await page.goto(`${baseUrl}/admin/b2b-leads/1`);
  await page.selectOption('select[name=status]', 'contacted');
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/status"] button')]);
  await page.fill('#lead-note', 'Rappeler jeudi');
  await Promise.all([page.waitForNavigation(), page.click('.note-form button')]);
  assert.match(await page.textContent('.lead-history'), /Amina Admin/);

  const pages = [['inbox', '/admin/inbox'], ['conversation', conversation], ['lead', '/admin/b2b-leads/1'], ['users', '/admin/users'],
    ['logs', '/admin/messaging/whatsapp/logs'], ['not-found', '/admin/no-such-page'], ['leads', '/admin/b2b-leads'],
    ['outbox', '/admin/messaging/whatsapp/outbox'], ['templates', '/admin/messaging/whatsapp/templates'],
    ['flows', '/admin/messaging/whatsapp/flows'], ['events', '/admin/messaging/whatsapp/webhook-events'], ['home', '/admin'],
    ['settings', '/admin/messaging/whatsapp/settings']];
  for (const locale of ['en', 'fr', 'ar']) {
    await page.goto(`${baseUrl}/admin/inbox`);
    await Promise.all([page.waitForNavigation(), page.click(`button[data-locale="${locale}"]`)]);
    assert.equal(await page.getAttribute('html', 'dir'), locale === 'ar' ? 'rtl' : 'ltr');
    for (const [sizeName, size] of SIZES) {
      await page.setViewportSize(size);
      for (const [name, address] of [...pages, ...CANNED_PAGES]) {
        const answer = await page.goto(`${baseUrl}${address}`);
        assert.equal(answer.status(), name === 'not-found' ? 404 : 200, `${name} in ${locale}`);
        assert.equal(await page.locator('header.topbar').count(), 1, `${name} in ${locale} is inside the admin layout`);
        const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
        assert.ok(fits, `${name} in ${locale} fits a ${sizeName}-sized window without horizontal scrolling`);
        const broken = await page.evaluate(() => [...document.querySelectorAll('main .phone, main .pill')]
          .filter((element) => element.getClientRects().length > 1).map((element) => element.textContent));
        assert.deepEqual(broken, [], `${name} in ${locale} on a ${sizeName}: a phone number or a pill wrapped`);
        // Each phone number reads left to right, group after group, in Arabic too (isolated).
        const reordered = await page.evaluate(() => [...document.querySelectorAll('main .phone')].filter((element) => {
          const text = element.firstChild;
          if (!text || text.nodeType !== Node.TEXT_NODE) return false;
          const lefts = [];
          for (const match of text.data.matchAll(/\S+/g)) {
            const range = document.createRange();
            range.setStart(text, match.index);
            range.setEnd(text, match.index + match[0].length);
            lefts.push(range.getBoundingClientRect().left);
          }
          return lefts.some((left, i) => i > 0 && left <= lefts[i - 1]);
        }).map((element) => element.textContent));
        assert.deepEqual(reordered, [], `${name} in ${locale} on a ${sizeName}: a phone number's groups out of order`);
        await checkWords(`${name} (${sizeName})`, locale, NAMES);
        await screenshot(`${name}-${locale}-${sizeName}`);
      }
    }
  }

  // A viewer refused the users page: 403 inside the layout, in Arabic on a phone.
  await page.setViewportSize(SIZES[0][1]);
  await signIn(users.viewer, '/admin');
  await Promise.all([page.waitForNavigation(), page.click('button[data-locale="ar"]')]);
  await page.setViewportSize(SIZES[1][1]);
  const refused = await page.goto(`${baseUrl}/admin/users`);
  assert.equal(refused.status(), 403);
  assert.equal(await page.locator('header.topbar').count(), 1);
  assert.match(await page.textContent('main h1'), /غير مسموح/);
  await checkWords('forbidden (phone)', 'ar', NAMES);
  await screenshot('forbidden-ar-phone');
}
