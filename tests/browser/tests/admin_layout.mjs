// Sign in, see the layout, switch to Arabic (the page is laid out right to left), sign out.
export default async function ({ page, baseUrl, assert, screenshot, signIn, users }) {
  await page.goto(`${baseUrl}/admin`);
  assert.match(page.url(), /\/admin\/login\?next=/, 'without a session the admin home leads to the sign-in page');
  await screenshot('sign-in');

  // A wrong password is refused with a message.
  await page.fill('#email', users.admin.email);
  await page.fill('#password', 'not the password');
  await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
  assert.equal((await page.textContent('#login-error')).trim(), 'Wrong e-mail or password.');

  await signIn(users.admin);
  assert.equal(new URL(page.url()).pathname, '/admin');
  assert.equal(await page.getAttribute('html', 'dir'), 'ltr');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.ok(await page.isVisible('#sign-out'), 'the sign-out button is shown');
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).direction), 'ltr');
  await screenshot('home-en');

  // Arabic: the document and its computed layout run right to left; the brand sits on the right.
  await Promise.all([page.waitForNavigation(), page.click('button[data-locale="ar"]')]);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await page.getAttribute('html', 'lang'), 'ar');
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).direction), 'rtl');
  const layout = await page.evaluate(() => {
    const brand = document.querySelector('.brand').getBoundingClientRect();
    const tools = document.querySelector('.tools').getBoundingClientRect();
    return { brandRight: brand.right, toolsLeft: tools.left, width: window.innerWidth };
  });
  assert.ok(layout.brandRight > layout.width / 2, `the brand is on the right in Arabic (${JSON.stringify(layout)})`);
  assert.ok(layout.toolsLeft < layout.width / 2, `the tools are on the left in Arabic (${JSON.stringify(layout)})`);
  assert.equal((await page.textContent('#sign-out')).trim(), 'تسجيل الخروج');
  await screenshot('home-ar');

  // The choice is remembered on the user: a new sign-in is still in Arabic.
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot('home-ar-phone');
  await page.setViewportSize({ width: 1200, height: 800 });

  await Promise.all([page.waitForNavigation(), page.click('#sign-out')]);
  assert.match(page.url(), /\/admin\/login$/);
  await page.goto(`${baseUrl}/admin`);
  assert.match(page.url(), /\/admin\/login\?next=/, 'after signing out the session no longer opens the admin');
  await signIn(users.admin);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl', 'the language is remembered on the user');
  await screenshot('signed-in-again-ar');
}
