// The outbox's templates and flows in a browser: a template with a malformed variable is refused
// with the reason and the text kept, the fixed one is saved and previewed with sample values, a
// flow is built on it (trigger, two steps with delays), deactivated and activated again; the
// flows page in Arabic is right to left, and fits a phone.
export default async function ({ page, baseUrl, assert, screenshot, signIn, users }) {
  await signIn(users.admin, '/admin/messaging/whatsapp/templates');
  assert.equal(new URL(page.url()).pathname, '/admin/messaging/whatsapp/templates');
  await screenshot('templates-empty');

  // A new template whose variable is not closed: refused, the reason shown, the text kept.
  await Promise.all([page.waitForNavigation(), page.click('a[href="/admin/messaging/whatsapp/templates/new"]')]);
  await page.fill('#name', 'rappel_seance');
  await page.fill('#language', 'fr');
  await page.fill('#body', 'Bonjour {{first_name, votre séance commence à {{time}}.');
  await Promise.all([page.waitForNavigation(), page.click('form.stack button[type="submit"]')]);
  const error = (await page.textContent('#form-error')).trim();
  assert.match(error, /^The text is refused: /, error);
  assert.equal(await page.inputValue('#body'), 'Bonjour {{first_name, votre séance commence à {{time}}.');
  assert.equal(await page.getAttribute('#body', 'aria-invalid'), 'true');
  await screenshot('template-refused');

  // Fixed: saved, and the page offers a preview with one field per variable.
  await page.fill('#body', 'Bonjour {{first_name}}, votre séance commence à {{time}}.');
  await Promise.all([page.waitForNavigation(), page.click('form.stack button[type="submit"]')]);
  assert.match(new URL(page.url()).pathname, /^\/admin\/messaging\/whatsapp\/templates\/[0-9]+$/);
  assert.equal((await page.textContent('.alert-success')).trim(), 'Template saved.');
  await page.fill('input[name="value.first_name"]', 'Amina');
  await page.fill('input[name="value.time"]', '<b>9h</b>');
  await Promise.all([page.waitForNavigation(), page.click('form.preview button[type="submit"]')]);
  assert.equal((await page.textContent('.preview-bubble')).trim(), 'Bonjour Amina, votre séance commence à <b>9h</b>.');
  assert.equal(await page.locator('.preview-bubble b').count(), 0, 'sample values are text, not markup');
  await screenshot('template-preview');

  // A flow on that template: two steps, the second a day later.
  await page.goto(`${baseUrl}/admin/messaging/whatsapp/flows`);
  await Promise.all([page.waitForNavigation(), page.click('a[href="/admin/messaging/whatsapp/flows/new"]')]);
  await page.fill('#name', 'Accueil des inscrits');
  await page.fill('#trigger_event', 'registration.confirmed');
  await page.selectOption('#step-template-1', { label: 'rappel_seance (fr)' });
  await page.fill('#step-delay-1', '0');
  await page.selectOption('#step-template-2', { label: 'rappel_seance (fr)' });
  await page.fill('#step-delay-2', '1440');
  await Promise.all([page.waitForNavigation(), page.click('form.stack button[type="submit"]')]);
  assert.equal((await page.textContent('.alert-success')).trim(), 'Flow saved.');
  assert.equal(await page.inputValue('#step-delay-2'), '1440');
  await screenshot('flow-saved');

  // Listed as active; off, then on again.
  await page.goto(`${baseUrl}/admin/messaging/whatsapp/flows`);
  const card = page.locator('li.card', { hasText: 'Accueil des inscrits' });
  assert.match(await card.textContent(), /registration\.confirmed/);
  assert.match(await card.textContent(), /2 step\(s\)/);
  await Promise.all([page.waitForNavigation(), card.locator('button', { hasText: 'Deactivate' }).click()]);
  assert.equal((await page.textContent('.alert-success')).trim(), 'Flow deactivated.');
  assert.equal(await page.locator('li.flow-inactive', { hasText: 'Accueil des inscrits' }).count(), 1);
  await Promise.all([page.waitForNavigation(), page.locator('li.card', { hasText: 'Accueil des inscrits' }).locator('button').click()]);
  assert.equal((await page.textContent('.alert-success')).trim(), 'Flow activated.');
  await screenshot('flows-en');

  // Arabic: right to left, translated; and on a phone nothing overflows sideways.
  await Promise.all([page.waitForNavigation(), page.click('button[data-locale="ar"]')]);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.equal((await page.textContent('h1')).trim(), 'المسارات');
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.outbox-flows')).direction), 'rtl');
  await screenshot('flows-ar');
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the flows page fits a 390 px wide phone (overflow ${overflow} px)`);
  await screenshot('flows-ar-phone');

  // The settings and webhook-event pages on the same phone, in Arabic, for the screenshots. This
  // host has no dispatch chain, and the page says so.
  await page.goto(`${baseUrl}/admin/messaging/whatsapp/settings`);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await page.locator('ol.chain li').count(), 0);
  assert.match(await page.textContent('main'), /الموزّع لا يعمل/);
  await screenshot('settings-ar-phone');
  await page.goto(`${baseUrl}/admin/messaging/whatsapp/settings/webhook`);
  assert.match(await page.textContent('code.copy'), /\/webhooks\/whatsapp$/);
  await screenshot('webhook-settings-ar-phone');
  await page.goto(`${baseUrl}/admin/messaging/whatsapp/webhook-events`);
  assert.equal((await page.textContent('h1')).trim(), 'أحداث الويب هوك');
  await screenshot('webhook-events-ar-phone');
}
