// Live inbox and conversation pages: a Server-Sent Events stream says that something changed, and
// the page fetches its own URL again and swaps the regions marked data-live-region (the HTML is
// rendered and escaped by the server, so nothing here builds markup from data). EventSource
// reconnects by itself and sends Last-Event-ID; the server replays what was missed, or says
// "refresh" when it cannot. No polling: nothing is fetched unless the stream speaks.
(function () {
  'use strict';

  var root = document.querySelector('[data-live]');
  var TOPICS = ['message.received', 'message.queued', 'message.sent', 'message.status', 'conversation.updated', 'lead.created',
                'lead.updated', 'alert.raised', 'refresh'];

  function swapRegions(html) {
    var fresh = new DOMParser().parseFromString(html, 'text/html');
    if (fresh.title) document.title = fresh.title;  // "(3) Inbox": the server counts, the tab shows it
    var regions = document.querySelectorAll('[data-live-region][id]');
    for (var i = 0; i < regions.length; i++) {
      var replacement = fresh.getElementById(regions[i].id);
      if (replacement) regions[i].replaceWith(document.importNode(replacement, true));
    }
    document.dispatchEvent(new CustomEvent('inbox:refreshed'));
  }

  var pending = null;
  var inFlight = false;
  var again = false;
  function refresh() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      if (inFlight) { again = true; return; }
      inFlight = true;
      fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html) swapRegions(html); })
        .catch(function () {})
        .then(function () { inFlight = false; if (again) { again = false; refresh(); } });
    }, 150);
  }

  // An action's outcome (?done=1, ?error=...) is said once: the address loses it, so neither a
  // reload nor a live refresh (which fetches this address) shows "Done." again.
  if (window.history && window.history.replaceState && /[?&](done|error)=/.test(window.location.search)) {
    var params = new URLSearchParams(window.location.search);
    params.delete('done');
    params.delete('error');
    var query = params.toString();
    window.history.replaceState(null, '', window.location.pathname + (query ? '?' + query : '') + window.location.hash);
  }

  // A form sent back (422) is shown at the address it was posted to: the page's own address goes
  // back in the bar, so that a reload and the live refresh fetch the page, not the action.
  var pageUrl = root && root.getAttribute('data-page');
  if (pageUrl && window.history && window.history.replaceState && window.location.pathname !== pageUrl)
    window.history.replaceState(null, '', pageUrl);

  if (root && window.EventSource) {
    var state = document.querySelector('[data-live-state]');
    var lostOnce = false;
    var source = new EventSource(root.getAttribute('data-live'));
    TOPICS.forEach(function (topic) { source.addEventListener(topic, refresh); });
    source.addEventListener('open', function () {
      if (state) state.hidden = true;
      root.setAttribute('data-live-connected', '1');
      if (lostOnce) refresh();  // whatever was missed and is no longer in the server's buffer
    });
    source.addEventListener('error', function () {
      lostOnce = true;
      root.removeAttribute('data-live-connected');
      if (state) state.hidden = false;
    });
    window.addEventListener('pagehide', function () { source.close(); });
  }

  // A form sends once: the button is disabled on submit (the server dedupes by idempotency key too).
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.hasAttribute('data-once')) return;
    if (form.getAttribute('data-sent')) { event.preventDefault(); return; }
    form.setAttribute('data-sent', '1');
    var buttons = form.querySelectorAll('button[type=submit]');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
  });

  // Template picker: the chosen template's fields (the others are disabled, so they are not
  // sent) and its preview, filled as the agent types. Text only: the preview never holds markup.
  function syncTemplate(select) {
    var sets = select.form.querySelectorAll('[data-template-fields]');
    for (var i = 0; i < sets.length; i++) {
      var chosen = sets[i].getAttribute('data-template-fields') === select.value;
      sets[i].hidden = !chosen;
      sets[i].disabled = !chosen;
    }
  }
  function fillPreview(fieldset) {
    var values = {};
    var inputs = fieldset.querySelectorAll('input[data-part]');
    for (var i = 0; i < inputs.length; i++)
      values[inputs[i].getAttribute('data-part') + ':' + inputs[i].getAttribute('data-variable')] = inputs[i].value;
    var parts = fieldset.querySelectorAll('[data-preview-part]');
    for (var j = 0; j < parts.length; j++) {
      var part = parts[j].getAttribute('data-preview-part');
      parts[j].textContent = parts[j].getAttribute('data-text').replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, function (whole, name) {
        var value = values[part + ':' + name];
        return value && value.trim() ? value : whole;
      });
    }
  }
  var pickers = document.querySelectorAll('[data-template-picker]');
  for (var p = 0; p < pickers.length; p++) {
    syncTemplate(pickers[p]);
    pickers[p].addEventListener('change', function (event) { syncTemplate(event.target); });
  }
  var fieldsets = document.querySelectorAll('[data-template-fields]');
  for (var f = 0; f < fieldsets.length; f++) {
    fillPreview(fieldsets[f]);
    fieldsets[f].addEventListener('input', function (event) { fillPreview(event.currentTarget); });
  }
})();

