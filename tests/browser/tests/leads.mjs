// The B2B lead page and the matched records' summaries in a real browser (issue #15, item 5): a
// customer who is a platform lead writes, the agent links the conversation to the lead from the
// contact panel, opens the lead, changes its status, adds a note, opens a registration's summary
// from another conversation's panel, unlinks; every page in English, French and Arabic at desktop
// and phone sizes (each fits without horizontal scrolling, fr and ar show none of the English
// words); a viewer is refused the lead pages. A screenshot of each step.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

// No Cloud API: nothing here sends, and opening a conversation must not reach out to Meta.
// The platform's own rows are written before the host serves (the platform owns these tables).
export const options = {
  plugins: { webhook_receiver: '{}', contact_matcher: '{}', inbound_router: '{}', outbox: '{}', admin_inbox: '{}' },
  extraYaml: 'dispatch:\n  chain: [outbox]\n',
  settings: [
    ['whatsapp.cloud.app_secret', 'browser-test-app-secret'],
    ['whatsapp.cloud.phone_number_id', '100000000000001'],
  ],
  beforeServe: async ({ cli, work }) => {
    const sql = `
      INSERT INTO organizations (id, name, phone, email, city) VALUES (1, 'Cevital Formation', '021 23 45 67', 'formation@cevital.example', 'Alger');
      INSERT INTO registrations (id, full_name, phone, email, programme, status) VALUES
        (1, 'Amina Benali', '0555 12 34 56', 'amina@example.dz', 'Analyse de données', 'pending');
      INSERT INTO b2b_leads (id, organization_id, contact_name, phone, email, source, status, notes, created_at, updated_at) VALUES
        (1, 1, 'Karim Brahimi', '0661 23 45 67', 'k.brahimi@cevital.example', 'website', 'new', 'Formation Excel avancé pour 12 employés',
         1764633600000, 1764633600000);`;
    const result = spawnSync('sqlite3', [path.join(work, 'tawasul.db')], { input: sql, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`sqlite3: ${result.stderr}`);
    const reindex = cli(['contacts', 'reindex']);
    if (reindex.status !== 0) throw new Error(reindex.output);
  },
};

const SIZES = [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]];
// What the English catalogs of these pages say; none of it may show in a French or Arabic page.
const ENGLISH = ['B2B leads', 'Linked conversations', 'Add a note', 'Add the note', 'Change status', 'Qualified', 'Contacted', 'Unlink',
  'Last change', 'Organization', 'Registration', 'Conversations with its phone numbers', 'Back to the inbox', 'Pending',
  'This record belongs', 'All B2B leads', 'Any status', 'No notes yet'];

