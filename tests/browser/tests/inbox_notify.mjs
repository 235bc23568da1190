// The optional browser notification (issue #16): with the browser's permission granted, a new
// inbound message in a conversation assigned to the signed-in agent raises one notification naming
// the customer, in the page's language, and clicking it opens that conversation; a message in a
// conversation that is not theirs raises none, and neither does one in the conversation they are
// reading. An init script stands in for window.Notification and records each `new Notification`
// (a headless browser shows none). en, fr and ar on a desktop, ar on a phone; a screenshot of each.
import { cloudApiHost, startGraph } from '../graph.mjs';

const graph = await startGraph({ prefix: 'wamid.NOTIFY' });

export const options = cloudApiHost(graph);

// Runs in every page before its own scripts: a Notification that records what it was asked to
// show (title, options) and keeps the real permission, so that the page's checks stay the browser's.
function recordNotifications() {
  const Real = window.Notification;
  const shown = [];
  function Recorded(title, options) {
    const note = { title: String(title), tag: options && options.tag, onclick: null, close() {} };
    shown.push(note);
    return note;
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = (callback) => Real.requestPermission(callback);
  window.Notification = Recorded;
  window.shownNotifications = shown;
}

const TEXT = { en: 'New message from ', fr: 'Nouveau message de ', ar: 'رسالة جديدة من ' };

export default async function ({ page, context, baseUrl, assert, screenshot, signIn, users, cli, until, checkWords }) {
  const webhook = `${baseUrl}/webhooks/whatsapp`;
  let n = 0;
  const inbound = (from, name, text) => {
    n += 1;
    const step = cli(['simulate', 'inbound', '--url', webhook, '--from', from, '--name', name, '--text', text, '--wamid', `wamid.NOTIFY-IN${n}`]);
    assert.equal(step.status, 0, step.output);
  };
  const mine = { from: '213555123456', name: 'Amina Benali' };
  const other = { from: '213555765432', name: 'Karim Haddad' };
  inbound(mine.from, mine.name, 'Bonjour, quand commence la session ?');
  inbound(other.from, other.name, 'Je voudrais une formation pour mon équipe.');

  await context.grantPermissions(['notifications'], { origin: baseUrl });
  await context.addInitScript(recordNotifications);
  await page.setViewportSize({ width: 1280, height: 800 });

  // The agent takes Amina's conversation.
  await signIn(users.agent, '/admin/messaging/whatsapp/inbox');
  await Promise.all([page.waitForNavigation(), page.click(`.conversation a:has-text("${mine.name}")`)]);
  const mineUrl = new URL(page.url()).pathname;
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Assign to me")')]);
  await page.waitForSelector(`.system:has-text("assigned the conversation to ${users.agent.name}")`);
  assert.equal(await page.evaluate(() => Notification.permission), 'granted');
  // Granted already: the button that asks for it stays hidden.
  assert.equal(await page.locator('[data-notify-optin]').isHidden(), true, 'no opt-in button once the permission is granted');

  const shown = () => page.evaluate(() => window.shownNotifications.map((note) => ({ title: note.title, tag: note.tag })));
  const live = () => page.waitForSelector('[data-live][data-live-connected]', { state: 'attached' });
  const listShows = (text) => until(`the list to show "${text}"`, async () => (await page.locator(`.conversation:has-text("${text}")`).count()) > 0);

  // Reading Amina's conversation: her new message is on the page, no notification for it.
  await live();
  inbound(mine.from, mine.name, 'Vous êtes là ?');
  await page.waitForSelector('.message:has-text("Vous êtes là ?")');
  assert.deepEqual(await shown(), [], 'no notification for the conversation being read');

  // In the inbox, in each language: Amina's new message raises one notification in its words,
  // Karim's (not assigned to the agent) none.
  for (const locale of ['en', 'fr', 'ar']) {
    await page.goto(`${baseUrl}/admin/inbox`);
    if (locale !== 'en') {
      await Promise.all([page.waitForNavigation(), page.click(`button[data-locale="${locale}"]`)]);
    }
    await live();
    assert.deepEqual(await shown(), [], `${locale}: nothing shown on opening the page (the latest message is known)`);

    const otherText = `Karim ${locale} : une question sur les tarifs`;
    inbound(other.from, other.name, otherText);
    await listShows(otherText);
    assert.deepEqual(await shown(), [], `${locale}: no notification for a conversation that is not the agent's`);

    const mineText = `Amina ${locale} : la session est-elle complète ?`;
    inbound(mine.from, mine.name, mineText);
    await listShows(mineText);
    await until(`${locale}: the notification`, async () => (await shown()).length > 0);
    assert.deepEqual(await shown(), [{ title: TEXT[locale] + mine.name, tag: 'tawasul-inbox' }], `${locale}: one notification naming the customer`);
    await screenshot(`notified-inbox-${locale}`);
    await checkWords('the inbox after a notification', locale);
  }

  // Clicking the notification opens the conversation it is about.
  await Promise.all([page.waitForNavigation(), page.evaluate(() => window.shownNotifications[0].onclick())]);
  assert.equal(new URL(page.url()).pathname, mineUrl);
  await page.waitForSelector('.message:has-text("Amina ar")');

  // A phone, in Arabic, beside another conversation (Karim's): the same one notification for Amina's.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${baseUrl}/admin/inbox`);
  await Promise.all([page.waitForNavigation(), page.click(`.conversation a:has-text("${other.name}")`)]);
  await live();
  inbound(mine.from, mine.name, 'Amina : merci, à demain.');
  await until('the notification on a phone', async () => (await shown()).length > 0);
  assert.deepEqual(await shown(), [{ title: TEXT.ar + mine.name, tag: 'tawasul-inbox' }]);
  inbound(other.from, other.name, 'Karim : merci.');
  await page.waitForSelector('.message:has-text("Karim : merci.")');
  assert.equal((await shown()).length, 1, 'Karim\'s message in the open conversation raises none');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'fits a phone');
  await screenshot('notified-conversation-phone-ar');
  await checkWords('a conversation on a phone after a notification', 'ar');
}
