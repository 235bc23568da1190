// Issue 16, the agent's tools, in a real browser: canned replies made on their page (a duplicate
// shortcut refused), then in a conversation an internal note (shown in the timeline as a note,
// labelled, with its author, and live on a second open page of the conversation; nothing sent),
// and a canned reply inserted by typing "/" and its first letters (the list moves with up/down,
// Escape closes it, Enter or a click inserts the text filled for the contact, in the page's
// language). English, French and Arabic at 1280x800 and 390x844, the fr and ar pages checked for
// English words; a viewer sees the note and gets no form. A screenshot of each step.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

// No Cloud API: a note must never go anywhere, and the replies here are only typed, not sent.
let database = '';
const sql = (statement) => {
  const result = spawnSync('sqlite3', ['-cmd', '.timeout 5000', database, statement], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sqlite3: ${result.stderr}`);
  return result.stdout.trim();
};

export const options = {
  plugins: { webhook_receiver: '{}', contact_matcher: '{}', inbound_router: '{}', outbox: '{}', admin_inbox: '{}' },
  extraYaml: 'dispatch:\n  chain: [outbox]\n',
  settings: [
    ['whatsapp.cloud.app_secret', 'browser-test-app-secret'],
    ['whatsapp.cloud.phone_number_id', '100000000000001'],
  ],
  beforeServe: async ({ work }) => { database = path.join(work, 'tawasul.db'); },
};

const SIZES = [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]];
const CANNED = '/admin/messaging/whatsapp/canned-replies';
const NAMES = ['Amina Benali', 'Amina', 'Horaires', 'Hors'];
const TEXTS = {
  en: 'Hello {{first_name}}, we are open from 8 am to 5 pm.',
  fr: 'Bonjour {{first_name}}, nous sommes ouverts de 8 h à 17 h.',
  ar: 'مرحبًا {{first_name}}، نحن نعمل من الساعة 8 إلى 17.',
};
const FILLED = {
  en: 'Hello Amina, we are open from 8 am to 5 pm.',
  fr: 'Bonjour Amina, nous sommes ouverts de 8 h à 17 h.',
  ar: 'مرحبًا Amina، نحن نعمل من الساعة 8 إلى 17.',
};

export default async function ({ page, context, baseUrl, assert, screenshot, signIn, users, cli, until, checkWords }) {
  const scriptErrors = [];
  page.on('pageerror', (error) => scriptErrors.push(error.message));
  await page.setViewportSize(SIZES[0][1]);
  await signIn(users.agent, CANNED);
  assert.equal(new URL(page.url()).pathname, CANNED);
  assert.equal(await page.getAttribute(`nav.sections a[href="${CANNED}"]`, 'aria-current'), 'page');

  // Two canned replies whose shortcuts both start with "ho".
  const create = async (title, shortcut, texts) => {
    await page.goto(`${baseUrl}${CANNED}/new`);
    await page.fill('#canned-title', title);
    await page.fill('#canned-shortcut', shortcut);
    for (const [language, text] of Object.entries(texts)) await page.fill(`#canned-text-${language}`, text);
    return Promise.all([page.waitForNavigation(), page.click('.canned-form button[type=submit]')]).then(([answer]) => answer);
  };
  assert.equal((await create('Horaires', 'horaires', TEXTS)).status(), 200);
  assert.equal(new URL(page.url()).pathname, CANNED);
  await create('Hors délai', 'hors-delai', { fr: 'Bonjour {{name}}, votre demande est arrivée hors délai.' });
  assert.equal(await page.locator('.canned-card').count(), 2);
  await screenshot('canned-list-en');
  // The same shortcut again: 422, said, nothing written.
  const refused = await create('Copie', 'Horaires', { en: 'Copy' });
  assert.equal(refused.status(), 422);
  assert.match(await page.textContent('.alert-error'), /Another canned reply already has this shortcut/);
  assert.equal(await page.getAttribute('#canned-shortcut', 'aria-invalid'), 'true');
  assert.equal(sql('SELECT COUNT(*) FROM whatsapp_canned_replies'), '2');
  await screenshot('canned-duplicate-en');

  // A customer writes; the agent opens the conversation, a colleague's page (a second tab) too.
  const step = cli(['simulate', 'inbound', '--url', `${baseUrl}/webhooks/whatsapp`, '--from', '213555123456', '--name', 'Amina Benali',
    '--text', 'Bonjour, vous êtes ouverts samedi ?', '--wamid', 'wamid.TOOLS-IN1']);
  assert.equal(step.status, 0, step.output);
  await until('the conversation', () => sql('SELECT COUNT(*) FROM whatsapp_messages') === '1');
  const conversation = `${baseUrl}/admin/messaging/whatsapp/conversations/${sql('SELECT id FROM whatsapp_conversations')}`;
  await page.goto(conversation);
  const other = await context.newPage();
  await other.setViewportSize(SIZES[0][1]);
  await other.goto(conversation);
  await other.waitForSelector('[data-live][data-live-connected]', { state: 'attached' });
  await other.evaluate(() => { window.notReloaded = true; });

  // An internal note: in the timeline as a note, labelled, with its author; live on the other page.
  await page.fill('#note-text', 'Elle a payé par CCP, reçu vérifié.');
  await Promise.all([page.waitForNavigation(), page.click('.note-form button[type=submit]')]);
  const note = page.locator('.timeline .note');
  await note.waitFor();
  assert.match(await note.textContent(), /Elle a payé par CCP, reçu vérifié\./);
  assert.equal((await page.textContent('.timeline .note .note-label')).trim(), 'Note');
  assert.match(await page.textContent('.timeline .note .author'), new RegExp(users.agent.name));
  assert.notEqual(await note.evaluate((element) => getComputedStyle(element).backgroundColor),
    await page.locator('.timeline .message.in').evaluate((element) => getComputedStyle(element).backgroundColor), 'a note looks unlike a message');
  const order = await page.$$eval('.timeline > li', (items) => items.map((item) => item.className.split(' ')[0]));
  assert.deepEqual(order, ['message', 'note']);
  await other.waitForSelector('.timeline .note:has-text("reçu vérifié")');
  assert.equal(await other.evaluate(() => window.notReloaded), true, 'the note reached the other page without a reload');
  await other.close();
  assert.equal(sql("SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out'"), '0', 'a note is never a message');
  assert.equal(sql('SELECT COUNT(*) FROM whatsapp_outbox_messages'), '0', 'nor anything in the outbox');
  await screenshot('note-en');

  // "/ho": both replies offered; down, up, Escape; "/hora" and Enter inserts the English text.
  const box = page.locator('#reply-text');
  const suggestions = page.locator('#canned-suggestions');
  await box.click();
  await box.type('Merci. /ho');
  await suggestions.waitFor();
  assert.deepEqual(await suggestions.locator('li').evaluateAll((items) => items.map((item) => item.getAttribute('data-shortcut'))),
    ['horaires', 'hors-delai']);
  assert.equal(await suggestions.locator('li[aria-selected="true"]').getAttribute('data-shortcut'), 'horaires');
  await box.press('ArrowDown');
  assert.equal(await suggestions.locator('li[aria-selected="true"]').getAttribute('data-shortcut'), 'hors-delai');
  assert.equal(await box.getAttribute('aria-activedescendant'), await suggestions.locator('li[aria-selected="true"]').getAttribute('id'));
  await screenshot('canned-suggestions-en');
  await box.press('ArrowUp');
  assert.equal(await suggestions.locator('li[aria-selected="true"]').getAttribute('data-shortcut'), 'horaires');
  await box.press('Escape');
  assert.equal(await suggestions.isHidden(), true, 'Escape closes the list');
  assert.equal(await box.inputValue(), 'Merci. /ho', 'Escape leaves the text as typed');
  await box.type('ra');
  await suggestions.waitFor();
  assert.equal(await suggestions.locator('li').count(), 1);
  await box.press('Enter');
  assert.equal(await box.inputValue(), `Merci. ${FILLED.en}`);
  assert.equal(await suggestions.isHidden(), true);
  await screenshot('canned-inserted-en');
  // A click inserts too; only a French text: that one, with the full name.
  await box.fill('');
  await box.type('/hors');
  await suggestions.locator('li[data-shortcut="hors-delai"]').click();
  assert.equal(await box.inputValue(), 'Bonjour Amina Benali, votre demande est arrivée hors délai.');
  // No list for a "/" inside a word (an address), none for a shortcut that does not exist.
  await box.fill('');
  await box.type('https://example.dz/ho');
  assert.equal(await suggestions.isHidden(), true);
  await box.fill('');
  await box.type('/xyz');
  assert.equal(await suggestions.isHidden(), true);
  await box.fill('');

  for (const locale of ['en', 'fr', 'ar']) {
    await page.goto(conversation);
    await Promise.all([page.waitForNavigation(), page.click(`button[data-locale="${locale}"]`)]);
    assert.equal(await page.getAttribute('html', 'dir'), locale === 'ar' ? 'rtl' : 'ltr');
    for (const [sizeName, size] of SIZES) {
      await page.setViewportSize(size);
      await page.goto(conversation);
      const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
      assert.ok(fits, `the conversation in ${locale} fits a ${sizeName}-sized window`);
      await checkWords(`conversation (${sizeName})`, locale, NAMES);
      await page.locator('#reply-text').click();
      await page.locator('#reply-text').type('/hor');
      await suggestions.waitFor();
      await page.keyboard.press('Enter');
      assert.equal(await page.locator('#reply-text').inputValue(), FILLED[locale], `the ${locale} text inserted`);
      if (locale === 'ar') {
        assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.timeline .note')).direction), 'rtl');
        const label = await page.locator('.timeline .note .note-label').boundingBox();
        const body = await page.locator('.timeline .note').boundingBox();
        assert.ok(label.x + label.width > body.x + body.width / 2, 'the note label starts on the right in Arabic');
      }
      await screenshot(`conversation-${locale}-${sizeName}`);
      for (const [name, address] of [['canned-list', CANNED], ['canned-edit', `${CANNED}/${sql("SELECT id FROM whatsapp_canned_replies WHERE shortcut = 'horaires'")}`]]) {
        await page.goto(`${baseUrl}${address}`);
        const pageFits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
        assert.ok(pageFits, `${name} in ${locale} fits a ${sizeName}-sized window`);
        await checkWords(`${name} (${sizeName})`, locale, NAMES);
        await screenshot(`${name}-${locale}-${sizeName}`);
      }
    }
  }

  // A viewer: the note is there, no note form, no canned replies.
  await page.setViewportSize(SIZES[1][1]);
  await signIn(users.viewer, new URL(conversation).pathname);
  await page.locator('.timeline .note').waitFor();
  assert.equal(await page.locator('#note-text').count(), 0);
  assert.equal(await page.locator('[data-canned-list]').count(), 0);
  await screenshot('conversation-viewer-phone');
  assert.deepEqual(scriptErrors, [], 'no script error on any page');
}
