// A viewer's session in the browser: the cookie is out of reach of scripts, a state-changing
// request without the CSRF token is refused, with it accepted; and the harness's options
// (settings stored before the host starts) reach the host.
export const options = {
  settings: [['whatsapp.webhook.verify_token', 'browser-verify-token']],
};

export default async function ({ page, baseUrl, assert, screenshot, signIn, users, cli }) {
  assert.match(cli(['settings', 'get', 'whatsapp.webhook.verify_token', '--reveal']).output, /browser-verify-token/);

  await signIn(users.viewer);
  assert.equal(new URL(page.url()).pathname, '/admin');
  assert.equal(await page.evaluate(() => document.cookie.includes('tawasul_session')), false, 'HttpOnly: scripts cannot read the session');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'tawasul_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Lax', JSON.stringify(session));

  // From the page itself: without the token 403 csrf, with the token from <meta> a redirect.
  const results = await page.evaluate(async () => {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    const form = (body) => ({ method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body, redirect: 'manual' });
    const without = await fetch('/admin/locale', form('locale=fr'));
    const withToken = await fetch('/admin/locale', { ...form('locale=fr'), headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': token } });
    return { without: without.status, withToken: withToken.type === 'opaqueredirect' ? 303 : withToken.status };
  });
  assert.equal(results.without, 403);
  assert.equal(results.withToken, 303);
  await page.reload();
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');

  // A phone-sized window: the sections fold behind the menu button.
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.isVisible('label.menu-button'), 'the menu button shows on a phone');
  await screenshot('viewer-fr-phone');
}
