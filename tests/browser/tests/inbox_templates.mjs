// Issue 15 (6), in a real browser: outside the 24-hour window the template picker asks for every
// variable of the chosen template (named ones by name in the header, body and a link button,
// positional ones by number), previews the filled template as the agent types, will not send with
// a blank one, and sends Meta's components; a template Meta refuses shows Meta's code and message
// in the timeline, in Arabic too. English, French and Arabic at 1280x800 and 390x844.
import { cloudApiHost, startGraph } from '../graph.mjs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

// The Graph API's send endpoint, checking a template's parameters as Meta does: the approved
// templates below, a wrong count refused with Meta's 132000.
const approved = {
  'bienvenue|fr': { header: ['first_name'], body: ['first_name', 'programme', 'date'], button0: ['1'] },
  // Meta's copy of "relance" takes three body parameters; the outbox's copy has two.
  'relance|fr': { body: ['1', '2', '3'] },
};
const sends = [];
const refuse = (response, code, message, details) => {
  response.statusCode = 400;
  response.end(JSON.stringify({ error: { message, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details },
    fbtrace_id: 'BROWSER' } }));
  return true;
};
const graph = await startGraph({
  answer(request, body, response, url) {
    if (request.method !== 'POST' || !url.pathname.endsWith('/messages') || body.includes('"status":"read"')) return false;
    const message = JSON.parse(body);
    sends.push(message);
    if (message.type === 'template') {
      const expected = approved[`${message.template.name}|${message.template.language.code}`];
      if (!expected) return refuse(response, 132001, '(#132001) Template name does not exist in the translation', 'unknown template');
      const given = {};
      for (const component of message.template.components || [])
        given[component.type === 'button' ? `button${component.index}` : component.type] = component.parameters.length;
      for (const part of new Set([...Object.keys(expected), ...Object.keys(given)])) {
        const want = (expected[part] || []).length;
        const got = given[part] || 0;
        if (want !== got)
          return refuse(response, 132000, '(#132000) Number of parameters does not match the expected number of params',
            `${part}: number of localizable_params (${got}) does not match the expected number of params (${want})`);
      }
    }
    const wamid = `wamid.TEMPLATE${sends.length}`;
    response.end(JSON.stringify({ messaging_product: 'whatsapp', contacts: [{ input: 'x', wa_id: 'x' }], messages: [{ id: wamid }] }));
    return true;
  },
});

