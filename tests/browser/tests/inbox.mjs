// The inbox in a real browser: sign in, a simulated inbound message arrives live (no reload), open
// it (its header shows the sender's @username), reply, the ticks move as status webhooks arrive, assign, resolve, create a B2B lead, switch to
// Arabic (right to left, also on a phone-sized window); then Meta refuses the token and the inbox
// says that replies wait in the Outbox. A screenshot of each step.
import { cloudApiHost, startGraph } from '../graph.mjs';

// The Graph API's send endpoint, played here: every send is accepted with a new wamid, as Meta does.
// Once `tokenExpired` is set, every send is refused as Meta refuses an expired token.
const sends = [];
let tokenExpired = false;
const graph = await startGraph({
  answer(request, body, response, url) {
    if (request.method !== 'POST' || !url.pathname.endsWith('/messages') || body.includes('"status":"read"')) return false;
    if (tokenExpired) {
      response.statusCode = 401;
      response.end(JSON.stringify({ error: { message: 'Error validating access token: Session has expired.', type: 'OAuthException',
        code: 190, error_subcode: 463, fbtrace_id: 'BROWSER' } }));
      return true;
    }
    const wamid = `wamid.BROWSER${sends.length + 1}`;
    sends.push({ wamid, body });
    response.end(JSON.stringify({ messaging_product: 'whatsapp', contacts: [{ input: 'x', wa_id: 'x' }], messages: [{ id: wamid }] }));
    return true;
  },
});

// Read by run.mjs before it writes the host's configuration: cloud_api sends to the server above.
export const options = cloudApiHost(graph);

export default async function ({ page, baseUrl, assert, screenshot, signIn, users, cli, until }) {
  const webhook = `${baseUrl}/webhooks/whatsapp`;
  await signIn(users.agent, '/admin/messaging/whatsapp/inbox');
  assert.equal(new URL(page.url()).pathname, '/admin/messaging/whatsapp/inbox');
  await page.waitForSelector('[data-live][data-live-connected]', { state: 'attached' });
  await screenshot('inbox-empty');

  // A customer writes: the row appears on the open page, which is never reloaded.
  await page.evaluate(() => { window.inboxNotReloaded = true; });
  // She has a WhatsApp username: Meta names her by phone and by business-scoped user id.
  let step = cli(['simulate', 'inbound', '--url', webhook, '--from', '213555123456', '--user-id', 'DZ.13491208655302741918',
    '--username', 'amina.benali', '--name', 'Amina Benali',
    '--text', 'Bonjour, quand commence la prochaine session ?', '--wamid', 'wamid.BROWSER-IN1']);
  assert.equal(step.status, 0, step.output);
  await page.waitForSelector('.conversation:has-text("Amina Benali")');
  assert.equal(await page.evaluate(() => window.inboxNotReloaded), true, 'the inbox was updated without a reload');
  assert.match(await page.textContent('.conversation'), /quand commence la prochaine session/);
  assert.match(await page.textContent('.conversation .window'), /Window open until/);
  await page.waitForSelector('#inbox-unread-total .badge:has-text("1")').catch(async (e) => { throw new Error(e.message + (await page.innerHTML('.inbox-head'))); });
  await screenshot('inbox-live-message');

  // Open it and reply.
  await Promise.all([page.waitForNavigation(), page.click('.conversation a')]);
  assert.match(page.url(), /\/admin\/messaging\/whatsapp\/conversations\/\d+$/);
  await page.waitForSelector('[data-live][data-live-connected]', { state: 'attached' });
  assert.equal(await page.textContent('#conversation-meta .username'), '@amina.benali');
  await screenshot('conversation');
  await page.fill('#reply-text', 'La prochaine session commence lundi à 9 h.');
  await Promise.all([page.waitForNavigation(), page.click('.reply-form button[type=submit]')]);
  await page.waitForSelector('.message.out:has-text("La prochaine session commence lundi")');
  await until('the Graph API to receive the reply', () => sends.length === 1);
  await page.waitForSelector('.message.out .tick-sent');
  await page.evaluate(() => { window.conversationNotReloaded = true; });
  await screenshot('reply-sent');

  // Meta's status webhooks move the ticks on the open page.
  for (const status of ['delivered', 'read']) {
    step = cli(['simulate', 'status', '--url', webhook, '--wamid', sends[0].wamid, '--status', status, '--to', '213555123456']);
    assert.equal(step.status, 0, step.output);
    await page.waitForSelector(`.message.out .tick-${status}`);
  }
  assert.equal(await page.evaluate(() => window.conversationNotReloaded), true, 'the ticks moved without a reload');
  await screenshot('reply-read');

  // Assign to me, resolve, create a B2B lead: each leaves a line in the timeline.
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Assign to me")')]);
  await page.waitForSelector(`.system:has-text("assigned the conversation to ${users.agent.name}")`);
  await screenshot('assigned');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Resolve")')]);
  await page.waitForSelector('.system:has-text("resolved the conversation")');
  assert.match(await page.textContent('#conversation-meta .status'), /Resolved/);
  await screenshot('resolved');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Create a B2B lead")')]);
  await page.waitForSelector('.system:has-text("created B2B lead #")');
  assert.match(await page.textContent('.panel .lead'), /Amina Benali/);
  await screenshot('lead-created');

  // Arabic: right to left, and usable on a phone.
  await Promise.all([page.waitForNavigation(), page.click('button[data-locale="ar"]')]);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.timeline')).direction), 'rtl');
  assert.match(await page.textContent('.crumbs a'), /العودة إلى صندوق الوارد/);
  assert.equal(await page.textContent('#conversation-meta .username'), '@amina.benali', 'the username reads left to right in Arabic');
  await screenshot('conversation-ar');
  await page.setViewportSize({ width: 390, height: 844 });
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  assert.ok(fits, 'the Arabic conversation page fits a phone-sized window without horizontal scrolling');
  await screenshot('conversation-ar-phone');
  await page.goto(`${baseUrl}/admin/inbox`);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await page.locator('.sending-notice').count(), 0, 'no banner while Cloud API sends');
  await screenshot('inbox-ar-phone');

  // The token expires: the next reply is refused by Meta (190) and waits in the Outbox, and from
  // then on the inbox and the conversation say so (an agent gets no settings link).
  tokenExpired = true;
  await Promise.all([page.waitForNavigation(), page.click('.conversation a')]);
  await page.fill('#reply-text', 'Merci, à lundi.');
  await Promise.all([page.waitForNavigation(), page.click('.reply-form button[type=submit]')]);
  await until('the reply to fail over to the Outbox', async () => {
    await page.reload();
    return (await page.locator('.sending-notice').count()) === 1;
  });
  assert.match(await page.textContent('.sending-notice'), /لا تُرسل الردود عبر واجهة Cloud API/);
  assert.equal(await page.locator('.sending-notice a').count(), 0, 'an agent cannot change the settings: no link');
  await screenshot('conversation-sending-stopped-ar-phone');
  await page.goto(`${baseUrl}/admin/inbox`);
  assert.equal(await page.locator('.sending-notice').count(), 1);
  const fitsWithBanner = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  assert.ok(fitsWithBanner, 'the inbox with its banner fits a phone-sized window');
  await screenshot('inbox-sending-stopped-ar-phone');
}