export default async function ({ page, baseUrl, assert, screenshot, signIn, users, cli }) {
  const webhook = `${baseUrl}/webhooks/whatsapp`;
  await page.setViewportSize(SIZES[0][1]);
  await signIn(users.agent, '/admin/b2b-leads');
  assert.equal(new URL(page.url()).pathname, '/admin/b2b-leads');
  assert.match(await page.textContent('.lead-row'), /Karim Brahimi/);
  assert.match(await page.textContent('.lead-row'), /Cevital Formation/);
  assert.equal(await page.getAttribute('nav.sections a[href="/admin/b2b-leads"]', 'aria-current'), 'page');
  await screenshot('leads-list');
  await page.selectOption('select[name=status]', 'won');
  await Promise.all([page.waitForNavigation(), page.click('.inbox-filters button[type=submit]')]);
  assert.equal(await page.locator('.lead-row').count(), 0);
  assert.match(await page.textContent('.empty'), /No lead matches/);
  await page.goto(`${baseUrl}/admin/b2b-leads?q=0661234567`);
  assert.equal(await page.locator('.lead-row').count(), 1);

  // Karim writes; his conversation's panel names the lead he matches, with its page.
  let step = cli(['simulate', 'inbound', '--url', webhook, '--from', '213661234567', '--name', 'Karim', '--text', 'Bonjour',
    '--wamid', 'wamid.LEADS-IN1']);
  assert.equal(step.status, 0, step.output);
  await page.goto(`${baseUrl}/admin/inbox`);
  await page.waitForSelector('.conversation:has-text("Karim")');
  await Promise.all([page.waitForNavigation(), page.click('.conversation:has-text("Karim") a')]);
  const conversationUrl = page.url();
  assert.equal(await page.locator('.matches a[href="/admin/b2b-leads/1"]').count(), 1, 'the match links to the lead page');
  // Link the conversation to the lead, then open the lead from the panel.
  await page.fill('input[name=lead_q]', 'Karim');
  await Promise.all([page.waitForNavigation(), page.click('form:has(input[name=lead_q]) button')]);
  await Promise.all([page.waitForNavigation(), page.click('.lead-results button')]);
  await page.waitForSelector('.system:has-text("linked B2B lead #1")');
  await Promise.all([page.waitForNavigation(), page.click('.panel .lead a')]);
  assert.equal(new URL(page.url()).pathname, '/admin/b2b-leads/1');
  assert.match(await page.textContent('#lead-meta'), /k\.brahimi@cevital\.example/);
  assert.match(await page.textContent('#lead-meta'), /Cevital Formation · Alger/);
  assert.match(await page.textContent('#lead-notes'), /Formation Excel avancé pour 12 employés/);
  assert.equal(await page.locator('#lead-conversations li').count(), 1);
  await page.waitForSelector('[data-live][data-live-connected]', { state: 'attached' });
  await screenshot('lead');

  // Status and a note.
  await page.selectOption('select[name=status]', 'qualified');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Change status")')]);
  assert.match(await page.textContent('.flash.notice'), /Done\./);
  assert.match(await page.textContent('#lead-meta .status'), /Qualified/);
  await page.fill('#lead-note', 'Rappeler jeudi : devis pour 12 personnes.');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Add the note")')]);
  assert.equal(await page.locator('#lead-notes li').count(), 2);
  assert.match(await page.textContent('#lead-notes li:last-child'), /Rappeler jeudi/);
  await screenshot('lead-changed');
  // A reload does not say "Done." again.
  await page.reload();
  assert.equal(await page.locator('.flash.notice').count(), 0);

  // Amina writes; her panel links to her registration's summary.
  step = cli(['simulate', 'inbound', '--url', webhook, '--from', '213555123456', '--name', 'Amina', '--text', 'Salam',
    '--wamid', 'wamid.LEADS-IN2']);
  assert.equal(step.status, 0, step.output);
  await page.goto(`${baseUrl}/admin/inbox`);
  await page.waitForSelector('.conversation:has-text("Amina")');
  await Promise.all([page.waitForNavigation(), page.click('.conversation:has-text("Amina") a')]);
  await Promise.all([page.waitForNavigation(), page.click('.matches a[href="/admin/registrations/1"]')]);
  assert.equal(new URL(page.url()).pathname, '/admin/registrations/1');
  assert.match(await page.textContent('.record-page h1'), /Amina Benali/);
  assert.match(await page.textContent('.fields'), /Analyse de données/);
  assert.match(await page.textContent('.fields'), /Pending/);
  assert.equal(await page.locator('.record-conversations a').count(), 1);
  assert.equal(await page.locator('main form').count(), 0, 'a summary has nothing to change');
  await screenshot('registration');

  // Every page in every language and size: fits the window, no English left in fr and ar.
  const pages = [['leads', '/admin/b2b-leads'], ['lead', '/admin/b2b-leads/1'], ['registration', '/admin/registrations/1'],
    ['lead-missing', '/admin/b2b-leads/999']];
  for (const locale of ['en', 'fr', 'ar']) {
    await page.goto(`${baseUrl}/admin/b2b-leads`);
    await Promise.all([page.waitForNavigation(), page.click(`button[data-locale="${locale}"]`)]);
    assert.equal(await page.getAttribute('html', 'dir'), locale === 'ar' ? 'rtl' : 'ltr');
    for (const [sizeName, size] of SIZES) {
      await page.setViewportSize(size);
      for (const [name, address] of pages) {
        await page.goto(`${baseUrl}${address}`);
        const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
        assert.ok(fits, `${name} in ${locale} fits a ${sizeName}-sized window without horizontal scrolling`);
        // A phone number never breaks over two lines (in Arabic its groups would come out reordered).
        const broken = await page.evaluate(() => [...document.querySelectorAll('main .phone')]
          .filter((element) => element.getClientRects().length > 1).map((element) => element.textContent));
        assert.deepEqual(broken, [], `${name} in ${locale} on a ${sizeName}: phone numbers wrapped`);
        if (locale !== 'en') {
          const text = await page.evaluate(() => document.querySelector('main').innerText);
          for (const word of ENGLISH) assert.ok(!text.includes(word), `${name} in ${locale} shows the English "${word}":\n${text}`);
        }
        await screenshot(`${name}-${locale}-${sizeName}`);
      }
    }
    await page.setViewportSize(SIZES[0][1]);
  }
  await page.goto(`${baseUrl}/admin/b2b-leads/1`);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.match(await page.textContent('#lead-meta .status'), /مؤهَّل/);

  // Unlink (in Arabic now): the lead has no conversation left, the conversation's timeline says so.
  await Promise.all([page.waitForNavigation(), page.click('#lead-conversations form.unlink button')]);
  assert.equal(await page.locator('#lead-conversations li').count(), 0);
  await screenshot('lead-unlinked-ar');
  await page.goto(conversationUrl);
  await page.waitForSelector('.system:has-text("فكّ")');
  assert.equal(await page.locator('.panel .lead a').count(), 0);

  // A viewer: no menu entry, 403 on the lead pages, the registration's summary readable.
  await Promise.all([page.waitForNavigation(), page.click('#sign-out')]);
  await signIn(users.viewer, '/admin/inbox');
  assert.equal(await page.locator('nav.sections a[href="/admin/b2b-leads"]').count(), 0);
  for (const address of ['/admin/b2b-leads', '/admin/b2b-leads/1']) {
    const response = await page.goto(`${baseUrl}${address}`);
    assert.equal(response.status(), 403, address);
  }
  await screenshot('viewer-lead-refused');
  const record = await page.goto(`${baseUrl}/admin/registrations/1`);
  assert.equal(record.status(), 200);
}