// The agent's conveniences (issue #16): the list pane's scroll kept across conversations,
// keyboard shortcuts on a desktop, a browser notification (opt-in) for a new message in a
// conversation assigned to the user, and "typing" while the reply box is written in. Each works
// on the server-rendered page; without this script the page is the same, minus these.
(function () {
  'use strict';

  var store = window.sessionStorage;
  function load(key) { try { return store.getItem(key); } catch (e) { return null; } }
  function save(key, value) { try { store.setItem(key, value); } catch (e) { /* private mode */ } }

  var tools = document.querySelectorAll('[data-inbox-tools]');
  for (var i = 0; i < tools.length; i++) tools[i].hidden = false;

  // The list beside the conversation scrolls in its own box: where it was is where it stays.
  function listBox() { return document.querySelector('[data-list-pane] .pane-scroll'); }
  var scrollKey = 'inbox.list-scroll';
  var box = listBox();
  if (box) {
    var saved = load(scrollKey);
    if (saved !== null) box.scrollTop = parseInt(saved, 10) || 0;
    var active = box.querySelector('.conversation.active');
    if (active) {
      var top = active.offsetTop - box.offsetTop, bottom = top + active.offsetHeight;
      if (saved === null || top < box.scrollTop || bottom > box.scrollTop + box.clientHeight)
        active.scrollIntoView({ block: 'nearest' });
    }
  }
  // The inbox page (the phone's list) keeps its own scroll for the same filters.
  var inboxPage = document.querySelector('[data-live-scope="inbox"]');
  var pageKey = 'inbox.page-scroll:' + window.location.search;
  if (inboxPage && !window.location.hash) {
    var y = load(pageKey);
    if (y !== null) window.scrollTo(0, parseInt(y, 10) || 0);
  }
  window.addEventListener('pagehide', function () {
    var b = listBox();
    if (b) save(scrollKey, String(b.scrollTop));
    if (inboxPage) save(pageKey, String(window.scrollY));
  });

  // Keyboard shortcuts, on a desktop only, never while typing in a field.
  var desktop = window.matchMedia ? window.matchMedia('(min-width: 801px)') : { matches: true };
  var dialog = document.querySelector('[data-shortcuts]');
  function openHelp() { if (dialog && dialog.showModal && !dialog.open) dialog.showModal(); }
  var opener = document.querySelector('[data-shortcuts-open]');
  if (opener) opener.addEventListener('click', openHelp);
  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === 'input' || tag === 'textarea' || tag === 'select' || target.isContentEditable;
  }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-list-pane] .conversation a, [data-live-scope="inbox"] .conversation a'));
  }
  function move(step) {
    var links = rows();
    if (!links.length) return;
    var current = links.indexOf(document.activeElement);
    if (current < 0) {
      for (var j = 0; j < links.length; j++) if (links[j].getAttribute('aria-current') === 'page') current = j;
    }
    var next = current < 0 ? (step > 0 ? 0 : links.length - 1) : current + step;
    if (next < 0 || next >= links.length) return;
    // Beside a conversation, the next one opens; in the inbox list, the row is focused (Enter opens it).
    if (document.querySelector('[data-list-pane]')) window.location.href = links[next].href;
    else links[next].focus();
  }
  document.addEventListener('keydown', function (event) {
    if (!desktop.matches || event.defaultPrevented || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (dialog && dialog.open) return;  // Escape closes it (the browser's own)
    var key = event.key;
    if (event.altKey) {
      if (key === 'ArrowDown') { event.preventDefault(); move(1); }
      else if (key === 'ArrowUp') { event.preventDefault(); move(-1); }
      return;
    }
    if (key === 'j') move(1);
    else if (key === 'k') move(-1);
    else if (key === 'r') {
      var reply = document.querySelector('#reply-text, .template-form select');
      if (reply) { event.preventDefault(); reply.focus(); }
    } else if (key === 'e') {
      var resolve = document.querySelector('form[action$="/resolve"] button[type=submit]');
      if (resolve) resolve.click();
    } else if (key === '/') {
      var search = document.querySelector('.inbox-filters input[name=q]');
      if (search) { event.preventDefault(); search.focus(); }
    } else if (key === '?') {
      event.preventDefault();
      openHelp();
    } else return;
  });

  // A browser notification for a new inbound message in a conversation assigned to the user:
  // asked for with a click (the browser's permission), then shown when the live refresh brings
  // a newer such message than the page knew.
  var notifyButton = document.querySelector('[data-notify-optin]');
  var canNotify = 'Notification' in window;
  if (notifyButton && canNotify && Notification.permission === 'default') {
    notifyButton.hidden = false;
    notifyButton.addEventListener('click', function () {
      var asked = Notification.requestPermission(function () {});
      var done = function () { notifyButton.hidden = Notification.permission !== 'default'; };
      if (asked && asked.then) asked.then(done); else done();
    });
  }
  function mine() {
    var element = document.getElementById('inbox-mine');
    return element ? { latest: parseInt(element.getAttribute('data-mine-latest'), 10) || 0, url: element.getAttribute('data-mine-url'),
                       name: element.getAttribute('data-mine-name'), text: element.getAttribute('data-notify-text') } : null;
  }
  var seen = mine();
  var seenLatest = Math.max(seen ? seen.latest : 0, parseInt(load('inbox.mine-latest'), 10) || 0);
  save('inbox.mine-latest', String(seenLatest));
  document.addEventListener('inbox:refreshed', function () {
    var now = mine();
    if (!now || now.latest <= seenLatest) return;
    seenLatest = now.latest;
    save('inbox.mine-latest', String(seenLatest));
    var here = now.url && window.location.pathname === now.url && !document.hidden;
    if (!canNotify || Notification.permission !== 'granted' || here) return;
    var note = new Notification((now.text || '{name}').replace('{name}', now.name || ''), { tag: 'tawasul-inbox' });
    note.onclick = function () { window.focus(); if (now.url) window.location.href = now.url; };
  });

  // "Typing..." for the customer while the agent writes: at most once per 20 s per conversation.
  var page = document.querySelector('[data-typing]');
  var typingUrl = page && page.getAttribute('data-typing');
  var replyBox = document.getElementById('reply-text');
  if (typingUrl && replyBox && window.fetch) {
    var typingKey = 'inbox.typing:' + typingUrl;
    replyBox.addEventListener('input', function () {
      var now = Date.now();
      var last = parseInt(load(typingKey), 10) || 0;
      if (!replyBox.value.trim() || now - last < 20000) return;
      save(typingKey, String(now));
      fetch(typingUrl, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': page.getAttribute('data-csrf') } })
        .catch(function () {});
    });
  }
})();
