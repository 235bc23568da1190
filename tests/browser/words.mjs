// The rendered-text check of the browser tests (issue #15): a French or Arabic page shows no raw
// catalog key, no table name and no English word. The words come from the source tree: every
// catalog key (host/lang, plugins/*/lang), every table the migrations create, and the English
// catalogs' words that the page's own language does not use too ("Agent", "Actions" and "Contact"
// are French as well). The text checked is what a reader sees: main's and the header's innerText,
// option labels, placeholders, titles and aria-labels; leaving out what is marked as not to be
// translated (translate="no", lang="en" on an older English log line, <code>), e-mail addresses
// and links, and the allowed words (names, product names).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

// A catalog file: nested "key: value" maps (the catalogs' YAML subset), as dotted key → text.
function readCatalog(file) {
  const out = new Map();
  const stack = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const match = /^(\s*)([a-z0-9_]+):\s*(.*)$/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 2;
    stack.length = depth;
    stack.push(match[2]);
    let value = match[3].trim();
    if (!value) continue;
    if (/^".*"$/.test(value)) value = value.slice(1, -1);
    out.set(stack.join('.'), value);
  }
  return out;
}

// The Latin words of a text, lower-case (accents kept: "référence" is not "reference").
const latinWords = (text) => (text.match(/[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’-]*/g) || []).map((w) => w.toLowerCase().replace(/['’-]+$/, ''));

export function loadWords(sourceDir) {
  const catalogs = { en: new Map(), fr: new Map(), ar: new Map() };
  const dirs = [path.join(sourceDir, 'host', 'lang')];
  for (const plugin of readdirSync(path.join(sourceDir, 'plugins'))) dirs.push(path.join(sourceDir, 'plugins', plugin, 'lang'));
  for (const dir of dirs)
    for (const locale of Object.keys(catalogs)) {
      const file = path.join(dir, `${locale}.yaml`);
      if (existsSync(file)) for (const [key, value] of readCatalog(file)) catalogs[locale].set(key, value);
    }
  // Keys a page could show by mistake: those with an underscore or a dot (a bare "title" is a word).
  const keys = new Set();
  for (const key of catalogs.en.keys()) {
    if (key.includes('_') || key.includes('.')) keys.add(key);
    const last = key.split('.').pop();
    if (last.includes('_')) keys.add(last);
  }
  const tables = new Set();
  const migrationDirs = [path.join(sourceDir, 'migrations')];
  for (const plugin of readdirSync(path.join(sourceDir, 'plugins'))) migrationDirs.push(path.join(sourceDir, 'plugins', plugin, 'migrations'));
  for (const dir of migrationDirs) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')))
      for (const match of readFileSync(path.join(dir, file), 'utf8').matchAll(/CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?([a-z_0-9]+)/g))
        tables.add(match[1]);
  }
  const english = {};
  for (const locale of ['fr', 'ar']) {
    const own = new Set();
    for (const value of catalogs[locale].values()) for (const word of latinWords(value.replace(/\{[a-z_]+\}/g, ''))) own.add(word);
    const words = new Set();
    for (const value of catalogs.en.values())
      for (const word of latinWords(value.replace(/\{[a-z_]+\}/g, ''))) if (word.length >= 3 && !own.has(word)) words.add(word);
    english[locale] = words;
  }
  return { keys, tables, english };
}

// The text a reader sees on the page (see the file's comment).
export async function renderedText(page) {
  return page.evaluate(() => {
    const parts = [];
    for (const root of document.querySelectorAll('header.topbar, main')) {
      const copy = root.cloneNode(true);
      copy.querySelectorAll('[translate="no"], [lang="en"], code, script, style, template').forEach((element) => element.remove());
      // innerText needs a rendered element: measure the copy off screen.
      copy.style.position = 'absolute';
      copy.style.left = '-10000px';
      document.body.appendChild(copy);
      parts.push(copy.innerText);
      copy.remove();
    }
    for (const element of document.querySelectorAll('main option, header option'))
      if (!element.closest('[translate="no"]')) parts.push(element.textContent);
    for (const element of document.querySelectorAll('[placeholder], [title], [aria-label]'))
      for (const name of ['placeholder', 'title', 'aria-label']) if (element.getAttribute(name)) parts.push(element.getAttribute(name));
    parts.push(document.title);
    return parts.join('\n');
  });
}

// The problems of `text` shown in `locale`: raw keys, table names, and (fr, ar) English words.
export function wordProblems(words, locale, text, allow = []) {
  const allowed = new Set(allow.flatMap((name) => latinWords(name)));
  const plain = text.replace(/\S+@\S+/g, ' ').replace(/https?:\/\/\S+/g, ' ');
  const problems = [];
  for (const token of plain.match(/[A-Za-z0-9_.]+/g) || []) {
    const bare = token.replace(/^[.]+|[.]+$/g, '');
    if (words.keys.has(bare)) problems.push(`catalog key "${bare}"`);
    // A table named by a plain word ("users", "sessions") is also that word: the English check sees it in fr and ar.
    if (words.tables.has(bare) && bare.includes('_')) problems.push(`table name "${bare}"`);
  }
  if (locale !== 'en')
    for (const word of latinWords(plain))
      if (words.english[locale].has(word) && !allowed.has(word)) problems.push(`English word "${word}"`);
  return [...new Set(problems)];
}