let database = '';
const sql = (statement) => {
  const result = spawnSync('sqlite3', ['-cmd', '.timeout 5000', database, statement], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sqlite3: ${result.stderr}`);
  return result.stdout.trim();
};

export const options = {
  // Cloud API alone: a template Meta refuses fails, and says why.
  ...cloudApiHost(graph, { chain: 'cloud_api' }),
  beforeServe: async ({ work }) => {
    database = path.join(work, 'tawasul.db');
    sql(`INSERT INTO whatsapp_templates (name, language, header, body, buttons, status, created_at, updated_at) VALUES
      ('bienvenue', 'fr', 'Bienvenue {{first_name}}', 'Bonjour {{first_name}}, votre session {{programme}} commence le {{date}}.',
       '[{"type":"url","text":"Suivi","url":"https://formation.example.dz/suivi/{{1}}"},{"type":"quick_reply","text":"Merci"}]', 'active', 1, 1),
      ('relance', 'fr', NULL, 'Bonjour {{1}}, votre session commence le {{2}}.', NULL, 'active', 1, 1)`);
  },
};

export default async function ({ page, baseUrl, assert, screenshot, signIn, users, cli, until }) {
  await page.setViewportSize({ width: 1280, height: 800 });
  const webhook = `${baseUrl}/webhooks/whatsapp`;
  await signIn(users.agent, '/admin/messaging/whatsapp/inbox');
  const step = cli(['simulate', 'inbound', '--url', webhook, '--from', '213555123456', '--name', 'Amina Benali',
    '--text', 'Bonjour', '--wamid', 'wamid.TEMPLATE-IN1']);
  assert.equal(step.status, 0, step.output);
  await until('the message to be stored', () => sql('SELECT COUNT(*) FROM whatsapp_conversations') === '1');
  // The customer wrote more than a day ago: only a template can be sent.
  sql('UPDATE whatsapp_conversations SET last_inbound_at = last_inbound_at - 90000000');
  const conversation = sql('SELECT id FROM whatsapp_conversations');
  const url = `${baseUrl}/admin/messaging/whatsapp/conversations/${conversation}`;
  await page.goto(url);

  // The named template is chosen first: a field for each variable, labelled by part and name.
  const active = '.template-fields:not([hidden])';
  assert.equal(await page.inputValue('[data-template-picker]'), 'bienvenue|fr');
  const labels = await page.locator(`${active} .template-field label`).allTextContents();
  assert.deepEqual(labels.map((l) => l.replace(/\s+/g, ' ').trim()),
    ['Header {{first_name}}', 'Body {{first_name}}', 'Body {{programme}}', 'Body {{date}}', 'Button 1 (Suivi) {{1}}']);
  await page.fill(`${active} input[name="var:header:first_name"]`, 'Amina');
  await page.fill(`${active} input[name="var:body:first_name"]`, 'Amina');
  await page.fill(`${active} input[name="var:body:programme"]`, 'Comptabilité');
  // The preview follows the typing; what is still blank shows as its variable.
  assert.equal(await page.textContent(`${active} [data-preview-part="header"]`), 'Bienvenue Amina');
  assert.equal(await page.textContent(`${active} [data-preview-part="body"]`), 'Bonjour Amina, votre session Comptabilité commence le {{date}}.');
  // A blank variable: the form does not go (and the server would answer 422).
  assert.equal(await page.$eval('.template-form', (form) => form.checkValidity()), false);
  await screenshot('picker-named-preview-en');

  // Sent anyway (the browser's check taken off): the server answers 422 with the field marked
  // and what was typed kept, and the address is the conversation's again.
  await page.$eval('.template-form', (form) => { form.noValidate = true; });
  const [refused] = await Promise.all([page.waitForNavigation(), page.click('.template-form button[type=submit]')]);
  assert.equal(refused.status(), 422);
  assert.equal(new URL(page.url()).pathname, new URL(url).pathname);
  assert.equal(await page.getAttribute(`${active} input[name="var:body:date"]`, 'aria-invalid'), 'true');
  assert.equal(await page.inputValue(`${active} input[name="var:body:programme"]`), 'Comptabilité');
  assert.match(await page.textContent('.flash.error'), /Fill in every variable of the template/);
  assert.equal(sends.length, 0, 'nothing reached Meta');
  await screenshot('picker-refused-blank-en');

  await page.fill(`${active} input[name="var:body:date"]`, 'lundi');
  await page.fill(`${active} input[name="var:button0:1"]`, 'A-12');
  assert.equal(await page.textContent(`${active} [data-preview-part="button0"]`), 'Suivi: https://formation.example.dz/suivi/A-12');
  await screenshot('picker-named-filled-en');
  await Promise.all([page.waitForNavigation(), page.click('.template-form button[type=submit]')]);
  await until('the Graph API to receive the template', () => sends.length === 1);
  const sent = sends[0].template;
  assert.equal(sent.name, 'bienvenue');
  assert.deepEqual(sent.components, [
    { type: 'header', parameters: [{ type: 'text', text: 'Amina', parameter_name: 'first_name' }] },
    { type: 'body', parameters: [{ type: 'text', text: 'Amina', parameter_name: 'first_name' },
      { type: 'text', text: 'Comptabilité', parameter_name: 'programme' }, { type: 'text', text: 'lundi', parameter_name: 'date' }] },
    { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'A-12' }] },
  ]);
  await page.waitForSelector('.message.out .tick-sent');

  // The positional template: its fields by number, the other template's fields gone.
  await page.selectOption('[data-template-picker]', 'relance|fr');
  assert.deepEqual((await page.locator(`${active} .template-field label`).allTextContents()).map((l) => l.replace(/\s+/g, ' ').trim()),
    ['Body {{1}}', 'Body {{2}}']);
  assert.equal(await page.locator('input[name="var:header:first_name"]:visible').count(), 0);
  await page.fill(`${active} input[name="var:body:1"]`, 'Amina');
  await page.fill(`${active} input[name="var:body:2"]`, 'lundi');
  assert.equal(await page.textContent(`${active} [data-preview-part="body"]`), 'Bonjour Amina, votre session commence le lundi.');
  await screenshot('picker-positional-en');
  // Meta's copy takes three: refused with 132000, and the timeline says so instead of "Error 0:".
  await Promise.all([page.waitForNavigation(), page.click('.template-form button[type=submit]')]);
  await until('the refusal to be stored', async () => {
    if (sql("SELECT COUNT(*) FROM whatsapp_messages WHERE status = 'failed'") !== '1') return false;
    await page.reload();
    return (await page.locator('.message.failed').count()) === 1;
  });
  const reason = await page.textContent('.message.failed .error-text');
  assert.match(reason, /The number of template variables does not match the template\. Error 132000: \(#132000\) Number of parameters/);
  assert.doesNotMatch(reason, /Error 0:/);
  await screenshot('refused-template-reason-en');

  // French and Arabic, on a wide window and on a phone: every word translated, nothing overflows.
  for (const locale of ['fr', 'ar']) {
    await page.setViewportSize({ width: 1280, height: 800 });
    await Promise.all([page.waitForNavigation(), page.click(`button[data-locale="${locale}"]`)]);
    const partLabels = (await page.locator(`${active} .template-field .part`).allTextContents()).join(' ');
    assert.match(partLabels, locale === 'fr' ? /^En-tête Corps Corps Corps Bouton 1 \(Suivi\)$/ : /^الترويسة النص النص النص الزر 1 \(Suivi\)$/);
    assert.match(await page.textContent(`${active} .preview-title`), locale === 'fr' ? /Aperçu/ : /معاينة/);
    assert.match(await page.textContent('.message.failed .error-text'),
      locale === 'fr' ? /Le nombre de variables ne correspond pas au modèle\. Erreur 132000 : \(#132000\)/
        : /عدد متغيرات القالب لا يطابق القالب\. الخطأ 132000: \(#132000\)/);
    await page.fill(`${active} input[name="var:header:first_name"]`, locale === 'ar' ? 'أمينة' : 'Amina');
    await page.fill(`${active} input[name="var:body:programme"]`, locale === 'ar' ? 'المحاسبة' : 'Comptabilité');
    await screenshot(`picker-${locale}`);
    await page.setViewportSize({ width: 390, height: 844 });
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    assert.ok(fits, `the ${locale} conversation page with the picker fits a phone-sized window`);
    await screenshot(`picker-${locale}-phone`);
  }
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');

  // Where the header and buttons are written: the outbox's template form, in Arabic on a phone.
  await signIn(users.admin, '/admin/messaging/whatsapp/templates');
  await Promise.all([page.waitForNavigation(), page.click('a:has-text("bienvenue")')]);
  await Promise.all([page.waitForNavigation(), page.click('button[data-locale="ar"]')]);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await page.inputValue('#header'), 'Bienvenue {{first_name}}');
  assert.equal(await page.inputValue('#button1_type'), 'url');
  assert.equal(await page.inputValue('#button1_url'), 'https://formation.example.dz/suivi/{{1}}');
  assert.equal(await page.inputValue('#button2_type'), 'quick_reply');
  assert.match(await page.textContent('label[for="header"]'), /الترويسة/);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
    'the Arabic template form fits a phone-sized window');
  await screenshot('template-form-ar-phone');
}
