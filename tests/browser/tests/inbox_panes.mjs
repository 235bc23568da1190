// The three-pane inbox (issue #16): on a desktop the list, the conversation and the contact panel
// side by side (mirrored in Arabic), one column on a phone; j opens the next conversation of the
// list, ? shows the shortcuts; the tab's title counts the unread messages and moves when one
// arrives live. en, fr and ar; a screenshot of each.
import { cloudApiHost, startGraph } from '../graph.mjs';

const graph = await startGraph({ prefix: 'wamid.PANES' });

export const options = cloudApiHost(graph);

export default async function ({ page, baseUrl, assert, screenshot, signIn, users, cli, until, checkWords }) {
  const webhook = `${baseUrl}/webhooks/whatsapp`;
  const inbound = (from, name, text, wamid) => {
    const step = cli(['simulate', 'inbound', '--url', webhook, '--from', from, '--name', name, '--text', text, '--wamid', wamid]);
    assert.equal(step.status, 0, step.output);
  };
  inbound('213555123456', 'Amina Benali', 'Bonjour, quand commence la session ?', 'wamid.PANES-IN1');
  inbound('213555765432', 'Karim Haddad', 'Je voudrais une formation pour mon équipe.', 'wamid.PANES-IN2');
  inbound('213661112233', 'Yacine Mansouri', 'Merci pour les informations.', 'wamid.PANES-IN3');

  await page.setViewportSize({ width: 1280, height: 800 });
  // A viewer opens conversations without reading them: the count stays as the customers left it.
  await signIn(users.viewer, '/admin/messaging/whatsapp/inbox');
  await page.waitForSelector('.conversation:has-text("Amina Benali")');
  assert.match(await page.title(), /^\(3\) Inbox/);
  await Promise.all([page.waitForNavigation(), page.click('.conversation a:has-text("Yacine Mansouri")')]);
  await page.waitForSelector('[data-live][data-live-connected]', { state: 'attached' });

  const boxes = () => page.evaluate(() => ['.pane-list', '.thread', '.panel'].map((s) => {
    const r = document.querySelector(s).getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, visible: getComputedStyle(document.querySelector(s)).display !== 'none' && r.width > 0 };
  }));
  let [list, thread, panel] = await boxes();
  assert.ok(list.visible && thread.visible && panel.visible, 'three panes on a desktop');
  assert.ok(list.x < thread.x && thread.x < panel.x, `list | conversation | panel, left to right: ${JSON.stringify([list, thread, panel])}`);
  assert.ok(Math.abs(list.y - thread.y) < 5 && Math.abs(thread.y - panel.y) < 5, 'side by side, not stacked');
  assert.equal(await page.locator('.pane-list .conversation.active').count(), 1, 'the open conversation is marked in the list');
  assert.match(await page.textContent('.pane-list .conversation.active'), /Yacine Mansouri/);
  await screenshot('panes-desktop-en');
  await checkWords('the conversation with its list', 'en');

  // j: the next conversation of the list (the list's order, newest first), opened beside it.
  const order = await page.$$eval('.pane-list .conversation a', (links) => links.map((a) => a.textContent));
  const at = order.findIndex((text) => text.includes('Yacine Mansouri'));
  assert.ok(at >= 0 && at + 1 < order.length, `Yacine is not last: ${order}`);
  const nextName = /Amina Benali|Karim Haddad/.exec(order[at + 1])[0];
  await page.click('#conversation-meta h1');  // focus on the page, not a field
  await Promise.all([page.waitForNavigation(), page.keyboard.press('j')]);
  assert.match(await page.textContent('#conversation-meta h1'), new RegExp(nextName));
  assert.match(await page.textContent('.pane-list .conversation.active'), new RegExp(nextName));
  // k goes back; typed in the search field, j is a letter.
  await page.fill('.pane-list input[name=q]', 'j');
  assert.match(await page.textContent('#conversation-meta h1'), new RegExp(nextName), 'j typed in a field moves nothing');
  await page.click('#conversation-meta h1');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('k')]);
  assert.match(await page.textContent('#conversation-meta h1'), /Yacine Mansouri/);
  await page.waitForSelector('[data-live][data-live-connected]', { state: 'attached' });

  // ?: the shortcuts, in the page's words.
  await page.keyboard.press('?');
  await page.waitForSelector('dialog.shortcuts[open]');
  assert.match(await page.textContent('dialog.shortcuts'), /Next conversation/);
  await screenshot('shortcuts-en');
  await page.keyboard.press('Escape');

  // A new message arrives: the tab's title counts it, the page is not reloaded.
  await page.evaluate(() => { window.panesNotReloaded = true; });
  assert.match(await page.title(), /^\(3\) /);
  inbound('213770445566', 'Nadia Cherif', 'Bonsoir, avez-vous des places ?', 'wamid.PANES-IN4');
  await until('the title to count the new message', async () => /^\(4\) /.test(await page.title()));
  await page.waitForSelector('.pane-list .conversation:has-text("Nadia Cherif")');
  assert.equal(await page.evaluate(() => window.panesNotReloaded), true, 'the count moved without a reload');
  await screenshot('title-count-live-en');

  // French and Arabic: the same panes, in their words; Arabic mirrored (the list on the right).
  for (const locale of ['fr', 'ar']) {
    await Promise.all([page.waitForNavigation(), page.click(`button[data-locale="${locale}"]`)]);
    await page.waitForSelector('.pane-list .conversation.active');
    [list, thread, panel] = await boxes();
    if (locale === 'ar') {
      assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
      assert.ok(list.x > thread.x && thread.x > panel.x, `Arabic mirrors the panes: ${JSON.stringify([list, thread, panel])}`);
    } else {
      assert.ok(list.x < thread.x && thread.x < panel.x);
    }
    assert.match(await page.title(), /^\(4\) /);
    await screenshot(`panes-desktop-${locale}`);
    await checkWords('the conversation with its list', locale);
    await page.keyboard.press('?');
    await page.waitForSelector('dialog.shortcuts[open]');
    await checkWords('the shortcuts', locale);
    await screenshot(`shortcuts-${locale}`);
    await page.keyboard.press('Escape');
  }

  // A phone: one column, the conversation then its panel, no list beside it; nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  [list, thread, panel] = await boxes();
  assert.ok(!list.visible, 'no list beside the conversation on a phone');
  assert.ok(panel.y > thread.y, 'the panel under the conversation');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'fits a phone');
  await screenshot('conversation-phone-ar');
  await page.goto(`${baseUrl}/admin/inbox`);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'the inbox fits a phone');
  await screenshot('inbox-phone-ar');
  await checkWords('the inbox on a phone', 'ar');
}
